"""One log line when a channel's polling (or, in webhook mode, its sending) loses its API and one when it
gets it back, whatever the channel.

Polling fails again every few seconds while an API is down; a line per failed poll would bury the news, so
``OutageLog`` says when the outage started (with the first reason) and, when a poll succeeds again, how long
it lasted and how many polls failed. Telegram's ``PollingMonitor`` and Zalo's poller both report to one;
in webhook mode, where nothing polls, Telegram's outbox sends do; and the router's updates that find the
database unreachable. ``pause`` is how long each waits before trying again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

FIRST_PAUSE = 0.5  # seconds before trying again after a first failure, doubled after each failure...
LONGEST_PAUSE = 5.0  # ...up to this: an API (or a database) back from an outage is tried again within 5 s
# (at 30, a bot could stay deaf for half a minute after it came back)


def pause_after(failures: int) -> float:
    """How long to wait before trying again after ``failures`` failures in a row (polls, or tries)."""
    doublings = min(max(failures - 1, 0), 16)  # bounded: a day-long outage must not overflow a float
    return min(FIRST_PAUSE * float(2**doublings), LONGEST_PAUSE)


class OutageLog:
    """Follows the outcome of each poll of one API and logs an outage's start and end, once each."""

    def __init__(
        self,
        what: str,
        api: str,
        log: logging.Logger,
        clock: Callable[[], float] = time.monotonic,
        attempts: str = "polls",
    ) -> None:
        self._what = what  # "telegram polling"
        self._api = api  # "the Bot API"
        self._attempts = attempts  # what failed, counted in the closing line: "polls", "sends"
        self._log = log  # the channel's own logger, so operators filter by channel
        self._clock = clock
        self._started: float | None = None
        self._failed_polls = 0

    @property
    def in_outage(self) -> bool:
        """True between a failed poll and the next one that succeeds."""
        return self._started is not None

    @property
    def failed_polls(self) -> int:
        """Polls failed since the outage started (0 outside one)."""
        return self._failed_polls

    def pause(self) -> float:
        """How long to wait before trying again, after the failures so far (``pause_after``)."""
        return pause_after(self._failed_polls)

    def succeeded(self) -> None:
        """A poll was answered: ends an outage, if one was going on, with one line saying how long."""
        if self._started is None:
            return
        lasted = self._clock() - self._started
        self._log.warning(
            "%s: outage ended (%.0f s, %d failed %s); %s answers again",
            self._what,
            lasted,
            self._failed_polls,
            self._attempts,
            self._api,
        )
        self._started = None
        self._failed_polls = 0

    def failed(self, reason: str) -> None:
        """A poll failed for ``reason`` (never holding a secret): starts or continues an outage."""
        self._failed_polls += 1
        if self._started is None:
            self._started = self._clock()
            self._log.warning(
                "%s: outage started, %s cannot be reached (%s); retrying", self._what, self._api, reason
            )
