"""The durable outbox: messages to anyone but the person being answered are rows first, then sent.

``queue_messages`` writes rows inside the caller's transaction (so a notice exists only if the change it
announces was committed); ``OutboxWorker`` sends due rows through the channel's ``Deliverer`` and records
each outcome. A row stays pending until its outcome is written: a crash re-sends only what was in flight.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from bot.clock import Clock
from bot.events import Outgoing
from storage.database import Repos, Store
from storage.records import Account, OutboxItem
from storage.repos.outbox import NewOutboxItem

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5


class Outcome(StrEnum):
    """What happened to one delivery attempt."""

    SENT = "sent"
    UNREACHABLE = "unreachable"  # blocked the bot or the chat is gone: never retried
    RETRY = "retry"  # rate limited or a passing network fault
    FAILED = "failed"  # the channel refused the message itself: retrying will not help


@dataclass(frozen=True, slots=True)
class Delivery:
    """The outcome of one attempt, with how long to wait before retrying and why it failed."""

    outcome: Outcome
    retry_after: float = 0.0
    error: str | None = None


class Deliverer(Protocol):
    """A channel that can send a queued message to a chat."""

    async def deliver(self, chat_id: str, message: Outgoing) -> Delivery:
        """Send ``message`` to ``chat_id`` and say how it went."""
        ...


async def queue_messages(
    repos: Repos, recipients: Sequence[Account], message: Outgoing, kind: str, now: datetime
) -> int:
    """Queue one copy of ``message`` for every reachable recipient; returns how many were queued."""
    items = [
        NewOutboxItem(account.channel, account.chat_id, account.id, kind, message.to_json())
        for account in recipients
        if account.reachable
    ]
    await repos.outbox.enqueue(items, now)
    return len(items)


class OutboxWorker:
    """Sends due outbox rows, one at a time per row, until stopped."""

    def __init__(
        self, store: Store, clock: Clock, deliverers: Mapping[str, Deliverer], batch_size: int = 50
    ) -> None:
        self._store = store
        self._clock = clock
        self._deliverers = deliverers
        self._batch_size = batch_size
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._idle = asyncio.Event()

    def wake(self) -> None:
        """Look for due rows now (call after committing new ones)."""
        self._idle.clear()
        self._wake.set()

    def start(self) -> None:
        """Run the worker in the background."""
        self._task = asyncio.create_task(self._run(), name="outbox-worker")

    async def stop(self) -> None:
        """Stop after the message in flight."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def wait_idle(self, timeout: float = 10.0) -> None:
        """Wait until nothing is due (used by tests and the demo to let notices arrive)."""
        self.wake()
        await asyncio.wait_for(self._idle.wait(), timeout)

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            try:
                sent_any = await self.send_due()
            except Exception:
                log.exception("outbox pass failed; retrying shortly")
                sent_any = False
                await asyncio.sleep(1)
            if sent_any:
                continue
            self._idle.set()
            await self._sleep_until_next()

    async def _sleep_until_next(self) -> None:
        async with self._store.begin() as repos:
            next_at = await repos.outbox.next_due_at()
        delay = 60.0 if next_at is None else max(0.05, (next_at - self._clock.now()).total_seconds())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), min(delay, 60.0))

    async def send_due(self) -> bool:
        """Send one batch of due rows; True if there were any."""
        async with self._store.begin() as repos:
            batch = await repos.outbox.due(self._clock.now(), self._batch_size)
        for item in batch:
            await self._send(item)
        return bool(batch)

    async def _send(self, item: OutboxItem) -> None:
        deliverer = self._deliverers.get(item.channel)
        if deliverer is None:
            delivery = Delivery(Outcome.FAILED, error=f"no channel {item.channel!r} is running")
        else:
            delivery = await deliverer.deliver(item.chat_id, Outgoing.from_json(item.message))
        now = self._clock.now()
        async with self._store.begin() as repos:
            await self._record(repos, item, delivery, now)

    async def _record(self, repos: Repos, item: OutboxItem, delivery: Delivery, now: datetime) -> None:
        if delivery.outcome is Outcome.RETRY and item.attempts + 1 < MAX_ATTEMPTS:
            wait = max(delivery.retry_after, 2.0**item.attempts)
            await repos.outbox.retry_later(item.id, now + timedelta(seconds=wait), delivery.error or "retry")
            return
        status = "failed" if delivery.outcome is Outcome.RETRY else delivery.outcome.value
        await repos.outbox.finish(item.id, status, now, delivery.error)
        if delivery.outcome is Outcome.UNREACHABLE:
            await repos.accounts.set_reachable(item.channel, item.chat_id, False)
