"""The demo's Zalo persona: Hằng, linked at seeding (Zalo shares no contact), sees plain text and numbered
lists, answers them by number or words, and cannot share a phone number."""

from __future__ import annotations

import asyncio
import io
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from bot.demo import TerminalChat, demo_chat, run_demo
from bot.engine.config import load_settings
from messages import plain, text

pytestmark = [pytest.mark.sandbox, pytest.mark.sqlite_only("the demo keeps its own SQLite file")]


def shown(key: str, **params: object) -> str:
    return plain(text("vi", key, **params))


@pytest.fixture
async def demo(tmp_path: Path) -> AsyncIterator[TerminalChat]:
    async with demo_chat(load_settings(_env_file=None), tmp_path / "demo.db") as chat:
        yield chat


async def test_the_zalo_persona_reads_numbered_menus_and_answers_them(demo: TerminalChat) -> None:
    await demo.say(":as hang")
    start = await demo.say("/start")
    assert "Lương Thị Hằng" in start and shown("menu.choose_by_number") in start
    assert "🤖 1. 📋 Phong trào" in start and "<b>" not in start
    campaigns = await demo.say("1")  # a number answers the numbered list
    assert "Lao động giỏi" in campaigns
    assert "❓ Hướng dẫn" in await demo.say("/start")
    assert "/help (/huongdan)" in await demo.say(":press huong dan")  # :press types the words
    assert await demo.say(":share") == shown("demo.zalo_no_contact")
    assert "hang" in await demo.say(":as nobody")  # the personas offered name her
    await demo.say(":as mai")  # and back on Telegram, buttons again
    assert "[1]" in await demo.say("/start")


async def test_the_tour_ends_on_zalo(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", SimpleNamespace(buffer=io.BytesIO(b"")))
    await asyncio.wait_for(run_demo(load_settings(_env_file=None), tmp_path / "demo.db", tour=True), 120)
    out = capsys.readouterr().out
    assert "—— hang ——" in out and "[hang] > 1" in out
    assert out.rstrip().splitlines()[-1].startswith("🤖")
