"""An outbox broadcast delivered to Zalo members while Zalo misbehaves, as the Telegram fault tests do: a 429,
a gateway's 5xx, an answer after the send timeout (counted uncertain, never sent again), a connection that
never reached Zalo, a blocked user, and Zalo down for a while (refused connections). Nothing lost, nothing
doubled; the officer's summary arrives on Zalo too."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import pytest

from bot.app import Runtime
from bot.engine.clock import ManualClock
from bot.engine.config import Settings, load_settings
from bot.sandbox.zalo import ZaloSandbox, ZaloUser
from messages import plain, text
from storage.database import Store
from storage.records import BroadcastProgress
from tests.helpers.crowd import link_members, queue_to_dien_luc
from tests.helpers.flows import fresh_code, linked_member_code
from tests.helpers.roster import MAI, NOW
from tests.helpers.zalo_chat import ZaloChat

pytestmark = pytest.mark.sandbox
NEWS = "Thông báo lịch họp công đoàn"
REQUESTER = "zofficer"


@pytest.fixture
def zalo_settings(db_url: str, zalo_sandbox: ZaloSandbox) -> Settings:
    """Only the Zalo channel; a short send timeout and a quick rate so the faults show in seconds."""
    return load_settings(
        _env_file=None,
        database_url=db_url,
        zalo_token=zalo_sandbox.token,
        zalo_api_url=zalo_sandbox.api_url,
        zalo_rate=200.0,
        send_timeout=1.0,
    )


@asynccontextmanager
async def running(settings: Settings, clock: ManualClock) -> AsyncIterator[Runtime]:
    """The bot, stopped cleanly at the end."""
    runtime = Runtime(settings, clock, poll_timeout=1)
    await runtime.start()
    try:
        yield runtime
    finally:
        await runtime.stop()


async def zalo_members(store: Store, sandbox: ZaloSandbox, count: int) -> list[ZaloUser]:
    """``count`` members of CĐCS Điện lực, each linked to a Zalo account, awake at any hour."""
    users = [sandbox.user(f"zuser{number}", f"Người {number}") for number in range(count)]
    await link_members(store, "zalo", [user.user_id for user in users], code_prefix="Z", quiet_hours=False)
    return users


async def queue_broadcast(store: Store, sandbox: ZaloSandbox) -> int:
    """NEWS to every linked member of CĐCS Điện lực, asked for by a Zalo officer who gets the summary."""
    sandbox.user(REQUESTER, "Cán bộ")
    return await queue_to_dien_luc(store, "zalo", REQUESTER, NEWS)


async def progress(store: Store, broadcast_id: int) -> BroadcastProgress:
    async with store.begin() as repos:
        [found] = await repos.broadcasts.progress([broadcast_id])
    return found


def copies(user: ZaloUser) -> int:
    return sum(NEWS in message.text for message in user.messages())


async def until_finished(store: Store, broadcast_id: int, runtime: Runtime, clock: ManualClock) -> None:
    """Let the outbox work, moving the clock past each retry's wait, until the broadcast is done (bounded)."""
    for _ in range(40):
        await runtime.outbox.wait_idle()
        if (await progress(store, broadcast_id)).finished_at is not None:
            await runtime.outbox.wait_idle()  # the summary, queued when the last row settled
            return
        clock.advance(timedelta(seconds=60))
    raise AssertionError("the broadcast never finished")


async def test_a_broadcast_meets_every_fault_and_each_member_gets_one_copy(
    store: Store, zalo_sandbox: ZaloSandbox, zalo_settings: Settings, clock: ManualClock
) -> None:
    quota, gateway, slow, refused, blocked, *fine = await zalo_members(store, zalo_sandbox, 8)
    zalo_sandbox.add_fault("429", chat_id=quota.chat_id, times=1)
    zalo_sandbox.add_fault("5xx", chat_id=gateway.chat_id, times=1, status=503)
    zalo_sandbox.add_fault("slow", chat_id=slow.chat_id, times=1, delay=1.5)  # after the 1 s send timeout
    zalo_sandbox.add_fault("drop", chat_id=refused.chat_id, times=1, delivered=False)  # never reached Zalo
    zalo_sandbox.block(blocked.user_id)
    broadcast_id = await queue_broadcast(store, zalo_sandbox)
    async with running(zalo_settings, clock) as bot:
        await until_finished(store, broadcast_id, bot, clock)
    assert [copies(user) for user in (quota, gateway, slow, refused, blocked, *fine)] == [
        1,
        1,
        1,
        1,
        0,
        1,
        1,
        1,
    ]
    found = await progress(store, broadcast_id)
    assert (found.total, found.sent, found.uncertain, found.unreachable, found.failed) == (8, 6, 1, 1, 0)
    summary = zalo_sandbox.messages(REQUESTER)
    assert len(summary) == 1 and "Đã gửi: 6/8" in summary[0].text
    assert "Telegram" not in summary[0].text  # a Zalo officer, members on Zalo: no other platform named
    async with store.begin() as repos:
        account = await repos.accounts.get("zalo", blocked.user_id)
    assert account is not None and account.reachable is False


