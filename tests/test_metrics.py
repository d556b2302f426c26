"""The reminder counters of /metrics: a sending that goes out late within the grace period counts as sent,
one beyond it as missed, each in the registry of the runtime that handled it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from bot.app import Runtime
from bot.engine.clock import ManualClock
from messages.formatting import VIETNAM
from tests.conftest import BotHolder
from tests.helpers.campaigns import campaign_running
from tests.helpers.chat import Chat

pytestmark = pytest.mark.sandbox


def at_local(day: int, month: int, hour: int) -> datetime:
    """A moment in 2026, Vietnam time, as UTC."""
    return datetime(2026, month, day, hour, tzinfo=VIETNAM).astimezone(UTC)


def reminder_counts(runtime: Runtime) -> tuple[float | None, float | None]:
    """(sent, missed) as /metrics shows them."""
    registry = runtime.metrics.registry
    return (
        registry.get_sample_value("thidua_reminders_sent_total"),
        registry.get_sample_value("thidua_reminders_missed_total"),
    )


async def restarted_at(bot: BotHolder, clock: ManualClock, moment: datetime) -> Runtime:
    """The bot stopped, the clock moved to ``moment``, a new runtime started and its sends done."""
    await bot.runtime.stop()
    clock.current = moment
    bot.runtime = Runtime(bot.settings, clock, poll_timeout=1)
    await bot.runtime.start()
    await bot.runtime.outbox.wait_idle()
    return bot.runtime


async def test_reminders_sent_and_missed_are_counted(
    chat: Callable[..., Chat], bot: BotHolder, clock: ManualClock
) -> None:
    await campaign_running(chat)
    assert reminder_counts(bot.runtime) == (0, 0)
    late = await restarted_at(bot, clock, at_local(18, 3, 10))  # two hours late: within the grace
    assert reminder_counts(late) == (1, 0)
    too_late = await restarted_at(bot, clock, at_local(22, 3, 15))  # seven hours late
    assert reminder_counts(too_late) == (0, 1)
