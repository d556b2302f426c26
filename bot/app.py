"""Wiring: the store, the router, the channels and the outbox worker, started and stopped together.

The channels are a list built from the settings (Telegram when THIDUA_TELEGRAM_TOKEN is set) plus the
in-process channel a test hands in; each gives the outbox its deliverer and its rate.

``Runtime`` is what ``thidua run`` and ``thidua demo`` run, and what the end-to-end tests start against
the sandbox. The embedded SQLite default is migrated at start; other databases need ``thidua db upgrade``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta

from bot.channels.memory import MemoryChannel
from bot.channels.telegram.channel import TelegramChannel
from bot.engine.broadcast_summary import summary_reporter
from bot.engine.channel import Channel
from bot.engine.clock import Clock, SystemClock
from bot.engine.config import ConfigError, Settings
from bot.engine.outbox import OutboxWorker
from bot.engine.router import Router
from bot.engine.scheduler import ReminderScheduler
from handlers.reminder_notices import REMINDER_WORDING
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


class NoChannel(ConfigError):
    """Not one channel is configured, so the service would answer nobody."""


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
        more_memory: Sequence[MemoryChannel] = (),
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
        self.channels: list[Channel] = []
        if settings.telegram_token is not None:
            self.channels.append(
                TelegramChannel(
                    settings.telegram_token.get_secret_value(),
                    settings.telegram_api_url,
                    self.router,
                    poll_timeout=poll_timeout,
                    rate=settings.telegram_rate,
                    send_timeout=settings.send_timeout,
                )
            )
        self.memory = memory  # the in-process channel tests talk through
        # ``more_memory``: further in-process channels under other names, for a person on two channels.
        for channel in [memory, *more_memory] if memory is not None else more_memory:
            channel.attach(self.router)
            self.channels.append(channel)
        self.outbox = OutboxWorker(
            self.store,
            self.clock,
            {channel.name: channel for channel in self.channels},
            concurrency=settings.outbox_concurrency,
            rates={channel.name: channel.rate for channel in self.channels if channel.rate is not None},
            retry_window=timedelta(minutes=settings.retry_window_minutes),
            on_broadcast_done=summary_reporter(settings.language),
            zone=settings.zone,
            quiet_hours=quiet_hours,
        )
        self.reminders = ReminderScheduler(
            self.store, self.clock, settings, on_queued=self.outbox.wake, wording=REMINDER_WORDING
        )
        self._started = False

    @property
    def telegram(self) -> TelegramChannel | None:
        """The Telegram channel, when its token is set (tests and the demo wait on it)."""
        return next((channel for channel in self.channels if isinstance(channel, TelegramChannel)), None)

    def _wake_outbox(self) -> None:
        if self._started:
            self.outbox.wake()

    def _wake_scheduler(self) -> None:
        if self._started:
            self.reminders.wake()

    async def start(self) -> None:
        """Prepare the database, then start the channels and the outbox worker.

        Raises NoChannel, one line, when not one channel is configured.
        """
        if not self.channels:
            raise NoChannel("no channel is configured: set THIDUA_TELEGRAM_TOKEN")
        await prepare_database(self.store)
        for channel in self.channels:
            await channel.start()
        self.outbox.start()
        await self.reminders.start()
        self._started = True

    async def stop(self) -> None:
        """Stop the outbox worker, then the channels it sends through, then close the database."""
        self._started = False
        await self.reminders.stop()
        await self.outbox.stop()
        for channel in reversed(self.channels):
            await channel.stop()
        await self.store.close()
