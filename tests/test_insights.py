"""Officers' statistics, Excel export and review report: the numbers, the chart, the workbook, the scope.

They run on every channel (``people``); where a channel sends no files (numbered menus), the officer gets
the figures in words and the written report instead of the chart and the workbook."""

from __future__ import annotations

import asyncio
import io
import os
import signal
from dataclasses import replace
from multiprocessing.process import BaseProcess
from pathlib import Path

import openpyxl
import pytest

from bot.engine.files import FileShelf, derive_key
from messages import formatting, plain, text
from storage import database
from storage.database import Store
from tests.conftest import MemoryBot, People
from tests.helpers.campaigns import campaign_running, register
from tests.helpers.chat import Chat
from tests.helpers.choices import body, carries_file
from tests.helpers.files import attached, sends_files
from tests.helpers.flows import grant_by_account
from tests.helpers.initiatives import stored_initiative
from tests.helpers.memory_chat import MemoryChat
from tests.helpers.roster import NOW

PNG = b"\x89PNG\r\n\x1a\n"
WAIT_BOUND = 60.0  # seconds: a bound on every wait for another task or process, never reached if all is well


async def registered_and_recognised(
    people: People, store: Store
) -> tuple[Chat | MemoryChat, Chat | MemoryChat]:
    """Hùng's campaign with Mai registered and one recognised initiative of hers worth 80 triệu."""
    hung, mai = await campaign_running(people)
    await register(mai, pledges="Sáng kiến cải tiến; sáng kiến; 2")
    async with store.begin() as repos:
        campaign = await repos.campaigns.by_code("LDG-2026")
    assert campaign is not None
    await stored_initiative(
        store,
        "DV001",
        campaign.id,
        "Đọc công tơ từ xa",
        ("submitted", "valid", "recognised"),
        NOW,
        details={
            "field": "Kỹ thuật",
            "problem": "a",
            "before": "b",
            "steps": "c",
            "improvement": "d",
            "conditions": "e",
            "benefit": "f",
            "value_dong": 80_000_000,
        },
        scores={"novelty": 8, "applicability": 9, "effect": 9},
        actor="telegram:1002",
    )
    return hung, mai


@pytest.mark.telegram
@pytest.mark.zalo
async def test_stats_give_the_numbers_and_a_chart(people: People, store: Store) -> None:
    hung, _ = await registered_and_recognised(people, store)
    replies = await hung.send("/thongke LDG-2026")
    chart = attached(hung.last)
    if sends_files(hung):
        assert chart is not None and chart.is_photo and chart.content.startswith(PNG)
        assert len(chart.content) > 10_000
    else:  # the figures in words, and no caption of a chart that is not there
        assert chart is None and len(replies) == 1
        assert not carries_file(replies[0])  # on Zalo polling without a public address: not even a link
    words = hung.last_text
    assert "Đăng ký thi đua: 1/2 đoàn viên (50%); đã liên kết tài khoản: 2" in words
    assert "Sáng kiến: 1/431 (0,2%); hợp lệ 1; được công nhận 1" in words  # below 1%: one decimal
    assert "Dẫn đầu: Công đoàn cơ sở Điện lực Hà Quảng" in words
    assert "Cần đôn đốc: Công đoàn cơ sở Trung tâm Y tế huyện Hà Quảng" in words


async def test_an_officer_of_a_sibling_unit_sees_nothing(people: People, store: Store) -> None:
    await registered_and_recognised(people, store)
    await grant_by_account(store, "CDN-GD", people.channel, people.user_id(777))
    education = people(777, "Giáo", "Cán bộ")
    await education.send("/thongke LDG-2026")
    assert education.last_text == plain(text("vi", "problem.campaign_out_of_reach", code="LDG-2026"))
    await education.send("/baocao LDG-2026")
    assert attached(education.last) is None


