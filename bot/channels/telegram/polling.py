"""Long polling that survives what the Bot API sends and what the network does.

``TolerantBot`` reads each update of a getUpdates batch on its own: one that python-telegram-bot cannot
parse (an older self-hosted Bot API server, a field a newer library requires) is logged once by its id and
replaced by a bare ``Update(update_id)`` that the handlers ignore, so the offset still moves past it instead
of the whole batch being fetched again forever. It also tells ``PollingMonitor`` how each poll went, which
turns the library's line per failed poll into one line per event: an outage when it starts and when it
ends, a 409 Conflict (another process polls the same token) at most once a minute. While the Bot API cannot
be reached it polls again after ``OutageLog.pause`` (0.5 s doubling to 5 s) instead of the library's pauses
that grow to 30 s, so the bot answers within seconds of the API coming back.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

from telegram import Update
from telegram._utils.defaultvalue import DEFAULT_NONE, DefaultValue
from telegram._utils.types import JSONDict, ODVInput, TimePeriod
from telegram.error import Conflict, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.ext import BaseRateLimiter, ExtBot
from telegram.request import BaseRequest

from bot.engine.outages import OutageLog

log = logging.getLogger(__name__)

CONFLICT_LOG_INTERVAL = 60.0  # seconds between two "another process polls this token" lines


def _seconds(value: int | float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class PollingMonitor:
    """Follows the outcome of each getUpdates call and logs what an operator needs, once per event."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._outages = OutageLog("telegram polling", "the Bot API", log, clock)
        self._conflict_logged: float | None = None

    @property
    def in_outage(self) -> bool:
        """True between a failed poll and the next one that succeeds."""
        return self._outages.in_outage

    def succeeded(self) -> None:
        """A poll was answered: ends an outage, if one was going on, with one line saying how long."""
        self._outages.succeeded()

    def pause(self) -> float:
        """How long to wait before polling again in the outage going on."""
        return self._outages.pause()

    def failed(self, error: TelegramError) -> None:
        """A poll failed: a conflict or a 429 is said as such; anything else starts or continues an outage."""
        now = self._clock()
        if isinstance(error, Conflict):
            if self._conflict_logged is None or now - self._conflict_logged >= CONFLICT_LOG_INTERVAL:
                self._conflict_logged = now
                if "webhook" in error.message.lower():
                    log.warning(
                        "telegram polling: a webhook is set for this bot's token (409 Conflict), by an "
                        "instance in webhook mode or by hand; polling waits until it is deleted (said at "
                        "most once a minute)"
                    )
                else:
                    log.warning(
                        "telegram polling: another process is polling this bot's token (409 Conflict); "
                        "only one instance may poll, the others wait (said at most once a minute)"
                    )
            return
        if isinstance(error, RetryAfter):
            log.warning("telegram polling: Telegram asked to wait %.0f s (429)", _seconds(error.retry_after))
            return
        self._outages.failed(f"{type(error).__name__}: {error.message}")


class TolerantBot(ExtBot[Any]):
    """python-telegram-bot's bot, except that getUpdates parses update by update and reports to a monitor."""

    __slots__ = ("_monitor", "_polling_read_timeout", "_stopping")

    def __init__(
        self,
        token: str,
        *,
        base_url: str,
        base_file_url: str,
        request: BaseRequest,
        get_updates_request: BaseRequest,
        rate_limiter: BaseRateLimiter[Any],
        monitor: PollingMonitor,
    ) -> None:
        super().__init__(
            token,
            base_url=base_url,
            base_file_url=base_file_url,
            request=request,
            get_updates_request=get_updates_request,
            rate_limiter=rate_limiter,
        )
        self._monitor = monitor
        self._polling_read_timeout = get_updates_request.read_timeout
        self._stopping = False

    def stopping(self) -> None:
        """Polling is about to stop: the updater's last getUpdates only confirms the updates fetched. If
        the Bot API is down then, that is one WARNING instead of python-telegram-bot's ERROR and traceback."""
        self._stopping = True

    async def get_updates(
        self,
        offset: int | None = None,
        limit: int | None = None,
        timeout: TimePeriod | None = None,
        allowed_updates: Sequence[str] | None = None,
        *,
        read_timeout: ODVInput[float] = DEFAULT_NONE,
        write_timeout: ODVInput[float] = DEFAULT_NONE,
        connect_timeout: ODVInput[float] = DEFAULT_NONE,
        pool_timeout: ODVInput[float] = DEFAULT_NONE,
        api_kwargs: JSONDict | None = None,
    ) -> tuple[Update, ...]:
        """The next updates, each parsed on its own; one that cannot be parsed becomes a bare Update."""
        data: JSONDict = {
            "timeout": timeout,
            "offset": offset,
            "limit": limit,
            "allowed_updates": allowed_updates,
        }
        # As Bot.get_updates does: a long poll may take its own timeout on top of the read timeout.
        base = self._polling_read_timeout if isinstance(read_timeout, DefaultValue) else read_timeout
        wait = _seconds(timeout) if timeout else 0.0
        try:
            result = await self._post(
                "getUpdates",
                data,
                read_timeout=(base or 0) + wait,
                write_timeout=write_timeout,
                connect_timeout=connect_timeout,
                pool_timeout=pool_timeout,
                api_kwargs=api_kwargs,
            )
        except TelegramError as error:
            if self._stopping:
                log.warning(
                    "telegram polling: stopping, the last updates could not be confirmed (%s); "
                    "they may come again at the next start",
                    type(error).__name__,
                )
                return ()
            self._monitor.failed(error)
            if isinstance(error, NetworkError) and not isinstance(error, TimedOut):
                # The library's loop would pause 1 s, then 1.5 times longer each time up to 30 s; ours
                # pauses here, then says "timed out", after which the library polls again at once.
                await asyncio.sleep(self._monitor.pause())
                raise TimedOut(f"{type(error).__name__}: {error.message}") from error
            raise
        self._monitor.succeeded()
        updates = tuple(update for update in map(self.read_update, result) if update is not None)
        for update in updates:
            self.insert_callback_data(update)
        return updates

    def read_update(self, item: JSONDict) -> Update | None:
        """The parsed update, a bare one when only its id can be read, None when not even that (polled
        batches and webhook calls alike)."""
        try:
            return Update.de_json(item, self)
        except Exception as error:
            update_id = item.get("update_id") if isinstance(item, dict) else None
            if not isinstance(update_id, int):
                log.warning("telegram: skipped an update without an id (%s)", type(error).__name__)
                return None
            # Never the content: the kinds of the update (its keys) and the error's type tell enough.
            kinds = ", ".join(sorted(str(key) for key in item if key != "update_id"))
            log.warning(
                "telegram: update %s (%s) could not be read (%s); skipped",
                update_id,
                kinds or "empty",
                type(error).__name__,
            )
            bare = Update(update_id)
            bare.set_bot(self)
            return bare
