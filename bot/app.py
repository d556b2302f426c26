"""Wiring: the store, the router, the channels and the outbox worker, started and stopped together.

The channels are a list built from the settings (Telegram when THIDUA_TELEGRAM_TOKEN is set, Zalo when
THIDUA_ZALO_TOKEN is) plus the in-process channel a test hands in; each gives the outbox its deliverer and
its rate. With THIDUA_WEBHOOK_URL set, the web server (``bot.web``) takes the webhooks of the channels that
have one and serves /healthz, /metrics and the signed file links (the Zalo channel, which cannot send files,
sends its charts and workbooks as those links); the figures are in one Prometheus registry per Runtime.

``Runtime`` is what ``thidua run`` and ``thidua demo`` run, and what the end-to-end tests start against
the sandbox. The embedded SQLite default is migrated at start; other databases need ``thidua db upgrade``.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Sequence
from datetime import timedelta

from bot.channels.memory import MemoryChannel
from bot.channels.telegram.channel import TelegramChannel
from bot.channels.zalo.channel import ZaloChannel
from bot.engine.broadcast_summary import summary_reporter
from bot.engine.channel import Channel, TakesWebhooks, Webhook
from bot.engine.clock import Clock, SystemClock
from bot.engine.collector import ServiceCollector
from bot.engine.config import ConfigError, Settings
from bot.engine.files import FileShelf, derive_key
from bot.engine.metrics import Metrics
from bot.engine.outbox import OutboxWorker
from bot.engine.router import Router
from bot.engine.scheduler import ReminderScheduler
from bot.web.server import WebServer
from handlers.reminder_notices import REMINDER_WORDING
from handlers.routes import ROUTES
from storage.database import Store
from storage.migrate import current_revision, head_revision, refuse_unknown, upgrade_apart, upgrade_async

log = logging.getLogger(__name__)


class SchemaOutdated(Exception):
    """The database is behind the code and is not the embedded SQLite that migrates itself."""


async def prepare_database(store: Store) -> None:
    """Migrate the embedded SQLite default; refuse to start on an outdated server database."""
    current = await current_revision(store.engine)
    store.note_file()  # /healthz tells when the file is deleted or replaced under the running bot
    if current == head_revision():
        return  # already current: no need to load Alembic's machinery
    refuse_unknown(current)  # migrated by a newer version: neither migrating nor `db upgrade` can help
    if store.engine.dialect.name == "sqlite":
        # In a child process, so this one never loads Alembic; an in-memory database exists only here.
        await (upgrade_async if store.in_memory else upgrade_apart)(store.url)
    else:
        state = f"at revision {current}" if current else "empty"  # a new server database has no revision
        raise SchemaOutdated(f"the database is {state}, run `thidua db upgrade` first")


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
        memory: MemoryChannel | None = None,
        more_memory: Sequence[MemoryChannel] = (),
    ) -> None:
        self.settings = settings
        self.clock = clock or SystemClock()
        # The children that build /export's workbooks start from a forkserver with these already imported.
        self.store = Store(
            settings.database_url, build_preload=("handlers.insights", "bot.reports.export_xlsx")
        )
        secret = settings.file_secret or settings.webhook_secret
        self.files = FileShelf(
            self.clock,
            derive_key(secret.get_secret_value() if secret else None),
            settings.webhook_url,
            self.store,
        )
        self.metrics = Metrics()
        self.router = Router(
            ROUTES,
            self.store,
            settings,
            self.clock,
            on_commit=self._wake_outbox,
            on_plans_changed=self._wake_scheduler,
            metrics=self.metrics,
            files=self.files,
        )
        self.channels: list[Channel] = []
        webhook_secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
        if settings.telegram_token is not None:
            self.channels.append(
                TelegramChannel(
                    settings.telegram_token.get_secret_value(),
                    settings.telegram_api_url,
                    self.router,
                    poll_timeout=poll_timeout,
                    rate=settings.telegram_rate,
                    send_timeout=settings.send_timeout,
                    webhook_url=settings.webhook_url,
                    webhook_secret=webhook_secret,
                )
            )
        if settings.zalo_token is not None:
            self.channels.append(
                ZaloChannel(
                    settings.zalo_token.get_secret_value(),
                    settings.zalo_api_url,
                    self.router,
                    poll_timeout=poll_timeout,
                    rate=settings.zalo_rate,
                    send_timeout=settings.send_timeout,
                    webhook_url=settings.webhook_url,
                    webhook_secret=webhook_secret,
                    files=self.files,  # charts and workbooks go as its signed links
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
            quiet_hours=settings.quiet_hours,
            metrics=self.metrics,
        )
        self.reminders = ReminderScheduler(
            self.store,
            self.clock,
            settings,
            on_queued=self.outbox.wake,
            wording=REMINDER_WORDING,
            metrics=self.metrics,
        )
        self.web: WebServer | None = None
        if settings.webhook_url is not None:
            self.web = WebServer(
                settings.listen, self._webhooks(), self.store, self.metrics, self.files, self.clock
            )
        self._collector = ServiceCollector()
        self._started = False

    def _webhooks(self) -> list[Webhook]:
        hooks = (channel.webhook() for channel in self.channels if isinstance(channel, TakesWebhooks))
        return [hook for hook in hooks if hook is not None]

    @property
    def telegram(self) -> TelegramChannel | None:
        """The Telegram channel, when its token is set (tests and the demo wait on it)."""
        return next((channel for channel in self.channels if isinstance(channel, TelegramChannel)), None)

    @property
    def zalo(self) -> ZaloChannel | None:
        """The Zalo channel, when its token is set (tests and the demo wait on it)."""
        return next((channel for channel in self.channels if isinstance(channel, ZaloChannel)), None)

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
            raise NoChannel("no channel is configured: set THIDUA_TELEGRAM_TOKEN or THIDUA_ZALO_TOKEN")
        await prepare_database(self.store)
        await self.store.start_builders()  # /export's first workbook not kept waiting for the forkserver
        # Start-up is over: what it built lives as long as the process. Tuned before a channel starts,
        # which may take waiting updates at once: until now a burst answered while the scheduler started
        # (on PostgreSQL, round trips that let updates run) triggered a full collection of everything
        # start-up built, ~130 ms.
        self._collector.tune()
        try:
            if self.web is not None:  # listening before a channel registers a webhook that points here
                await self.web.start()
            for channel in self.channels:
                await channel.start()
            self.outbox.start()
            await self.reminders.start()
        except BaseException:
            self._collector.restore()
            raise
        self._started = True

    async def stop(self) -> None:
        """Stop taking webhook calls (the platforms keep the updates and call again), stop the outbox
        worker, then the channels it sends through, then close the database. Each step is taken even when
        one before it failed (a read-only database refuses the outbox's release), so no connection is left
        open; the last failure is raised."""
        self._started = False
        self._collector.restore()
        async with contextlib.AsyncExitStack() as steps:  # run last pushed first
            steps.push_async_callback(self.store.close)
            for channel in self.channels:
                steps.push_async_callback(channel.stop)
            steps.push_async_callback(self.outbox.stop)
            steps.push_async_callback(self.reminders.stop)
            if self.web is not None:
                steps.push_async_callback(self.web.stop)
