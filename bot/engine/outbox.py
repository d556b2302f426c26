"""The durable outbox: messages to anyone but the person being answered are rows first, then sent.

``queue_messages`` writes rows inside the caller's transaction (so a notice exists only if the change it
announces was committed). ``OutboxWorker`` claims due rows (by this instance, until a few seconds from now,
renewed every second while it lives), sends them through the channel's ``Deliverer`` and has each outcome
committed before that sender starts its next message: a crash sends again at most one message per sender,
and a second instance never sends a row another one holds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import secrets
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol
from zoneinfo import ZoneInfo

from bot.engine.clock import Clock
from bot.engine.events import Outgoing
from bot.engine.logs import log_failure
from bot.engine.metrics import Metrics
from bot.engine.quiet import quiet_until
from messages.formatting import VIETNAM
from storage.database import Repos, Store
from storage.records import Account, OutboxItem
from storage.repos.outbox import NewOutboxItem

log = logging.getLogger(__name__)

BACKOFF_SECONDS = 2.0  # the first wait after a network failure, doubled after each one...
BACKOFF_CAP_SECONDS = 60.0  # ...up to this, each wait shortened by a random 0-50% so retries spread out
RETRY_WINDOW = timedelta(minutes=30)  # how long a network outage is waited out before a message fails
LEASE = "outbox"  # only its holder claims rows, so one instance paces the sends against the token's rate
CLAIM_SECONDS = 4.0  # a claim (and the lease) lapses this long after its holder stops renewing it
HEARTBEAT_SECONDS = 1.0  # how often, in real time, a live instance renews its claims and the lease
IDLE_POLL_SECONDS = 30.0  # look for due rows at least this often even if nobody wakes the worker
STOP_GRACE_SECONDS = 5.0  # a clean stop lets the sends in flight finish this long, so they are recorded
QUIET_KINDS = ("reminder", "broadcast", "announcement")  # these wait for the recipient's quiet hours to end


class Outcome(StrEnum):
    """What happened to one delivery attempt."""

    SENT = "sent"
    UNREACHABLE = "unreachable"  # blocked the bot or the chat is gone: never retried
    RETRY = "retry"  # rate limited, a server error or a request that never left: safe to send again
    FAILED = "failed"  # the channel refused the message itself: retrying will not help
    UNCERTAIN = "uncertain"  # no answer in time: perhaps delivered, so never sent again


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


def backoff_seconds(failures: int) -> float:
    """How long to wait after the ``failures``-th network failure in a row (counting from 0)."""
    ceiling = min(BACKOFF_CAP_SECONDS, BACKOFF_SECONDS * 2.0 ** min(failures, 16))
    return ceiling * random.uniform(0.5, 1.0)


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


class Pacer:
    """Lets sends start at most ``rate`` a second, a tenth of a second's worth at once.

    The channel's own limiter still enforces the rate for everything; pacing the worker to it means only
    the sends about to go wait in that limiter, so a direct reply never queues behind a whole broadcast
    however many senders are waiting for slow chats.
    """

    def __init__(self, rate: float) -> None:
        self._interval = 1.0 / rate
        self._burst = max(1.0, rate / 10)
        self._tokens = self._burst
        self._stamp: float | None = None
        self._lock = asyncio.Lock()

    async def wait(self) -> None:
        """Return when the next send may start."""
        async with self._lock:
            loop = asyncio.get_running_loop()
            while True:
                now = loop.time()
                if self._stamp is not None:
                    self._tokens = min(self._burst, self._tokens + (now - self._stamp) / self._interval)
                self._stamp = now
                if self._tokens >= 1:
                    self._tokens -= 1
                    return
                await asyncio.sleep((1 - self._tokens) * self._interval)


class _Recorder:
    """Writes delivery outcomes by group commit: each sender hands its outcome in and waits; one writer
    commits everything waiting in one transaction, then lets them all go on.

    So nothing a sender delivered is unrecorded once it starts its next message: what a crash can send
    twice is at most one message per sender.
    """

    def __init__(
        self,
        store: Store,
        clock: Clock,
        holder: str,
        retry_window: timedelta,
        on_broadcast_done: BroadcastDone | None,
        on_finished: Callable[[], None],
        metrics: Metrics,
    ) -> None:
        self._store = store
        self._metrics = metrics
        self._clock = clock
        self._holder = holder
        self._retry_window = retry_window
        self._on_broadcast_done = on_broadcast_done
        self._on_finished = on_finished
        self._outcomes: list[tuple[OutboxItem, Delivery, asyncio.Future[None]]] = []
        self._releases: list[int] = []
        self._ready = asyncio.Event()
        self._closing = False

    async def record(self, item: OutboxItem, delivery: Delivery) -> None:
        """Return once the outcome is committed."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._outcomes.append((item, delivery, done))
        self._ready.set()
        await done

    def release(self, items: Sequence[OutboxItem]) -> None:
        """Give up the claims on messages that will not be sent now (with the next commit)."""
        if items:
            self._releases.extend(item.id for item in items)
            self._ready.set()

    async def run(self) -> None:
        """Commit whatever is waiting, until closed and everything handed in is written."""
        while not (self._closing and not self._outcomes and not self._releases):
            await self._ready.wait()
            # One turn of the loop first: the senders whose answers came in the same turn hand theirs in
            # too, so a commit carries many outcomes (a commit on the loop returns before any could).
            await asyncio.sleep(0)
            self._ready.clear()
            await self.write_waiting()

    def close(self) -> None:
        """Let ``run`` end once what is waiting is written."""
        self._closing = True
        self._ready.set()

    async def write_waiting(self) -> None:
        """Commit every outcome and release handed in so far, retrying until the database takes them."""
        outcomes, self._outcomes = self._outcomes, []
        releases, self._releases = self._releases, []
        if not outcomes and not releases:
            return
        while True:
            try:
                finished = await self._write([(item, d) for item, d, _ in outcomes], releases)
                break
            except Exception as error:
                log_failure(log, f"could not record {len(outcomes)} outbox outcomes; trying again", error)
                await asyncio.sleep(1)
        for item, delivery, _ in outcomes:  # counted once committed, as the database has them
            self._metrics.deliveries.labels(item.channel, delivery.outcome.value).inc()
        for _, _, done in outcomes:
            if not done.done():
                done.set_result(None)
        if finished:
            self._on_finished()

    async def _write(self, outcomes: list[tuple[OutboxItem, Delivery]], releases: list[int]) -> bool:
        now = self._clock.now()
        finished = False
        async with self._store.begin() as repos:
            await repos.outbox.mark_sent([item.id for item, d in outcomes if d.outcome is Outcome.SENT], now)
            for item, delivery in outcomes:
                if delivery.outcome is not Outcome.SENT:
                    await _record_failure(repos, item, delivery, now, self._retry_window)
            if releases:
                await repos.outbox.release(self._holder, releases)
            for broadcast_id in {item.broadcast_id for item, _ in outcomes if item.broadcast_id is not None}:
                if await repos.broadcasts.finish_if_done(broadcast_id, now):
                    finished = True
                    if self._on_broadcast_done:
                        await self._on_broadcast_done(repos, broadcast_id, now)
        return finished


