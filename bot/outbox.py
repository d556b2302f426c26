"""The durable outbox: messages to anyone but the person being answered are rows first, then sent.

``queue_messages`` writes rows inside the caller's transaction (so a notice exists only if the change it
announces was committed); ``OutboxWorker`` sends due rows through the channel's ``Deliverer`` and records
each outcome. A row stays pending until its outcome is written: a crash re-sends only what was in flight.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.events import Outgoing
from bot.quiet import quiet_until
from messages.formatting import VIETNAM
from storage.database import Repos, Store
from storage.records import Account, OutboxItem
from storage.repos.outbox import NewOutboxItem

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5  # network failures before a message is given up and recorded as failed
BACKOFF_SECONDS = 2.0  # doubled after each failed attempt
LEASE = "outbox"
LEASE_SECONDS = 60  # another instance takes over sending this long after this one stops renewing
IDLE_POLL_SECONDS = 30.0  # look for due rows at least this often even if nobody wakes the worker
QUIET_KINDS = ("reminder", "broadcast", "announcement")  # these wait for the recipient's quiet hours to end


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


BroadcastDone = Callable[[Repos, int, datetime], Awaitable[None]]


class _Recorder:
    """Collects delivery outcomes and writes them in small batches while sending goes on.

    What is sent but not yet written is what a crash may send twice, so the batches stay small.
    """

    def __init__(self, store: Store, clock: Clock, on_broadcast_done: BroadcastDone | None) -> None:
        self._store = store
        self._clock = clock
        self._on_broadcast_done = on_broadcast_done
        self._outcomes: list[tuple[OutboxItem, Delivery]] = []

    def add(self, item: OutboxItem, delivery: Delivery) -> None:
        """Remember an outcome to write with the next flush."""
        self._outcomes.append((item, delivery))

    def __len__(self) -> int:
        return len(self._outcomes)

    async def flush(self) -> None:
        """Write every outcome collected so far in one transaction, then close finished broadcasts."""
        outcomes, self._outcomes = self._outcomes, []
        if not outcomes:
            return
        now = self._clock.now()
        async with self._store.begin() as repos:
            await repos.outbox.mark_sent([item.id for item, d in outcomes if d.outcome is Outcome.SENT], now)
            for item, delivery in outcomes:
                if delivery.outcome is not Outcome.SENT:
                    await _record_failure(repos, item, delivery, now)
            for broadcast_id in {item.broadcast_id for item, _ in outcomes if item.broadcast_id is not None}:
                if await repos.broadcasts.finish_if_done(broadcast_id, now) and self._on_broadcast_done:
                    await self._on_broadcast_done(repos, broadcast_id, now)


async def _record_failure(repos: Repos, item: OutboxItem, delivery: Delivery, now: datetime) -> None:
    if delivery.outcome is Outcome.RETRY:
        rate_limited = delivery.retry_after > 0  # the channel asked us to wait: not the message's fault
        if rate_limited or item.attempts + 1 < MAX_ATTEMPTS:
            wait = delivery.retry_after if rate_limited else BACKOFF_SECONDS * 2.0**item.attempts
            await repos.outbox.retry_later(
                item.id,
                now + timedelta(seconds=wait),
                delivery.error or "retry",
                count_attempt=not rate_limited,
            )
            return
    status = "failed" if delivery.outcome is Outcome.RETRY else delivery.outcome.value
    await repos.outbox.finish(item.id, status, now, delivery.error)
    if delivery.outcome is Outcome.UNREACHABLE:
        await repos.accounts.set_reachable(item.channel, item.chat_id, False)


class OutboxWorker:
    """Sends due outbox rows until stopped: chats in parallel, each chat's messages in order.

    The pace is set by the channel (python-telegram-bot's rate limiter for Telegram); a 429 pauses every
    sending for the time the channel asks, and the row waits without losing an attempt.
    """

    def __init__(
        self,
        store: Store,
        clock: Clock,
        deliverers: Mapping[str, Deliverer],
        *,
        concurrency: int = 16,
        batch_size: int = 500,
        flush_every: int = 50,
        on_broadcast_done: BroadcastDone | None = None,
        zone: ZoneInfo = VIETNAM,
    ) -> None:
        self._store = store
        self._clock = clock
        self._deliverers = deliverers
        self._concurrency = concurrency
        self._batch_size = batch_size
        self._flush_every = flush_every
        self._recorder = _Recorder(store, clock, on_broadcast_done)
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._resume_at = 0.0  # loop time before which nothing is sent (after a 429)
        self._zone = zone
        self._instance = secrets.token_hex(6)

    def wake(self) -> None:
        """Look for due rows now (call after committing new ones)."""
        self._idle.clear()
        self._wake.set()

    def start(self) -> None:
        """Run the worker in the background."""
        self._task = asyncio.create_task(self._run(), name="outbox-worker")

    async def stop(self) -> None:
        """Stop now; what was sent is recorded, the rest stays pending for the next start."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        await self._recorder.flush()
        async with self._store.begin() as repos:
            await repos.leases.release(LEASE, self._instance)  # the next instance need not wait for expiry

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
        delay = IDLE_POLL_SECONDS
        if next_at is not None:
            delay = min(delay, max(0.05, (next_at - self._clock.now()).total_seconds()))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), delay)

    async def send_due(self) -> bool:
        """Send one batch of due rows, chats in parallel; True if there were any.

        Only the instance holding the "outbox" lease sends, so several instances never send a row twice.
        """
        now = self._clock.now()
        async with self._store.begin() as repos:
            if not await repos.leases.take(
                LEASE, self._instance, now, now + timedelta(seconds=LEASE_SECONDS)
            ):
                return False
            batch = await self._hold_quiet(repos, await repos.outbox.due(self._clock.now(), self._batch_size))
        if not batch:
            return False
        by_chat: dict[tuple[str, str], list[OutboxItem]] = {}
        for item in batch:
            by_chat.setdefault((item.channel, item.chat_id), []).append(item)
        gate = asyncio.Semaphore(self._concurrency)
        await asyncio.gather(*(self._send_chat(items, gate) for items in by_chat.values()))
        await self._recorder.flush()
        return True

    async def _hold_quiet(self, repos: Repos, batch: list[OutboxItem]) -> list[OutboxItem]:
        """Defer reminders and broadcasts whose recipient is in quiet hours; return the rest."""
        now = self._clock.now()
        ready = []
        for item in batch:
            until = quiet_until(now, self._zone, *item.quiet_hours) if item.quiet_hours else None
            if until is not None and item.kind in QUIET_KINDS:
                await repos.outbox.defer(item.id, until)
            else:
                ready.append(item)
        return ready

    async def _send_chat(self, items: list[OutboxItem], gate: asyncio.Semaphore) -> None:
        async with gate:
            for item in items:
                await self._wait_for_resume()
                delivery = await self._deliver(item)
                self._recorder.add(item, delivery)
                if len(self._recorder) >= self._flush_every:
                    await self._recorder.flush()
                if delivery.outcome is Outcome.RETRY:
                    if delivery.retry_after > 0:
                        loop_now = asyncio.get_running_loop().time()
                        self._resume_at = max(self._resume_at, loop_now + delivery.retry_after)
                    return  # the chat's later messages wait, so they never overtake this one

    async def _wait_for_resume(self) -> None:
        delay = self._resume_at - asyncio.get_running_loop().time()
        if delay > 0:
            await asyncio.sleep(delay)

    async def _deliver(self, item: OutboxItem) -> Delivery:
        deliverer = self._deliverers.get(item.channel)
        if deliverer is None:
            return Delivery(Outcome.FAILED, error=f"no channel {item.channel!r} is running")
        try:
            return await deliverer.deliver(item.chat_id, Outgoing.from_json(item.message))
        except Exception as error:  # a bug must not stop the whole broadcast: record it and go on
            log.exception("delivering outbox row %s failed", item.id)
            return Delivery(Outcome.FAILED, error=f"{type(error).__name__}: {error}"[:255])
