"""The engine's channel contract at work: a runtime with only the in-process channel starts (and collects
garbage as a service does until it stops), one without any channel stops with one line, and the engine (not
a channel) keeps one chat's updates in order while another chat is answered meanwhile, on the in-process
channel and on Telegram alike."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator, Callable

import pytest

from bot.app import NoChannel, Runtime
from bot.channels.answered import AnsweredUpdates
from bot.channels.memory import WITH_BUTTONS, MemoryChannel
from bot.engine.channel import ChatOrder
from bot.engine.clock import ManualClock
from bot.engine.collector import SERVICE_THRESHOLDS
from bot.engine.config import ConfigError, load_settings
from bot.engine.context import ChannelInfo
from bot.engine.events import Incoming
from bot.engine.router import Handled
from messages import plain, text
from storage.database import Store
from tests.conftest import BotHolder
from tests.helpers.chat import Chat
from tests.helpers.memory_chat import MemoryChat
from tests.helpers.roster import HUNG, MAI

WAIT = 10.0  # seconds any one step may take before the test gives up


def vi(key: str) -> str:
    return plain(text("vi", key))


@pytest.fixture
async def memory_only(store: Store, db_url: str, clock: ManualClock) -> AsyncIterator[Runtime]:
    """The real bot with no token set: the in-process channel is its only channel."""
    settings = load_settings(_env_file=None, database_url=db_url)
    runtime = Runtime(settings, clock, memory=MemoryChannel(WITH_BUTTONS, settings.language))
    await runtime.start()
    yield runtime
    await runtime.stop()


async def test_a_runtime_with_only_the_memory_channel_starts_and_answers(memory_only: Runtime) -> None:
    assert [channel.name for channel in memory_only.channels] == ["memory"]
    assert memory_only.telegram is None
    mai = MemoryChat(lambda: memory_only, *MAI)
    await mai.send("/start")
    assert vi("onboarding.welcome") in mai.last_text


async def test_while_a_runtime_runs_start_up_is_frozen_out_of_garbage_collection(
    store: Store, db_url: str, clock: ManualClock
) -> None:
    before = gc.get_threshold()
    settings = load_settings(_env_file=None, database_url=db_url)
    runtime = Runtime(settings, clock, memory=MemoryChannel(WITH_BUTTONS, settings.language))
    await runtime.start()
    try:
        assert gc.get_threshold() == SERVICE_THRESHOLDS
        assert gc.get_freeze_count() > 0
        mai = MemoryChat(lambda: runtime, *MAI)
        for _ in range(2):  # a collection in between changes nothing a member sees
            await mai.send("/start")
            assert vi("onboarding.welcome") in mai.last_text
            gc.collect()
    finally:
        await runtime.stop()
    assert gc.get_threshold() == before  # the process goes on as it was (the tests, the benchmarks)
    assert gc.get_freeze_count() == 0


async def test_a_channel_starts_taking_updates_with_the_collector_already_tuned(
    store: Store, db_url: str, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    at_start: list[tuple[int, int, int]] = []
    start = MemoryChannel.start

    async def noting_start(channel: MemoryChannel) -> None:
        at_start.append(gc.get_threshold())  # updates waiting would be taken from here on
        await start(channel)

    monkeypatch.setattr(MemoryChannel, "start", noting_start)
    settings = load_settings(_env_file=None, database_url=db_url)
    runtime = Runtime(settings, clock, memory=MemoryChannel(WITH_BUTTONS, settings.language))
    await runtime.start()
    await runtime.stop()
    assert at_start == [SERVICE_THRESHOLDS]


async def test_without_any_channel_start_up_stops_with_one_line(db_url: str, clock: ManualClock) -> None:
    runtime = Runtime(load_settings(_env_file=None, database_url=db_url), clock)
    try:
        with pytest.raises(NoChannel) as refused:
            await runtime.start()
    finally:
        await runtime.store.close()
    assert isinstance(refused.value, ConfigError)  # the CLI prints it as one line and exits 2
    assert str(refused.value) == "no channel is configured: set THIDUA_TELEGRAM_TOKEN or THIDUA_ZALO_TOKEN"
    assert runtime.channels == []


class SlowFirstHelp:
    """Wraps the router so that one chat's /help holds until the test lets it go, noting who got in when."""

    def __init__(self, runtime: Runtime, slow_chat: str) -> None:
        self.entered: list[tuple[str, str]] = []
        self.holding, self.release = asyncio.Event(), asyncio.Event()
        self._slow_chat = slow_chat
        self._answer = runtime.router.handle
        runtime.router.handle = self._handle  # type: ignore[method-assign]

    async def _handle(self, event: Incoming, channel: ChannelInfo) -> Handled:
        self.entered.append((event.chat_id, event.command))
        if event.chat_id == self._slow_chat and event.command == "help":
            self.holding.set()
            await asyncio.wait_for(self.release.wait(), WAIT)
        return await self._answer(event, channel)