async def _record_failure(
    repos: Repos, item: OutboxItem, delivery: Delivery, now: datetime, window: timedelta
) -> None:
    if delivery.outcome is Outcome.RETRY:
        error = delivery.error or "retry"
        if delivery.retry_after > 0:  # the channel asked us to wait: not the message's fault, never counted
            wait = timedelta(seconds=delivery.retry_after)
            await repos.outbox.retry_later(item.id, now + wait, error, failing_since=None)
            return
        failing_since = item.failing_since or now
        if now - failing_since < window:
            wait = timedelta(seconds=backoff_seconds(item.attempts))
            await repos.outbox.retry_later(item.id, now + wait, error, failing_since=failing_since)
            return
    status = "failed" if delivery.outcome is Outcome.RETRY else delivery.outcome.value
    await repos.outbox.finish(item.id, status, now, delivery.error)
    if delivery.outcome is Outcome.UNREACHABLE:
        await repos.accounts.set_reachable(item.channel, item.chat_id, False)


class OutboxWorker:
    """Sends due outbox rows until stopped: chats in parallel, each chat's messages in order.

    One task claims due rows (only while this instance holds the "outbox" lease) and hands each chat's
    rows to one of ``concurrency`` senders; a slow chat holds only its own sender. A heartbeat renews the
    claims and the lease every second, so they lapse only when this process is gone. Sends start at the
    channel's rate (``rates``); a 429 pauses every sending for the time the channel asks, and the row waits
    without losing an attempt; a network failure is retried with backoff for ``retry_window``.
    """

    def __init__(
        self,
        store: Store,
        clock: Clock,
        deliverers: Mapping[str, Deliverer],
        *,
        concurrency: int = 32,
        rates: Mapping[str, float] | None = None,
        batch_size: int = 500,
        retry_window: timedelta = RETRY_WINDOW,
        on_broadcast_done: BroadcastDone | None = None,
        zone: ZoneInfo = VIETNAM,
        quiet_hours: bool = True,
        metrics: Metrics | None = None,
    ) -> None:
        self._store = store
        self._clock = clock
        self._deliverers = deliverers
        self._concurrency = concurrency
        self._pacers = {channel: Pacer(rate) for channel, rate in (rates or {}).items()}
        self._batch_size = batch_size
        self._zone = zone
        self._quiet_hours = quiet_hours  # the demo switches them off, so its notices arrive at any hour
        self.instance = secrets.token_hex(6)
        self._recorder = _Recorder(
            store, clock, self.instance, retry_window, on_broadcast_done, self.wake, metrics or Metrics()
        )
        self._chats: asyncio.Queue[list[OutboxItem]] = asyncio.Queue()
        self._held = 0  # rows claimed and neither settled nor released
        self._drained = asyncio.Event()  # set while nothing is held
        self._drained.set()
        self._wake = asyncio.Event()
        self._wakes = 0
        self._idle = asyncio.Event()
        self._stopping = False
        self._tasks: list[asyncio.Task[None]] = []
        self._senders: list[asyncio.Task[None]] = []
        self._writer: asyncio.Task[None] | None = None
        self._resume_at = 0.0  # loop time before which nothing is sent (after a 429)

    def wake(self) -> None:
        """Look for due rows now (call after committing new ones)."""
        self._wakes += 1
        self._idle.clear()
        self._wake.set()

    def start(self) -> None:
        """Run the worker in the background."""
        self._stopping = False
        self._writer = asyncio.create_task(self._recorder.run(), name="outbox-recorder")
        self._senders = [
            asyncio.create_task(self._sender(), name=f"outbox-sender-{n}") for n in range(self._concurrency)
        ]
        self._tasks = [
            asyncio.create_task(self._claim_loop(), name="outbox-claims"),
            asyncio.create_task(self._heartbeat_loop(), name="outbox-heartbeat"),
        ]

    async def stop(self) -> None:
        """Stop cleanly: let the sends in flight finish and be recorded, then give up every claim and the
        lease, so another instance takes over at once. A worker never started holds nothing, and does not
        touch the database (``thidua run`` stopping because the database cannot be opened)."""
        if self._writer is None:
            return
        self._stopping = True
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        while not self._chats.empty():
            items = self._chats.get_nowait()
            self._recorder.release(items)
            self._settle(len(items))
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(STOP_GRACE_SECONDS):
                await self._drained.wait()
        for task in self._senders:
            task.cancel()
        await asyncio.gather(*self._senders, return_exceptions=True)
        if self._writer is not None:
            self._recorder.close()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(STOP_GRACE_SECONDS):
                    await self._writer
        async with self._store.begin() as repos:
            await repos.outbox.release(self.instance)
            await repos.leases.release(LEASE, self.instance)
        self._tasks, self._senders, self._writer = [], [], None

    async def wait_idle(self, timeout: float = 10.0, *, look_again: bool = True) -> None:
        """Wait until nothing is due (used by tests and the demo to let notices arrive). ``look_again``
        makes the worker read the queue first (rows may have come due as a test clock moved); without it,
        only what it was woken for since it was last idle."""
        if look_again:
            self.wake()
        async with asyncio.timeout(timeout):
            await self._idle.wait()

    async def heartbeat(self) -> None:
        """Renew this instance's claims and, if it holds it, the lease (every second in the background)."""
        now = self._clock.now()
        until = now + timedelta(seconds=CLAIM_SECONDS)
        async with self._store.begin() as repos:
            await repos.leases.renew(LEASE, self.instance, until)
            await repos.outbox.renew_claims(self.instance, until)

    async def _heartbeat_loop(self) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            try:
                await self.heartbeat()
            except Exception as error:
                log_failure(log, "could not renew the outbox claims; retrying in a second", error)

    # -- claiming ---------------------------------------------------------------------------------------

    async def _claim_loop(self) -> None:
        while True:
            self._wake.clear()
            wakes = self._wakes
            if self._held > self._batch_size // 2:  # enough in hand: a sender wakes us when it runs low
                await self._wake.wait()
                continue
            try:
                delay = await self._claim()
            except Exception as error:
                log_failure(log, "claiming outbox rows failed; retrying shortly", error)
                delay = 1.0
            if not delay:
                continue
            if not self._held and wakes == self._wakes:
                self._idle.set()
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a cancellation that lands
            # as the wait ends, and this loop then ran on after stop() cancelled it, which waited forever.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay):
                    await self._wake.wait()

    async def _claim(self) -> float:
        """Claim due rows and hand them to the senders: 0 if there were any, else seconds to sleep."""
        now = self._clock.now()
        until = now + timedelta(seconds=CLAIM_SECONDS)
        async with self._store.begin() as repos:
            if not await repos.leases.take(LEASE, self.instance, now, until):
                expires = await repos.leases.expires_at(LEASE)
                lapse = (expires - now).total_seconds() if expires else 0.0
                return min(HEARTBEAT_SECONDS, max(0.05, lapse + 0.01))  # take over as soon as it lapses
            claimed = await repos.outbox.claim_due(now, self.instance, until, self._batch_size - self._held)
            ready = await self._hold_quiet(repos, claimed)
            next_at = None if claimed else await repos.outbox.next_due_at(now, self.instance)
        if not claimed:
            if next_at is None:
                return IDLE_POLL_SECONDS
            return min(IDLE_POLL_SECONDS, max(0.05, (next_at - now).total_seconds()))
        by_chat: dict[tuple[str, str], list[OutboxItem]] = {}
        for item in ready:
            by_chat.setdefault((item.channel, item.chat_id), []).append(item)
        self._held += len(ready)
        self._drained.clear()
        for items in by_chat.values():
            self._chats.put_nowait(items)
        return 0.0

    async def _hold_quiet(self, repos: Repos, batch: list[OutboxItem]) -> list[OutboxItem]:
        """Defer reminders and broadcasts whose recipient is in quiet hours; return the rest."""
        if not self._quiet_hours:
            return batch
        now = self._clock.now()
        ready = []
        for item in batch:
            until = quiet_until(now, self._zone, *item.quiet_hours) if item.quiet_hours else None
            if until is not None and item.kind in QUIET_KINDS:
                await repos.outbox.defer(item.id, until)
            else:
                ready.append(item)
        return ready

    def _settle(self, count: int) -> None:
        """``count`` held rows are recorded or released: claim more when running low."""
        low = self._batch_size // 2
        was = self._held
        self._held -= count
        if self._held <= low < was or not self._held:
            self._wake.set()
        if not self._held:
            self._drained.set()

    # -- sending ----------------------------------------------------------------------------------------

    async def _sender(self) -> None:
        while True:
            items = await self._chats.get()
            try:
                await self._send_chat(items)
            finally:
                self._settle(len(items))

    async def _send_chat(self, items: list[OutboxItem]) -> None:
        for index, item in enumerate(items):
            if self._stopping:
                self._recorder.release(items[index:])
                return
            await self._wait_for_resume()
            pacer = self._pacers.get(item.channel)
            if pacer is not None:
                await pacer.wait()
            delivery = await self._deliver(item)
            await self._recorder.record(item, delivery)
            if delivery.outcome is Outcome.RETRY:
                if delivery.retry_after > 0:
                    self._pause(item.channel, delivery.retry_after)
                self._recorder.release(items[index + 1 :])  # they wait, so they never overtake this one
                # The claim loop may be asleep until the other chats in hand are settled (a slow one takes
                # up to the send timeout): woken, it sleeps instead until this retry is due.
                self.wake()
                return

    def _pause(self, channel: str, seconds: float) -> None:
        """Hold every sending for as long as the channel asked (429); said once per pause, not per row."""
        until = asyncio.get_running_loop().time() + seconds
        if until > self._resume_at + 1:
            log.warning("%s asked to wait %.0f s (429): sending paused, no message lost", channel, seconds)
        self._resume_at = max(self._resume_at, until)

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
