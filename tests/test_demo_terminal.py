"""The terminal demo as someone trying it types: numbers and labels for buttons, answers that are numbers,
lines that go on, the chart and the workbook saved beside the database, errors kept out of the chat."""

from __future__ import annotations

import asyncio
import io
import logging
import os
import pty
import select
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

import handlers.insights
from bot.demo import LineSource, TerminalChat, _read_entry, demo_chat, run_demo
from bot.engine.config import load_settings
from messages import plain, text
from storage.records import DialogState
from tests.helpers.roster import vietnam_today

YEAR = vietnam_today().year

pytestmark = pytest.mark.sqlite_only("the demo keeps its own SQLite file")


def shown(key: str, **params: object) -> str:
    """A catalog text as the terminal prints it."""
    return plain(text("vi", key, **params))


@pytest.fixture
async def demo(tmp_path: Path) -> AsyncIterator[TerminalChat]:
    async with demo_chat(load_settings(_env_file=None), tmp_path / "demo.db") as chat:
        yield chat


async def play(chat: TerminalChat, *entries: str) -> str:
    """Type the entries one after the other; what the last one printed."""
    out = ""
    for entry in entries:
        out = await chat.say(entry)
    return out


async def dialog_of(chat: TerminalChat) -> DialogState | None:
    async with chat.runtime.store.begin() as repos:
        return await repos.dialogs.get("telegram", str(chat.user.chat_id))


async def test_a_number_is_the_answer_where_the_step_waits_for_one(demo: TerminalChat) -> None:
    await play(demo, ":as hung", "/start", ":share", "/taophongtrao", "THU1", "Thi đua thử", ":press Bỏ qua")
    await demo.say("2")  # the kind step takes only buttons: [2] is "Đợt cao điểm"
    state = await dialog_of(demo)
    assert state is not None and state.data["kind"] == "peak"
    await play(demo, f"1/12/{YEAR + 1}", f"31/12/{YEAR + 1}", f"20/12/{YEAR + 1}", ":press Bỏ qua")
    state = await dialog_of(demo)
    assert state is not None and state.step == "initiative_target"
    await demo.say("2")  # [2] is "Quay lại" here, but the step asks for the target: 2 is the target
    state = await dialog_of(demo)
    assert state is not None and state.data["initiative_target"] == 2
    assert state.step == "individual_titles"
    await demo.say(":press 2")  # :press always presses: the second title
    state = await dialog_of(demo)
    assert state is not None and state.data["individual_titles"] == ["emulation_fighter"]


async def test_buttons_are_numbered_across_the_messages_shown(demo: TerminalChat) -> None:
    await play(demo, ":as nam", "/start", ":share", ":press Gửi yêu cầu", "bao lac", ":press 1")
    await play(demo, "Trần Văn Nam", ":press Gửi yêu cầu")
    await play(demo, ":as hung", "/start", ":share", "/yeucau", ":press Duyệt")
    await play(demo, "/phatdong XSD", ":press Phát động ngay")
    waiting = await demo.say(":as nam")  # the approval [1] Mở menu, then the announcement [2] Xem và đăng ký
    assert "[1]" in waiting and "[2]" in waiting
    page = await demo.say("2")
    assert "XSD" in page and shown("campaigns.view_button") not in page


async def test_press_finds_a_button_on_an_older_message(demo: TerminalChat) -> None:
    await play(demo, "/start", ":share", "/phongtrao")
    again = await demo.say(":press phong trào")  # the menu's "📋 Phong trào", two messages up
    assert shown("campaigns.member_head") in again
    assert await demo.say(":press Không có nút này") == shown("demo.no_button", button="Không có nút này")


async def test_the_chart_and_the_workbook_are_saved_beside_the_database(
    demo: TerminalChat, tmp_path: Path
) -> None:
    stats = await play(demo, ":as hung", "/start", ":share", f"/thongke LDG-{YEAR}")
    chart = tmp_path / f"demo-LDG-{YEAR}-thong-ke.png"
    assert shown("demo.file_saved", path=chart) in stats
    assert chart.read_bytes().startswith(b"\x89PNG")
    export = await demo.say(f"/baocao LDG-{YEAR}")
    workbook = tmp_path / f"demo-LDG-{YEAR}-{vietnam_today().isoformat()}.xlsx"  # the day in Vietnam
    assert shown("demo.file_saved", path=workbook) in export
    assert workbook.read_bytes().startswith(b"PK")
    again = await demo.say(f"/thongke LDG-{YEAR}")  # asked twice: both kept
    assert shown("demo.file_saved", path=tmp_path / f"demo-LDG-{YEAR}-thong-ke-2.png") in again
    assert chart.exists()