async def test_one_chats_updates_are_answered_in_order_while_another_chat_is_answered(
    memory_only: Runtime,
) -> None:
    mai = MemoryChat(lambda: memory_only, *MAI)
    hung = MemoryChat(lambda: memory_only, *HUNG)
    gate = SlowFirstHelp(memory_only, mai.user_id)
    first = asyncio.create_task(mai.send("/help"))
    await asyncio.wait_for(gate.holding.wait(), WAIT)
    second = asyncio.create_task(mai.send("/start"))  # queued behind the slow one, in the same chat
    await asyncio.wait_for(hung.send("/start"), WAIT)  # another chat is answered meanwhile

    assert not first.done() and not second.done()
    assert vi("onboarding.welcome") in hung.last_text
    assert gate.entered == [(mai.user_id, "help"), (hung.user_id, "start")]  # Mai's second waits its turn

    gate.release.set()
    await asyncio.wait_for(asyncio.gather(first, second), WAIT)
    assert gate.entered[-1] == (mai.user_id, "start")
    texts = [message.plain_text for message in mai.messages]
    assert len(texts) == 2
    assert vi("help.title") in texts[0] and vi("onboarding.welcome") in texts[1]


async def test_a_chats_turn_is_held_in_order_and_forgotten_once_nobody_holds_or_waits() -> None:
    # A plain context manager since issue 13: still one holder at a time, and a waiter cancelled in the line
    # (a service stopping with updates in hand) leaves nothing behind, so idle chats cost nothing.
    order = ChatOrder()
    entered: list[str] = []

    async def take(name: str) -> None:
        async with order.turn("telegram", "1"):
            entered.append(name)

    async with order.turn("telegram", "1"):
        waiting = [asyncio.create_task(take(name)) for name in ("second", "cancelled", "third")]
        await asyncio.wait_for(take_other_chat(order), WAIT)  # another chat is not held up
        waiting[1].cancel()
        assert entered == []
    await asyncio.wait_for(asyncio.gather(*waiting, return_exceptions=True), WAIT)
    assert entered == ["second", "third"]
    assert not order._locks and not order._waiting


async def take_other_chat(order: ChatOrder) -> None:
    """Take and give back another chat's turn."""
    async with order.turn("telegram", "2"):
        pass


@pytest.mark.sandbox
async def test_on_telegram_the_engine_keeps_the_order_and_other_chats_still_run(
    bot: BotHolder, chat: Callable[..., Chat]
) -> None:
    runtime = bot.runtime
    assert runtime.telegram is not None
    mai, hung = chat(*MAI), chat(*HUNG)
    gate = SlowFirstHelp(runtime, str(MAI[0]))
    first = await mai.user.send("/help")
    await asyncio.wait_for(gate.holding.wait(), WAIT)
    second = await mai.user.send("/start")
    await asyncio.wait_for(hung.send("/start"), WAIT)

    assert vi("onboarding.welcome") in hung.last_text
    assert gate.entered == [(str(MAI[0]), "help"), (str(HUNG[0]), "start")]
    assert mai.messages == []

    gate.release.set()
    await runtime.telegram.wait_processed(first, WAIT)
    await runtime.telegram.wait_processed(second, WAIT)
    texts = [message.plain_text for message in mai.messages]
    assert len(texts) == 2
    assert vi("help.title") in texts[0] and vi("onboarding.welcome") in texts[1]


async def test_a_channel_keeps_only_the_newest_answered_updates() -> None:
    # Each channel kept the id of every update it answered for the life of the process: a service that
    # answers 100,000 a day grew by megabytes a day, for nothing but tests and the demo waiting on one.
    answered: AnsweredUpdates[int] = AnsweredUpdates(kept=3)
    for update_id in range(10):
        await answered.add(update_id)
    assert len(answered) == 3
    await answered.wait_for(9, timeout=WAIT)
