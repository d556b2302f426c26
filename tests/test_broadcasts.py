"""Sending to a subtree has one home, bot/domain/broadcasts.py, and re-sending an initiative's files one,
handlers/initiative_views.py: read from the code, so a fourth copy fails here; and what an officer's
/broadcast leaves behind (the broadcast with its total, the audit entry naming it) read from the database,
and the campaign's workbook counting a broadcast to its unregistered among its deliveries.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest

from messages import text
from storage.database import Store
from tests.helpers.campaigns import campaign_running
from tests.helpers.chat import Chat

ROOT = Path(__file__).resolve().parent.parent
SEND_STEPS = re.compile(r"\.broadcasts\.create\(|\.enqueue_for_subtree\(|\.broadcasts\.set_total\(")
RESEND_STEP = re.compile(r"FileOut\(\s*attachment\.")


def _places(pattern: re.Pattern[str]) -> set[str]:
    found = set()
    for folder in ("bot", "handlers"):
        for path in (ROOT / folder).rglob("*.py"):
            if pattern.search(path.read_text(encoding="utf-8")):
                found.add(path.relative_to(ROOT).as_posix())
    return found


def test_only_the_broadcasts_module_creates_queues_and_totals_a_broadcast() -> None:
    assert _places(SEND_STEPS) == {"bot/domain/broadcasts.py"}


def test_only_the_initiative_views_resend_attachments() -> None:
    assert _places(RESEND_STEP) == {"handlers/initiative_views.py"}


@pytest.mark.sandbox
async def test_a_broadcast_is_totalled_and_audited_with_its_id_and_count(
    chat: Callable[..., Chat], store: Store
) -> None:
    hung, _ = await campaign_running(chat)
    await hung.send("/thongbao")
    await hung.send("Họp công đoàn lúc 14 giờ")
    await hung.press("Tất cả đoàn viên")
    await hung.press("Xác nhận gửi")
    async with store.begin() as repos:
        entries = await repos.audit.recent(20)
        [(actor, _, subject, details)] = [e for e in entries if e[1] == "broadcast.send"]
        [progress] = await repos.broadcasts.progress([details["broadcast"]])
    assert subject == "unit:LDLD-HQ" and actor.startswith("telegram:")
    assert progress.kind == "broadcast" and progress.title == "Họp công đoàn lúc 14 giờ"
    assert progress.total == details["queued"] == 2


@pytest.mark.sandbox  # the workbook is a file, which the Telegram sandbox carries
async def test_a_broadcast_to_a_campaigns_unregistered_is_among_the_campaigns_deliveries(
    chat: Callable[..., Chat],
) -> None:
    hung, _ = await campaign_running(chat)
    await hung.send("/thongbao")
    await hung.send("Còn 3 ngày là hết hạn đăng ký, đề nghị các đồng chí hoàn thành")
    await hung.press("Chưa đăng ký")
    await hung.press("Xác nhận gửi")
    await hung.send("/baocao LDG-2026")
    assert hung.last.file_bytes is not None
    sheet = openpyxl.load_workbook(io.BytesIO(hung.last.file_bytes))[text("vi", "export.sheet_deliveries")]
    kinds = [line[0] for line in sheet.iter_rows(min_row=2, values_only=True) if line[0]]
    assert kinds == [text("vi", "export.kind_announcement"), text("vi", "export.kind_broadcast")]
