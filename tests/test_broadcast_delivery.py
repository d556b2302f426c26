"""The durable outbox under stress: a restart halfway through a launch broadcast, flood control (429),
members who blocked the bot (403), and a network that stays down (backoff for the retry window, then given
up)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta

import pytest
import sqlalchemy as sa

from bot.engine.clock import ManualClock
from bot.sandbox import SandboxUser, TelegramSandbox
from storage.database import Store
from storage.tables import outbox
from tests.conftest import BotHolder
from tests.helpers.campaigns import stored_draft
from tests.helpers.chat import Chat
from tests.helpers.crowd import crowd
from tests.helpers.flows import linked
from tests.helpers.roster import HUNG

pytestmark = pytest.mark.sandbox
ANNOUNCEMENT = "phát động phong trào thi đua"


def announcements(user: SandboxUser) -> int:
    return sum(ANNOUNCEMENT in message.plain_text for message in user.messages())


async def start_launch(officer: Chat, bot: BotHolder, code: str = "TCN-2026") -> None:
    await officer.send(f"/phatdong {code}")
    update_id = await officer.user.press("Phát động ngay")  # not waited for: the broadcast goes on
    assert bot.runtime.telegram is not None
    await bot.runtime.telegram.wait_processed(update_id)


async def test_a_restart_halfway_delivers_every_announcement_once(
    chat: Callable[..., Chat], store: Store, sandbox: TelegramSandbox, bot: BotHolder
) -> None:
    users = await crowd(store, sandbox, 60)
    await stored_draft(store)
    hung = await linked(chat, HUNG)
    await start_launch(hung, bot)
    async with asyncio.timeout(20):
        while sum(announcements(user) for user in users) < 15:  # noqa: ASYNC110 - the sandbox has no event
            await asyncio.sleep(0.01)
    await bot.restart()
    await bot.runtime.outbox.wait_idle(timeout=30)
    received = [announcements(user) for user in users]
    assert min(received) == 1, "somebody was skipped"
    assert sum(received) - len(users) <= 4, "more repeats than messages in flight at the restart"
    assert sum("Đã gửi: 61/61" in m.plain_text for m in hung.messages) == 1  # the crowd and Hùng


async def test_flood_control_and_blocked_members(
    chat: Callable[..., Chat], store: Store, sandbox: TelegramSandbox, bot: BotHolder, clock: ManualClock
) -> None:
    users = await crowd(store, sandbox, 5)
    sandbox.block(users[0].user_id)
    await stored_draft(store)
    hung = await linked(chat, HUNG)
    await hung.send("/phatdong TCN-2026")
    sandbox.fail_next("sendMessage", retry_after=1)  # the broadcast's first message meets flood control
    await hung.press("Phát động ngay")
    clock.advance(timedelta(seconds=1))  # the time Telegram asked to wait
    await bot.runtime.outbox.wait_idle(timeout=20)
    assert [announcements(user) for user in users] == [0, 1, 1, 1, 1]
    assert announcements(hung.user) == 1
    summary = [m.plain_text for m in hung.messages if "Đã gửi xong" in m.plain_text]
    assert len(summary) == 1
    unreachable = next(line for line in summary[0].splitlines() if line.startswith("🚫"))
    assert "Đã gửi: 5/6" in summary[0] and unreachable.endswith(": 1")
    async with store.begin() as repos:
        blocked = await repos.accounts.get("telegram", str(users[0].user_id))
    assert blocked is not None and blocked.reachable is False


async def test_a_network_down_longer_than_the_retry_window_fails_the_message_with_its_reason(
    chat: Callable[..., Chat], store: Store, sandbox: TelegramSandbox, bot: BotHolder, clock: ManualClock
) -> None:
    users = await crowd(store, sandbox, 2)
    await stored_draft(store)
    hung = await linked(chat, HUNG)
    await hung.send("/phatdong TCN-2026")
    sandbox.break_next("sendMessage", times=999, chat_id=users[0].user_id)  # this member's line stays down
    sandbox.break_next("sendMessage", times=2, chat_id=users[1].user_id)  # this one's comes back
    await hung.press("Phát động ngay")
    for _ in range(32):  # backoff 2, 4, 8... capped at a minute: move the clock past the 30-minute window
        clock.advance(timedelta(seconds=60))
        await bot.runtime.outbox.wait_idle()
    async with store.begin() as repos:
        first = await repos.outbox.statuses(str(users[0].user_id))
        second = await repos.outbox.statuses(str(users[1].user_id))
        reasons = (
            await repos.conn.execute(sa.select(outbox.c.error).where(outbox.c.status == "failed"))
        ).scalars()
        assert list(reasons) == ["Bad Gateway"]
    # Retried for 30 minutes, then given up with the reason; the second got through once the line was back.
    assert first == [(str(users[0].user_id), "announcement", "failed")]
    assert second == [(str(users[1].user_id), "announcement", "sent")]
    assert announcements(users[1]) == 1
    summary = [m.plain_text for m in hung.messages if "Đã gửi xong" in m.plain_text]
    assert len(summary) == 1 and "Lỗi: 1" in summary[0]
