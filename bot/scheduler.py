"""The reminder scheduler. APScheduler is the clock, the database is the truth: every planned sending is
a row; APScheduler's date jobs only wake ``tick()``, which sends whatever is due by the application clock
(so tests move a ManualClock and call ``tick()`` instead of waiting). One instance at a time runs it,
holding the "scheduler" lease; a sending missed while the bot was down goes out at start if it is within
the grace period, otherwise it is marked missed and reported to its owner.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable
from datetime import timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.calendar_reminders import extend_all
from bot.clock import Clock
from bot.config import Settings
from bot.reminders import fire, report_missed
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
        instance: str | None = None,
    ) -> None:
        self._store = store
        self._clock = clock
        self._settings = settings
        self.instance = instance or secrets.token_hex(6)
        self.leading = False
        self._scheduler: AsyncIOScheduler | None = None
        self._on_queued = on_queued  # wakes the outbox worker
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        """Start the clock, try to take the lease, and catch up on what was missed."""
        self._scheduler = AsyncIOScheduler(timezone=self._settings.zone)
        self._scheduler.add_job(self.renew, "interval", seconds=RENEW_SECONDS, id="lease")
        self._scheduler.start()
        await self.renew()

    async def stop(self) -> None:
        """Stop the clock and hand the lease back."""
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None
        if self.leading:
            async with self._store.begin() as repos:
                await repos.leases.release(LEASE, self.instance)
            self.leading = False

    async def renew(self) -> bool:
        """Take or keep the lease; on taking it, catch up and plan the jobs. True while leading."""
        now = self._clock.now()
        async with self._store.begin() as repos:
            holding = await repos.leases.take(
                LEASE, self.instance, now, now + timedelta(seconds=LEASE_SECONDS)
            )
        if holding and not self.leading:
            log.info("scheduler lease taken by %s", self.instance)
            self.leading = True
            await self.tick()
        if holding:
            async with self._store.begin() as repos:  # the calendar's events stay planned a year ahead
                await extend_all(repos, self._settings.zone, self._clock.now())
            await self.plan_changed()  # sendings planned since the last renewal get their own date job
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

    async def plan_changed(self) -> None:
        """Rebuild the date jobs from the planned sendings (run at every lease renewal)."""
        if not self.leading or self._scheduler is None:
            return
        async with self._store.begin() as repos:
            planned = await repos.reminders.planned(after=self._clock.now())
        self._drop_jobs()
        for moment in sorted({sending.due_at for sending in planned}):
            self._scheduler.add_job(
                self.tick,
                "date",
                run_date=moment,
                id=f"tick-{moment.isoformat()}",
                misfire_grace_time=None,
                coalesce=True,
            )

    async def tick(self) -> int:
        """Send every sending now due (or report it missed); returns how many members were queued."""
        if not self.leading:
            return 0
        async with self._lock:
            now = self._clock.now()
            grace = timedelta(hours=self._settings.reminder_grace_hours)
            queued = 0
            async with self._store.begin() as repos:
                due = await repos.reminders.due(now)
            for sending in due:
                async with self._store.begin() as repos:
                    if now - sending.due_at > grace:
                        await report_missed(
                            repos,
                            sending,
                            default_language=self._settings.language,
                            zone=self._settings.zone,
                            now=now,
                        )
                        continue
                    queued += (
                        await fire(
                            repos,
                            sending,
                            default_language=self._settings.language,
                            zone=self._settings.zone,
                            now=now,
                        )
                        or 0
                    )
            if due:
                self._on_queued()
            return queued