@pytest.mark.telegram
@pytest.mark.zalo
async def test_the_workbook_holds_the_subtree_with_real_dates(people: People, store: Store) -> None:
    hung, _ = await registered_and_recognised(people, store)
    replies = await hung.send("/baocao LDG-2026")
    workbook = attached(hung.last)
    if not sends_files(hung):  # what it says instead: test_without_files_an_export_says_where_to_get...
        assert not any(carries_file(reply) for reply in replies)
        assert plain(text("vi", "insights.export_no_files", code="LDG-2026")) in [body(r) for r in replies]
        return
    assert workbook is not None and not workbook.is_photo and workbook.name.endswith(".xlsx")
    book = openpyxl.load_workbook(io.BytesIO(workbook.content))
    cells = {sheet.title: [[c for c in row] for row in sheet.iter_rows(values_only=True)] for sheet in book}
    flat = {
        title: "\n".join(" | ".join(str(c) for c in row if c is not None) for row in rows)
        for title, rows in cells.items()
    }
    everything = "\n".join(flat.values())
    assert "Hoàng Thị Mai" in everything and "Đọc công tơ từ xa" in everything
    assert "0912345678" in everything.replace(" ", "") or "+84912345678" in everything
    assert len(book.sheetnames) >= 5


@pytest.mark.parametrize("channel_kind", ["memory-menus"])
async def test_without_files_an_export_says_where_to_get_the_workbook_and_gives_the_report(
    people: People, store: Store
) -> None:
    hung, _ = await registered_and_recognised(people, store)
    await hung.send("/tongket LDG-2026")
    report = hung.last_text
    replies = await hung.send("/baocao LDG-2026")
    assert [attached(reply) for reply in replies] == [None, None]
    assert replies[0].plain_text == plain(text("vi", "insights.export_no_files", code="LDG-2026"))
    assert replies[1].plain_text == report and "Hoàng Thị Mai" in report


async def test_the_review_report_names_who_to_commend(people: People, store: Store) -> None:
    hung, _ = await registered_and_recognised(people, store)
    await hung.send("/tongket LDG-2026")
    report = hung.last_text
    assert "SƠ KẾT PHONG TRÀO «Lao động giỏi, lao động sáng tạo 2026»" in report
    assert "80.000.000 đ" in report and "Hoàng Thị Mai" in report


