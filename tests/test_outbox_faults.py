"""Faults a live bot meets while broadcasting, injected by the sandbox: a second instance, `kill -9`, an
outage longer than the old retry budget, a chat that answers too late. Nothing lost, nothing doubled.

The first tests check the injectors themselves and how the channel's transport names each failure.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import signal
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from telegram import Bot
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter

from bot.app import Runtime
from bot.channels.telegram.aiohttp_request import (
    AiohttpRequest,
    AnswerTimedOut,
    ConnectionDropped,
    NotConnected,
)
from bot.engine.clock import ManualClock
from bot.engine.config import ConfigError, Settings, load_settings
from bot.engine.outbox import BACKOFF_SECONDS
from bot.sandbox import TelegramSandbox
from messages import text
from storage.database import Store
from storage.records import BroadcastProgress
from storage.tables import outbox
from tests.helpers.crowd import REQUESTER, copies, crowd, queue_broadcast
from tests.helpers.processes import bot_process

pytestmark = pytest.mark.sandbox
NEWS = "Thông báo lịch họp công đoàn"


def make_bot(sandbox: TelegramSandbox, read_timeout: float = 5.0) -> Bot:
    """A Bot on the project's transport, so the tests see the errors the channel sees."""
    return Bot(
        sandbox.token, base_url=f"{sandbox.api_url}/bot", request=AiohttpRequest(read_timeout=read_timeout)
    )


@asynccontextmanager
async def running(settings: Settings, clock: ManualClock) -> AsyncIterator[Runtime]:
    """One instance of the bot, stopped cleanly at the end."""
    runtime = Runtime(settings, clock, poll_timeout=1)
    await runtime.start()
    try:
        yield runtime
    finally:
        await runtime.stop()


async def progress(store: Store, broadcast_id: int) -> BroadcastProgress:
    async with store.begin() as repos:
        [found] = await repos.broadcasts.progress([broadcast_id])
    return found


