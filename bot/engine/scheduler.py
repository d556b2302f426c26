"""The reminder scheduler. APScheduler is the clock, the database is the truth: every planned sending is
a row; APScheduler's date jobs only wake ``tick()``, which sends whatever is due by the application clock
(so tests move a ManualClock and call ``tick()`` instead of waiting). One instance at a time runs it,
holding the "scheduler" lease; a sending missed while the bot was down goes out at start if it is within
the grace period, otherwise it is marked missed and reported to its owner. A plan made or changed on this
instance wakes it at once (``wake``); the lease renewal picks up the plans of other instances.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Callable
from datetime import timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.domain.calendar_reminders import extend_all
from bot.domain.reminders import ReminderWording, fire, report_missed
from bot.engine.clock import Clock
from bot.engine.config import Settings
from bot.engine.logs import log_failure
from bot.engine.metrics import Metrics
from storage.database import Store

log = logging.getLogger(__name__)

LEASE = "scheduler"
LEASE_SECONDS = 60
RENEW_SECONDS = 20


class ReminderScheduler:
    """Runs reminders on time on exactly one instance; any instance can call ``plan_changed``."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        settings: Settings,
        on_queued: Callable[[], None],
        *,
        wording: ReminderWording,
        instance: str | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self._store = store
        self._metrics = metrics or Metrics()
        self._clock = clock
        self._settings = settings
        self._wording = wording  # the handlers' words, handed in by bot/app.py
        self.instance = instance or secrets.token_hex(6)
        self.leading = False
        self._scheduler: AsyncIOScheduler | None = None
        self._on_queued = on_queued  # wakes the outbox worker
        self._lock = asyncio.Lock()
        self._planning = asyncio.Lock()  # one rebuild at a time, so an older reading never wins
        self._renewing = asyncio.Lock()
        self._replan: asyncio.Task[None] | None = None
        self._replan_again = False

    async def start(self) -> None:
        """Start the clock, try to take the lease, and catch up on what was missed."""
        self._scheduler = AsyncIOScheduler(timezone=self._settings.zone)
        self._scheduler.add_job(self.renewal, "interval", seconds=RENEW_SECONDS, id="lease")
        self._scheduler.start()
        await self.renew()

    async def stop(self) -> None:
        """Stop the clock and hand the lease back."""
        if self._replan is not None:
            self._replan.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._replan
            self._replan = None
        if self._scheduler is not None:
            # No new runs; a renewal or tick under way finishes rather than being cancelled half-way.
            self._scheduler.pause()
            async with self._renewing, self._lock:
                self._scheduler.shutdown(wait=False)
            self._scheduler = None
        if self.leading:
            async with self._store.begin() as repos:
                await repos.leases.release(LEASE, self.instance)
            self.leading = False

    async def renewal(self) -> None:
        """The renewal every RENEW_SECONDS: one that fails (the database locked by another program) is
        logged, and the next one tries again, well before the lease lapses."""
        try:
            await self.renew()
        except Exception as error:
            log_failure(log, "could not renew the scheduler lease; the next renewal will", error)

    async def renew(self) -> bool:
        """Take or keep the lease; on taking it, catch up and plan the jobs. True while leading."""
        async with self._renewing:
            return await self._renew()

    async def _renew(self) -> bool:
        now = self._clock.now()
        async with self._store.begin() as repos:
            holding = await repos.leases.take(
                LEASE, self.instance, now, now + timedelta(seconds=LEASE_SECONDS)
            )
        if holding and not self.leading:
            log.info("scheduler lease taken by %s", self.instance)
            self.leading = True
        if holding:
            async with self._store.begin() as repos:  # the calendar's events stay planned a year ahead
                await extend_all(repos, self._settings.zone, self._clock.now())
            # Catches up on taking the lease; picks up what other instances planned since the last renewal.
            await self.plan_changed()
        elif self.leading:
            log.warning("scheduler lease lost by %s", self.instance)
            self.leading = False
            self._drop_jobs()
        return self.leading

    def _drop_jobs(self) -> None:
        if self._scheduler is not None:
            for job in self._scheduler.get_jobs():
                if job.id != "lease":
                    job.remove()

    def wake(self) -> None:
        """A reminder was planned, changed or cancelled here: rebuild the plan now rather than at the next
        renewal, so a reminder confirmed seconds before its moment still goes out on time."""
        if not self.leading or self._scheduler is None:
            return  # the leading instance picks the change up at its next renewal
        self._replan_again = True
        if self._replan is None or self._replan.done():
            self._replan = asyncio.get_running_loop().create_task(self._replan_while_asked())

    async def _replan_while_asked(self) -> None:
        # Wakes arriving during a rebuild are served by one more rebuild, not one each.
        while self._replan_again:
            self._replan_again = False
            try:
                await self.plan_changed()
            except Exception:
                log.exception("could not rebuild the reminder plan; the next renewal will")

    async def wait_idle(self, timeout: float = 10.0) -> None:
        """Wait until the rebuilds asked for by ``wake`` are done (used by tests)."""
        async with asyncio.timeout(timeout):
            while self._replan is not None and not self._replan.done():
                await asyncio.wait({self._replan})

    async def plan_changed(self) -> None:
        """Rebuild the date jobs from the planned sendings, and send at once those already due."""
        if not self.leading or self._scheduler is None:
            return
        async with self._planning:
            now = self._clock.now()
            async with self._store.begin(deferred=True) as repos:  # reads only: no write lock
                moments = sorted({sending.due_at for sending in await repos.reminders.planned()})
            self._drop_jobs()
            for moment in moments:
                if moment > now:
                    self._scheduler.add_job(
                        self.tick,
                        "date",
                        run_date=moment,
                        id=f"tick-{moment.isoformat()}",
                        misfire_grace_time=None,
                        coalesce=True,
                    )
            if moments and moments[0] <= now:  # due already: planned after its moment's job was built
                await self.tick()

    async def tick(self) -> int:
        """Send every sending now due (or report it missed); returns how many members were queued."""
        if not self.leading:
            return 0
        async with self._lock:
            now = self._clock.now()
            grace = timedelta(hours=self._settings.reminder_grace_hours)
            queued = 0
            async with self._store.begin(deferred=True) as repos:  # reads only: no write lock
                due = await repos.reminders.due(now)
            for sending in due:
                missed = now - sending.due_at > grace
                async with self._store.begin() as repos:
                    if missed:
                        await report_missed(
                            repos,
                            sending,
                            self._wording,
                            default_language=self._settings.language,
                            zone=self._settings.zone,
                            now=now,
                        )
                        fired = None
                    else:
                        fired = await fire(
                            repos,
                            sending,
                            self._wording,
                            default_language=self._settings.language,
                            zone=self._settings.zone,
                            now=now,
                        )
                # Counted once committed; a sending another instance already sent is not counted here.
                if missed:
                    self._metrics.reminders_missed.inc()
                elif fired is not None:
                    self._metrics.reminders_sent.inc()
                    queued += fired
            if due:
                self._on_queued()
            return queued
