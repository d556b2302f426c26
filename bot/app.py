"""Wiring: the store, the router, the channels and the outbox worker, started and stopped together.

``Runtime`` is what ``thidua run`` and ``thidua demo`` run, and what the end-to-end tests start against
the sandbox. The embedded SQLite default is migrated at start; other databases need ``thidua db upgrade``.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from bot.channels.memory import MemoryChannel
from bot.channels.telegram.channel import TelegramChannel
from bot.engine.broadcast_summary import summary_reporter
from bot.engine.clock import Clock, SystemClock
from bot.engine.config import Settings
from bot.engine.outbox import Deliverer, OutboxWorker
from bot.engine.router import Router
from bot.engine.scheduler import ReminderScheduler
from handlers.routes import ROUTES
from storage.database import Store
from storage.migrate import current_revision, head_revision, upgrade_async

log = logging.getLogger(__name__)


class SchemaOutdated(Exception):
    """The database is behind the code and is not the embedded SQLite that migrates itself."""


async def prepare_database(store: Store) -> None:
    """Migrate the embedded SQLite default; refuse to start on an outdated server database."""
    if store.engine.dialect.name == "sqlite":
        await upgrade_async(store.url)
        return
    current = await current_revision(store.engine)
    if current != head_revision():
        raise SchemaOutdated(f"the database is at revision {current}, run `thidua db upgrade` first")


class Runtime:
    """The running service: one router, the configured channels and the outbox worker."""

    def __init__(
        self,
        settings: Settings,
        clock: Clock | None = None,
        *,
        poll_timeout: int = 10,
        quiet_hours: bool = True,
        memory: MemoryChannel | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock or SystemClock()
        self.store = Store(settings.database_url)
        self.router = Router(
            ROUTES,
            self.store,
            settings,
            self.clock,
            on_commit=self._wake_outbox,
            on_plans_changed=self._wake_scheduler,
        )
        self.telegram: TelegramChannel | None = None
        if settings.telegram_token is not None:
            self.telegram = TelegramChannel(
                settings.telegram_token.get_secret_value(),
                settings.telegram_api_url,
                self.router,
                poll_timeout=poll_timeout,
                rate=settings.telegram_rate,
                send_timeout=settings.send_timeout,
            )
        deliverers: dict[str, Deliverer] = {}
        if self.telegram is not None:
            deliverers[self.telegram.name] = self.telegram
        self.memory = memory  # the in-process channel tests talk through
        if memory is not None:
            memory.attach(self.router)
            deliverers[memory.name] = memory
        self.outbox = OutboxWorker(
            self.store,
            self.clock,
            deliverers,
            concurrency=settings.outbox_concurrency,
            rates={self.telegram.name: settings.telegram_rate} if self.telegram is not None else None,
            retry_window=timedelta(minutes=settings.retry_window_minutes),
            on_broadcast_done=summary_reporter(settings.language),
            zone=settings.zone,
            quiet_hours=quiet_hours,
        )
        self.reminders = ReminderScheduler(self.store, self.clock, settings, on_queued=self.outbox.wake)
        self._started = False

    def _wake_outbox(self) -> None:
        if self._started:
            self.outbox.wake()

    def _wake_scheduler(self) -> None:
        if self._started:
            self.reminders.wake()

    async def start(self) -> None:
        """Prepare the database, then start the channels and the outbox worker."""
        await prepare_database(self.store)
        if self.telegram is None and self.memory is None:
            raise RuntimeError("no channel is configured: set THIDUA_TELEGRAM_TOKEN")
        if self.telegram is not None:
            await self.telegram.start()
        self.outbox.start()
        await self.reminders.start()
        self._started = True

    async def stop(self) -> None:
        """Stop the outbox worker, then the channels it sends through, then close the database."""
        self._started = False
        await self.reminders.stop()
        await self.outbox.stop()
        if self.telegram is not None:
            await self.telegram.stop()
        await self.store.close()
