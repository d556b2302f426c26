"""Sending to a subtree has one home, bot/domain/broadcasts.py, and re-sending an initiative's files one,
handlers/initiative_views.py: read from the code, so a fourth copy fails here; and what an officer's
/broadcast leaves behind (the broadcast with its total, the audit entry naming it) read from the database.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

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