async def test_an_error_in_the_terminal_chat_is_one_line(
    demo: TerminalChat, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def too_slow(update_id: int, timeout: float = 10.0) -> None:
        raise TimeoutError

    assert demo.runtime.telegram is not None
    monkeypatch.setattr(demo.runtime.telegram, "wait_processed", too_slow)
    with caplog.at_level(logging.ERROR):
        out = await demo.say("/start")
    assert out == shown("demo.error", log=demo.log_file)
    assert any(record.exc_info for record in caplog.records)


async def test_entries_go_on_after_a_trailing_backslash() -> None:
    source = LineSource(io.BytesIO("Đọc sách; cuốn; 5\\\r\nSáng kiến; sáng kiến; 1\n:q\nlast\\".encode()))
    entries = [await asyncio.wait_for(_read_entry(source, echo=False), 5) for _ in range(5)]
    # A script whose last line ends with a backslash still ends: the input ran out.
    assert entries == ["Đọc sách; cuốn; 5\nSáng kiến; sáng kiến; 1", ":q", "last", None, None]


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    before = list(root.handlers)
    yield
    logging.captureWarnings(False)
    for handler in list(root.handlers):
        if handler not in before:
            root.removeHandler(handler)
            handler.close()
    for handler in before:
        if handler not in root.handlers:
            root.addHandler(handler)


async def test_a_failing_handler_leaves_an_apology_in_the_chat_and_the_traceback_in_the_log(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    restore_logging: None,
) -> None:
    def broken_chart(*args: object) -> bytes:
        raise RuntimeError("the chart broke")

    monkeypatch.setattr(handlers.insights, "_draw_chart", broken_chart)
    script = f":as hung\n/start\n:share\n/thongke LDG-{YEAR}\n".encode()
    monkeypatch.setattr(sys, "stdin", SimpleNamespace(buffer=io.BytesIO(script)))
    await asyncio.wait_for(run_demo(load_settings(_env_file=None), tmp_path / "demo.db", tour=False), 60)
    out, err = capsys.readouterr()
    assert shown("fallback.error") in out
    assert "Traceback" not in out + err and "the chart broke" not in out + err
    assert "RuntimeError: the chart broke" in (tmp_path / "demo.log").read_text(encoding="utf-8")


async def test_the_demo_year_is_ready_for_an_officer_to_walk_through_the_evaluation(
    demo: TerminalChat,
) -> None:
    page = await play(demo, ":as hung", "/start", ":share", f"/binhxet LDG-{YEAR}")
    assert "Lao động tiên tiến: 4 đề nghị, đã xét 2, đạt 2" in page
    assert "Tập thể lao động xuất sắc: 1 đề nghị" in page
    listed = await demo.say(":press Lao động tiên tiến")
    assert "Đàm Văn Toàn (CĐCS Trường THCS thị trấn Bảo Lạc): ✅ đạt (12/14 đồng ý)" in listed
    await play(demo, f"/binhxet LDG-{YEAR}", ":press Chiến sĩ thi đua cơ sở")
    card = await demo.say(":press Lương Thị Hằng")
    assert "Số hóa sổ điểm" in card and "✅ Sáng kiến cải tiến: 1/1 sáng kiến" in card
    # Lao động tiên tiến: two in the school so far (Hằng among them), so 15 % leaves no Chiến sĩ thi đua yet.
    refused = await demo.say(":press Đạt")
    assert "Vượt giới hạn" in refused and "tối đa 0" in refused


PROMPT = b"] > "  # "[mai] > ": the demo waits for the next line
TERMINAL_WAIT = 60.0  # seconds the demo may take to start, to answer a line, or to end


def _read_until(master: int, seen: bytearray, done: Callable[[], bool]) -> None:
    """Read what the demo writes to the terminal until ``done``, or the end of its output; bounded."""
    deadline = time.monotonic() + TERMINAL_WAIT
    while not done():
        assert time.monotonic() < deadline, f"the demo stopped answering: {bytes(seen[-300:])!r}"
        if select.select([master], [], [], 0.2)[0]:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the demo has ended and its side of the terminal is closed
                return
            if not chunk:
                return
            seen += chunk


def on_a_terminal(tmp_path: Path, lines: list[str], *, ctrl_c: bool) -> tuple[int, str]:
    """``python -m bot demo --terminal`` in a pseudo-terminal, as someone types: each line once the prompt
    asks for it, then Ctrl-C (SIGINT to the process group, as a terminal sends it) or ``:quit``; its exit
    status and everything it wrote there."""
    master, child_side = pty.openpty()
    env = {key: value for key, value in os.environ.items() if not key.startswith("THIDUA_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "demo", "--terminal", "--db", str(tmp_path / "demo.db")],
        stdin=child_side,
        stdout=child_side,
        stderr=child_side,
        env=env,
        start_new_session=True,
    )
    os.close(child_side)
    seen = bytearray()
    try:
        _read_until(master, seen, lambda: seen.count(PROMPT) == 1)
        for asked, line in enumerate(lines, start=2):
            os.write(master, f"{line}\n".encode())
            _read_until(master, seen, lambda asked=asked: seen.count(PROMPT) == asked)  # type: ignore[misc]
        if ctrl_c:
            os.killpg(process.pid, signal.SIGINT)
        else:
            os.write(master, b":quit\n")
        status = process.wait(timeout=TERMINAL_WAIT)
        _read_until(master, seen, lambda: False)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(master)
    return status, seen.decode("utf-8", errors="replace")


CONVERSATION = ["/start", ":share", "/sangkien"]


@pytest.mark.parametrize(
    ("typed", "ctrl_c"),
    [(CONVERSATION, False), (CONVERSATION, True), ([], True)],
    ids=["quit", "ctrl-c", "ctrl-c-at-start"],
)
def test_the_demo_in_a_terminal_ends_cleanly(tmp_path: Path, typed: list[str], ctrl_c: bool) -> None:
    # The thread waiting for the next line held sys.stdin's lock, and Python, closing sys.stdin at exit,
    # aborted ("Fatal Python error: _enter_buffered_busy", status -6) after :quit and Ctrl-C alike; a Ctrl-C
    # in the first seconds also reached the forkserver, which printed a KeyboardInterrupt traceback.
    status, written = on_a_terminal(tmp_path, typed, ctrl_c=ctrl_c)
    assert not typed or shown("initiative.ask_title") in written  # stopped with a form half-filled
    assert "Fatal Python error" not in written and "Traceback" not in written
    # Ctrl-C ends the chat as :quit does (and as Ctrl-C ends the web demo): on a line of its own, saying
    # where the conversation is kept, status 0. It left "[mai] > ^C" and the shell's prompt after it.
    assert status == 0
    assert written.rstrip().endswith(shown("demo.finished", database=tmp_path / "demo.db"))
