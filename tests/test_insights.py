"""Officers' statistics, Excel export and review report: the numbers, the chart, the workbook, the scope."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest

from bot.domain.officers import grant_officer
from messages import plain, text
from storage.database import Store
from tests.helpers.campaigns import campaign_running
from tests.helpers.chat import Chat
from tests.helpers.roster import NOW

pytestmark = pytest.mark.sandbox
PNG = b"\x89PNG\r\n\x1a\n"


async def registered_and_recognised(chat: Callable[..., Chat], store: Store) -> tuple[Chat, Chat]:
    """Hùng's campaign with Mai registered and one recognised initiative of hers worth 80 triệu."""
    hung, mai = await campaign_running(chat)
    await mai.send("/dangky LDG-2026")
    await mai.press("Lao động giỏi")
    await mai.press("Xong")
    await mai.send("Sáng kiến cải tiến; sáng kiến; 2")
    await mai.press("Xác nhận đăng ký")
    async with store.begin() as repos:
        member = await repos.members.by_code("DV001")
        campaign = await repos.campaigns.by_code("LDG-2026")
        assert member is not None and campaign is not None
        initiative_id = await repos.initiatives.create_draft(
            author_member_id=member.id, unit_id=member.unit_id, campaign_id=campaign.id, now=NOW
        )
        await repos.initiatives.update_fields(
            initiative_id,
            {
                "title": "Đọc công tơ từ xa",
                "title_key": "doc cong to tu xa",
                "field": "Kỹ thuật",
                "problem": "a",
                "before": "b",
                "steps": "c",
                "improvement": "d",
                "conditions": "e",
                "benefit": "f",
                "value_dong": 80_000_000,
            },
            NOW,
        )
        for to in ("submitted", "valid", "recognised"):
            current = await repos.initiatives.get(initiative_id)
            assert current is not None
            await repos.initiatives.move(
                initiative_id,
                version=current.version,
                from_statuses=(current.status,),
                to_status=to,
                actor="telegram:1002",
                note="",
                now=NOW,
                scores={"novelty": 8, "applicability": 9, "effect": 9} if to == "recognised" else None,
            )
    return hung, mai


async def test_stats_give_the_numbers_and_a_chart(chat: Callable[..., Chat], store: Store) -> None:
    hung, _ = await registered_and_recognised(chat, store)
    await hung.send("/thongke LDG-2026")
    message = hung.last
    assert message.kind == "photo" and message.file_bytes is not None and message.file_bytes.startswith(PNG)
    assert len(message.file_bytes) > 10_000
    words = message.plain_text
    assert "Đăng ký thi đua: 1/2 đoàn viên (50%); đã liên kết tài khoản: 2" in words
    assert "Sáng kiến: 1/431 (0,2%); hợp lệ 1; được công nhận 1" in words  # below 1%: one decimal
    assert "Dẫn đầu: Công đoàn cơ sở Điện lực Hà Quảng" in words
    assert "Cần đôn đốc: Công đoàn cơ sở Trung tâm Y tế huyện Hà Quảng" in words


async def test_an_officer_of_a_sibling_unit_sees_nothing(chat: Callable[..., Chat], store: Store) -> None:
    await registered_and_recognised(chat, store)
    await grant_officer(store, "CDN-GD", user="telegram:777", actor="test", now=NOW)
    education = chat(777, "Giáo", "Cán bộ")
    await education.send("/thongke LDG-2026")
    assert education.last_text == plain(text("vi", "problem.campaign_out_of_reach", code="LDG-2026"))
    await education.send("/baocao LDG-2026")
    assert education.last.kind == "text"


async def test_the_workbook_holds_the_subtree_with_real_dates(
    chat: Callable[..., Chat], store: Store
) -> None:
    hung, _ = await registered_and_recognised(chat, store)
    await hung.send("/baocao LDG-2026")
    message = hung.last
    assert message.kind == "document" and (message.file_name or "").endswith(".xlsx")
    assert message.file_bytes is not None
    book = openpyxl.load_workbook(io.BytesIO(message.file_bytes))
    cells = {sheet.title: [[c for c in row] for row in sheet.iter_rows(values_only=True)] for sheet in book}
    flat = {
        title: "\n".join(" | ".join(str(c) for c in row if c is not None) for row in rows)
        for title, rows in cells.items()
    }
    everything = "\n".join(flat.values())
    assert "Hoàng Thị Mai" in everything and "Đọc công tơ từ xa" in everything
    assert "0912345678" in everything.replace(" ", "") or "+84912345678" in everything
    assert len(book.sheetnames) >= 5


async def test_the_review_report_names_who_to_commend(chat: Callable[..., Chat], store: Store) -> None:
    hung, _ = await registered_and_recognised(chat, store)
    await hung.send("/tongket LDG-2026")
    report = hung.last_text
    assert "SƠ KẾT PHONG TRÀO «Lao động giỏi, lao động sáng tạo 2026»" in report
    assert "80.000.000 đ" in report and "Hoàng Thị Mai" in report


async def test_the_cli_writes_the_workbook(
    chat: Callable[..., Chat],
    store: Store,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    db_url: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from bot.cli import main

    await registered_and_recognised(chat, store)
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