@pytest.mark.parametrize("channel_kind", ["memory-buttons"])  # the CLI's export: one channel sets it up
async def test_the_cli_writes_the_workbook(
    people: People,
    store: Store,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    db_url: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from bot.cli import main

    await registered_and_recognised(people, store)
    monkeypatch.setenv("THIDUA_DATABASE_URL", db_url)
    out = tmp_path / "ldg.xlsx"
    import asyncio

    status = await asyncio.to_thread(main, ["export", "--campaign", "LDG-2026", "--out", str(out)])
    assert status == 0
    assert (
        capsys.readouterr().out.strip() == f"{out}: 1 registration, 1 initiative"
    )  # English, in the singular
    book = openpyxl.load_workbook(out)
    assert len(book.sheetnames) >= 5


def limited(person: MemoryChat, upload_limit: int) -> None:
    """The person's in-process channel takes files of at most ``upload_limit`` bytes from now on."""
    person.channel.capabilities = replace(person.channel.capabilities, upload_limit=upload_limit)


def book_text(content: bytes) -> str:
    """Every cell of a workbook, one line a row."""
    book = openpyxl.load_workbook(io.BytesIO(content))
    return "\n".join(
        " | ".join(str(cell) for cell in row if cell is not None)
        for sheet in book
        for row in sheet.iter_rows(values_only=True)
    )


async def whole_workbook(hung: MemoryChat) -> bytes:
    """The workbook /export gives when the channel takes it whole."""
    await hung.send("/baocao LDG-2026")
    whole = attached(hung.last)
    assert whole is not None
    return whole.content


@pytest.mark.parametrize("channel_kind", ["memory-buttons"])
async def test_a_workbook_over_the_channels_limit_is_split_by_the_units_below(
    people: People, store: Store
) -> None:
    hung, _ = await registered_and_recognised(people, store)
    assert isinstance(hung, MemoryChat)
    whole = await whole_workbook(hung)
    limited(hung, len(whole) - 1)
    head, *parts = await hung.send("/baocao LDG-2026")
    sizes = {"size": formatting.file_size(len(whole)), "limit": formatting.file_size(len(whole) - 1)}
    assert plain(text("vi", "insights.export_split", count=2, **sizes)) in head.plain_text
    assert attached(head) is None and len(parts) == 2
    units = ("Công đoàn cơ sở Điện lực Hà Quảng", "Công đoàn cơ sở Trung tâm Y tế huyện Hà Quảng")
    captions = {
        plain(text("vi", "insights.export_part", number=n, count=2, unit=u)) for n in (1, 2) for u in units
    }
    books = {}
    for part in parts:
        assert part.plain_text in captions
        book = attached(part)
        assert book is not None and len(book.content) < len(whole)
        books[next(unit for unit in units if part.plain_text.endswith(unit))] = book_text(book.content)
    power, health = (books[unit] for unit in units)
    assert "Hoàng Thị Mai" in power and "Đọc công tơ từ xa" in power
    assert "Hoàng Thị Mai" not in health and "Công đoàn cơ sở Trung tâm Y tế huyện Hà Quảng" in health


@pytest.mark.parametrize("channel_kind", ["memory-buttons"])
async def test_a_workbook_over_the_limit_goes_as_a_link_where_the_service_has_an_address(
    people: People, store: Store, memory_bot: MemoryBot
) -> None:
    hung, _ = await registered_and_recognised(people, store)
    assert isinstance(hung, MemoryChat)
    whole = await whole_workbook(hung)
    shelf = FileShelf(memory_bot.clock, derive_key("secret"), "https://bot.example.vn", store)
    memory_bot.runtime.router.files = shelf  # as THIDUA_WEBHOOK_URL gives it
    limited(hung, 1_000)
    replies = await hung.send("/baocao LDG-2026")
    assert len(replies) == 1 and attached(replies[0]) is None
    words = replies[0].plain_text
    sizes = {"size": formatting.file_size(len(whole)), "limit": "1 KB"}
    assert plain(text("vi", "insights.export_as_link", **sizes)) in words
    token = words.split("https://bot.example.vn/files/")[1].split()[0]
    kept = await shelf.open(token)
    assert kept.name.endswith(".xlsx") and "Hoàng Thị Mai" in book_text(kept.content)


@pytest.mark.parametrize("channel_kind", ["memory-buttons"])
async def test_a_workbook_that_no_split_brings_within_the_limit_says_how_to_get_it(
    people: People, store: Store
) -> None:
    hung, _ = await registered_and_recognised(people, store)
    assert isinstance(hung, MemoryChat)
    limited(hung, 1_000)  # smaller than any workbook
    replies = await hung.send("/baocao LDG-2026")
    assert [attached(reply) for reply in replies] == [None]
    assert "thidua export --campaign LDG-2026" in replies[0].plain_text
    assert "1 KB" in replies[0].plain_text


@pytest.mark.parametrize("channel_kind", ["memory-buttons"])
async def test_a_member_is_answered_while_an_export_is_still_being_built(
    people: People, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The export's child process is stopped (SIGSTOP) as soon as it starts, until Mai's /start has been
    answered: had the workbook been built on the event loop, or the bot waited for its child blocking the
    loop, Mai would wait for it."""
    hung, mai = await registered_and_recognised(people, store)
    started = asyncio.Event()
    children: list[int] = []
    exited = database._exited

    async def stopped_at_start(process: BaseProcess) -> None:
        assert process.pid is not None
        os.kill(process.pid, signal.SIGSTOP)
        children.append(process.pid)
        started.set()
        await exited(process)

    monkeypatch.setattr(database, "_exited", stopped_at_start)
    export = asyncio.create_task(hung.send("/baocao LDG-2026"))
    await asyncio.wait_for(started.wait(), WAIT_BOUND)
    await asyncio.wait_for(mai.send("/start"), WAIT_BOUND)
    assert "Hoàng Thị Mai" in mai.last_text
    assert not export.done()
    os.kill(children[0], signal.SIGCONT)
    await asyncio.wait_for(export, WAIT_BOUND)
    workbook = attached(hung.last)
    assert workbook is not None and "Hoàng Thị Mai" in book_text(workbook.content)