async def next_delivery(sandbox: TelegramSandbox) -> None:
    """Wait for the bot's next message, or half a second (the last may have come before we looked)."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(sandbox.wait_delivered(sandbox.delivered + 1), 0.5)


def summaries(sandbox: TelegramSandbox) -> list[str]:
    """The delivery summaries the requester received, as plain text."""
    head = text(
        "vi", "broadcasts.summary", title=NEWS, total="", sent="", uncertain="", unreachable="", failed=""
    )
    first_line = re.sub(r"<[^>]+>", "", head).splitlines()[0]
    return [m.plain_text for m in sandbox.user(REQUESTER, "Cán bộ").messages() if first_line in m.plain_text]


def expected_summary(total: int, sent: int, uncertain: int = 0, unreachable: int = 0, failed: int = 0) -> str:
    rendered = text(
        "vi",
        "broadcasts.summary",
        title=NEWS,
        total=str(total),
        sent=str(sent),
        uncertain=str(uncertain),
        unreachable=str(unreachable),
        failed=str(failed),
    )
    return re.sub(r"<[^>]+>", "", rendered)


@pytest.mark.parametrize(
    ("name", "value"),
    [("outbox_concurrency", 0), ("send_timeout", 0), ("retry_window_minutes", -1)],
)
def test_the_outbox_settings_are_checked(name: str, value: float) -> None:
    with pytest.raises(ConfigError, match=f"THIDUA_{name.upper()}: "):
        load_settings(_env_file=None, **{name: value})


# -- the injectors -------------------------------------------------------------------------------------


async def test_injected_errors_hit_the_method_and_chat_they_name(sandbox: TelegramSandbox) -> None:
    lan, minh = sandbox.user(1001, "Lan"), sandbox.user(1002, "Minh")
    sandbox.add_fault("403", chat_id=lan.user_id, times=1)
    sandbox.add_fault("400", chat_id=minh.user_id, times=1)
    server_error = sandbox.add_fault("5xx", status=500, times=2)
    async with make_bot(sandbox) as bot:
        sandbox.add_fault("429", method="getMe", retry_after=4, times=1)
        with pytest.raises(Forbidden, match="blocked"):
            await bot.send_message(lan.chat_id, "một")
        with pytest.raises(BadRequest, match=r"(?i)chat not found"):
            await bot.send_message(minh.chat_id, "hai")
        with pytest.raises(RetryAfter):
            await bot.get_me()
        for _ in range(2):
            with pytest.raises(NetworkError, match="Internal Server Error"):
                await bot.send_message(lan.chat_id, "ba")
        await bot.send_message(lan.chat_id, "bốn")
        await bot.get_me()
    assert server_error.hits == 2
    assert [m.plain_text for m in lan.messages()] == ["bốn"]
    assert minh.messages() == []


async def test_fault_rates_are_drawn_from_the_seed(sandbox: TelegramSandbox) -> None:
    async def outcomes(seed: int) -> list[bool]:
        server = TelegramSandbox(seed=seed)
        await server.start()
        user = server.user(1001, "Lan")
        server.add_fault("5xx", chat_id=user.user_id, rate=0.3)
        results = []
        try:
            async with make_bot(server) as bot:
                for number in range(40):
                    try:
                        await bot.send_message(user.chat_id, str(number))
                        results.append(True)
                    except NetworkError:
                        results.append(False)
        finally:
            await server.stop()
        return results

    first, again, other = await outcomes(7), await outcomes(7), await outcomes(8)
    assert first == again and first != other
    assert 0 < first.count(False) < 40


async def test_a_slow_answer_delivers_then_times_out_as_maybe_sent(sandbox: TelegramSandbox) -> None:
    lan = sandbox.user(1001, "Lan")
    slow = sandbox.add_fault("slow", chat_id=lan.user_id, delay=1.0, times=1)
    async with make_bot(sandbox, read_timeout=0.2) as bot:
        with pytest.raises(AnswerTimedOut):
            await bot.send_message(lan.chat_id, "chậm")
        await bot.send_message(lan.chat_id, "nhanh")
    assert slow.hits == 1
    assert [m.plain_text for m in lan.messages()] == ["chậm", "nhanh"]  # Telegram did deliver it


@pytest.mark.parametrize("delivered", [True, False])
async def test_a_dropped_connection_is_maybe_sent(sandbox: TelegramSandbox, delivered: bool) -> None:
    lan = sandbox.user(1001, "Lan")
    sandbox.add_fault("drop", chat_id=lan.user_id, delivered=delivered, times=1)
    async with make_bot(sandbox) as bot:
        with pytest.raises(ConnectionDropped):
            await bot.send_message(lan.chat_id, "rớt")
    assert len(lan.messages()) == int(delivered)


async def test_a_server_gone_down_refuses_connections_until_it_is_up_again(sandbox: TelegramSandbox) -> None:
    lan = sandbox.user(1001, "Lan")
    url = sandbox.api_url
    async with make_bot(sandbox) as bot:
        await sandbox.go_down()
        with pytest.raises(NotConnected, match="Cannot connect"):
            await bot.send_message(lan.chat_id, "mất mạng")
        await sandbox.go_up()
        await bot.send_message(lan.chat_id, "có mạng")
    assert sandbox.api_url == url
    assert [m.plain_text for m in lan.messages()] == ["có mạng"]


# -- the outbox under faults ---------------------------------------------------------------------------


async def test_two_instances_send_each_member_one_copy(
    store: Store, sandbox: TelegramSandbox, settings: Settings, clock: ManualClock
) -> None:
    users = await crowd(store, sandbox, 200)
    sandbox.add_fault("slow", delay=0.02)  # every answer takes a while: the broadcast outlasts old leases
    fast = settings.model_copy(update={"telegram_rate": 100.0})
    broadcast_id = await queue_broadcast(store, sandbox, NEWS)
    async with running(fast, clock) as first, running(fast, clock) as second:
        first.outbox.wake()
        second.outbox.wake()
        async with asyncio.timeout(60):
            while (await progress(store, broadcast_id)).finished_at is None:
                # Time passes for both, each renewing its hold every (real) second or so.
                await next_delivery(sandbox)
                clock.advance(timedelta(seconds=2))
                await first.outbox.heartbeat()
                await second.outbox.heartbeat()
                second.outbox.wake()
                first.outbox.wake()
            await first.outbox.wait_idle()
    assert [copies(user, NEWS) for user in users] == [1] * len(users)
    assert summaries(sandbox) == [expected_summary(200, 200)]
    async with store.begin() as repos:  # both stopped cleanly: nothing left claimed, the lease handed back
        counting = sa.select(sa.func.count()).where(outbox.c.claimed_by.is_not(None))
        claimed = (await repos.conn.execute(counting)).scalar()
        assert claimed == 0 and await repos.leases.expires_at("outbox") is None


async def test_an_outage_longer_than_the_old_retry_budget_loses_nothing(
    store: Store, sandbox: TelegramSandbox, settings: Settings, clock: ManualClock
) -> None:
    users = await crowd(store, sandbox, 20)
    fast = settings.model_copy(update={"telegram_rate": 1000.0})
    async with running(fast, clock) as bot:
        await sandbox.go_down()
        await queue_broadcast(store, sandbox, NEWS)
        for _ in range(10):  # ten minutes of refused connections, moving the clock past every backoff
            clock.advance(timedelta(seconds=60))
            await bot.outbox.wait_idle()
        assert sum(copies(user, NEWS) for user in users) == 0
        await sandbox.go_up()
        clock.advance(timedelta(seconds=60))  # the longest backoff
        await bot.outbox.wait_idle()
        await bot.outbox.wait_idle()  # the summary, queued when the last row settled
    assert [copies(user, NEWS) for user in users] == [1] * len(users)
    assert summaries(sandbox) == [expected_summary(20, 20)]


async def test_a_slow_chat_gets_one_copy_counted_uncertain_and_holds_nobody_up(
    store: Store, sandbox: TelegramSandbox, settings: Settings, clock: ManualClock
) -> None:
    users = await crowd(store, sandbox, 40)
    slow_user = users[0]
    sandbox.add_fault("slow", chat_id=slow_user.user_id, delay=4.0)  # answers after the 2 s send timeout
    quick = settings.model_copy(update={"send_timeout": 2.0, "telegram_rate": 1000.0})
    broadcast_id = await queue_broadcast(store, sandbox, NEWS)
    async with running(quick, clock) as bot:
        bot.outbox.wake()
        async with asyncio.timeout(20):
            await sandbox.wait_delivered(len(users))
            while (await progress(store, broadcast_id)).sent < len(users) - 1:  # noqa: ASYNC110
                await asyncio.sleep(0.02)  # the database has no event to wait on
            # Everyone else's message is sent and recorded while the slow chat's answer is still awaited.
            assert (await progress(store, broadcast_id)).pending == 1
            await sandbox.wait_delivered(len(users) + 1)  # then the summary
    assert [copies(user, NEWS) for user in users] == [1] * len(users)
    found = await progress(store, broadcast_id)
    assert (found.sent, found.uncertain, found.failed) == (39, 1, 0)
    assert summaries(sandbox) == [expected_summary(40, 39, uncertain=1)]


async def test_a_retry_due_is_sent_while_another_chats_answer_is_still_awaited(
    store: Store, sandbox: TelegramSandbox, settings: Settings, clock: ManualClock
) -> None:
    slow_user, refused_user = await crowd(store, sandbox, 2)
    sandbox.add_fault("slow", chat_id=slow_user.user_id, delay=5.0)
    refused = sandbox.add_fault("5xx", chat_id=refused_user.user_id, times=1)
    patient = settings.model_copy(update={"send_timeout": 15.0, "telegram_rate": 1000.0})
    broadcast_id = await queue_broadcast(store, sandbox, NEWS)

    async def status(user_id: int) -> tuple[str, int]:
        async with store.begin() as repos:
            query = sa.select(outbox.c.status, outbox.c.attempts).where(
                outbox.c.broadcast_id == broadcast_id, outbox.c.chat_id == str(user_id)
            )
            found, attempts = (await repos.conn.execute(query)).one()
            return found, attempts

    async with running(patient, clock) as bot:
        bot.outbox.wake()
        async with asyncio.timeout(30):
            while refused.hits < 1 or await status(refused_user.user_id) != ("pending", 1):  # noqa: ASYNC110
                await asyncio.sleep(0.02)  # the 5xx recorded, its retry due after the first backoff
            clock.advance(timedelta(seconds=BACKOFF_SECONDS + 0.1))
            while copies(refused_user, NEWS) < 1:  # noqa: ASYNC110
                await asyncio.sleep(0.02)
            # Sent again when due, not only once the slow chat's send (answered 5 s late) was settled.
            assert (await status(slow_user.user_id))[0] == "pending"
    assert [copies(user, NEWS) for user in (slow_user, refused_user)] == [1, 1]


async def test_a_dropped_connection_is_tried_once_more_then_counted_uncertain(
    store: Store, sandbox: TelegramSandbox, settings: Settings, clock: ManualClock
) -> None:
    lost, twice, fine = await crowd(store, sandbox, 3)
    sandbox.add_fault("drop", chat_id=lost.user_id, delivered=False, times=1)  # never reached Telegram
    sandbox.add_fault("drop", chat_id=twice.user_id, delivered=True, times=2)  # delivered, answer lost twice
    broadcast_id = await queue_broadcast(store, sandbox, NEWS)
    async with running(settings, clock) as bot:
        await bot.outbox.wait_idle()
        await bot.outbox.wait_idle()  # the summary
    assert [copies(user, NEWS) for user in (lost, twice, fine)] == [1, 2, 1]
    found = await progress(store, broadcast_id)
    assert (found.sent, found.uncertain, found.failed) == (2, 1, 0)
    assert summaries(sandbox) == [expected_summary(3, 2, uncertain=1)]


# -- kill -9 ---------------------------------------------------------------------------------------------


async def test_kill_9_mid_broadcast_loses_nothing_and_repeats_at_most_the_sends_in_flight(
    store: Store, sandbox: TelegramSandbox, settings: Settings, tmp_path: Path
) -> None:
    users = await crowd(store, sandbox, 300, quiet_hours=False)  # the processes run on the real clock
    broadcast_id = await queue_broadcast(store, sandbox, NEWS)
    concurrency = 8
    async with asyncio.timeout(60):
        with bot_process(settings, tmp_path, OUTBOX_CONCURRENCY=str(concurrency)) as first:
            await sandbox.wait_delivered(100)
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=10)
        at_kill = sandbox.delivered
        with bot_process(settings, tmp_path, OUTBOX_CONCURRENCY=str(concurrency)) as second:
            started = time.monotonic()
            await sandbox.wait_delivered(at_kill + 1)
            resumed_after = time.monotonic() - started
            while (await progress(store, broadcast_id)).finished_at is None:
                await next_delivery(sandbox)
            second.send_signal(signal.SIGTERM)
            assert await asyncio.to_thread(second.wait, 10) == 0
    received = [copies(user, NEWS) for user in users]
    assert min(received) == 1, "somebody was skipped"
    assert sum(received) - len(users) <= concurrency, "more repeats than sends in flight"
    # The dead process's claims lapse after 4 s (the old lease took 60 s); the rest is the new process's own
    # start-up, which a loaded machine stretches. bench/broadcast_crash.py prints the figure itself.
    assert resumed_after < 10, f"the new process sent its first message {resumed_after:.1f} s after starting"