async def test_zalo_down_for_a_while_delays_the_broadcast_and_loses_nothing(
    store: Store, zalo_sandbox: ZaloSandbox, zalo_settings: Settings, clock: ManualClock
) -> None:
    users = await zalo_members(store, zalo_sandbox, 5)
    async with running(zalo_settings, clock) as bot:
        await zalo_sandbox.go_down()
        broadcast_id = await queue_broadcast(store, zalo_sandbox)
        for _ in range(3):  # refused connections, the clock moved past each backoff
            bot.outbox.wake()
            await bot.outbox.wait_idle()
            clock.advance(timedelta(seconds=60))
        assert sum(copies(user) for user in users) == 0
        assert (await progress(store, broadcast_id)).pending == 5
        await zalo_sandbox.go_up()
        await until_finished(store, broadcast_id, bot, clock)
    assert [copies(user) for user in users] == [1] * 5
    assert (await progress(store, broadcast_id)).sent == 5


async def test_zalos_rate_is_a_conservative_setting(monkeypatch: pytest.MonkeyPatch, db_url: str) -> None:
    assert load_settings(_env_file=None, database_url=db_url).zalo_rate == 5.0
    monkeypatch.setenv("THIDUA_ZALO_RATE", "2.5")
    assert load_settings(_env_file=None, database_url=db_url).zalo_rate == 2.5
    runtime = Runtime(load_settings(_env_file=None, database_url=db_url, zalo_token="1:x"), ManualClock(NOW))
    await runtime.store.close()
    assert runtime.zalo is not None and runtime.zalo.rate == 2.5


async def test_a_reply_zalo_carries_out_but_answers_late_is_not_followed_by_an_apology(
    store: Store, zalo_sandbox: ZaloSandbox, zalo_settings: Settings, clock: ManualClock
) -> None:
    async with running(zalo_settings, clock) as bot:
        mai = ZaloChat(zalo_sandbox, lambda: bot, *MAI)
        await mai.send("/start")
        code = await fresh_code(mai, MAI[3])
        late = zalo_sandbox.add_fault("slow", chat_id=mai.user_id, times=1, delay=1.5)  # past the 1 s timeout
        replies = await mai.send(code)
    assert late.hits == 1
    texts = [reply.text for reply in replies]
    assert plain(text("vi", "fallback.error")) not in texts  # it was done, and its reply has arrived
    assert len(texts) == 2 and "Hoàng Thị Mai" in texts[1]  # the reply after the late one still comes
    assert await linked_member_code(store, "zalo", mai.user_id) == "DV001"


async def test_a_long_message_retried_after_its_second_part_failed_sends_only_what_is_missing(
    store: Store, zalo_sandbox: ZaloSandbox, zalo_settings: Settings, clock: ManualClock
) -> None:
    # Cut at 2,000 characters, an announcement goes in parts: a 5xx (or Zalo's quota) on the second one
    # sent the first again on the retry.
    [member] = await zalo_members(store, zalo_sandbox, 1)
    first, second = "Phần một của thông báo. " * 60, "Phần hai của thông báo. " * 60
    failed = zalo_sandbox.add_fault("5xx", chat_id=member.chat_id, times=1, after=1)
    zalo_sandbox.user(REQUESTER, "Cán bộ")
    broadcast_id = await queue_to_dien_luc(store, "zalo", REQUESTER, f"{first}\n\n{second}")
    async with running(zalo_settings, clock) as bot:
        await until_finished(store, broadcast_id, bot, clock)
    texts = [message.text for message in member.messages()]
    assert failed.hits == 1
    assert [sum(part in text for text in texts) for part in ("Phần một", "Phần hai")] == [1, 1]
    assert (await progress(store, broadcast_id)).sent == 1
