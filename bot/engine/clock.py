"""The clock the whole application reads, so tests can set the time instead of waiting for it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Tells the current time, always as an aware UTC datetime."""

    def now(self) -> datetime:
        """The current moment in UTC."""
        ...


class SystemClock:
    """The real time."""

    def now(self) -> datetime:
        """The current moment in UTC."""
        return datetime.now(UTC)


class ManualClock:
    """A clock that stands still until moved: for tests and simulations."""

    def __init__(self, start: datetime) -> None:
        self.current = start.astimezone(UTC)

    def now(self) -> datetime:
        """The moment the clock was last set to."""
        return self.current

    def advance(self, delta: timedelta) -> None:
        """Move the clock forward."""
        self.current += delta


class TravelClock:
    """The real time moved forward by however far it was sent: the demo's time travel, so a visitor sees
    reminders arrive and deadlines pass without waiting for them."""

    def __init__(self) -> None:
        self.ahead = timedelta(0)

    def now(self) -> datetime:
        """The real moment plus the distance travelled."""
        return datetime.now(UTC) + self.ahead

    def advance(self, delta: timedelta) -> None:
        """Move the clock forward (never back: what was sent stays sent)."""
        if delta < timedelta(0):
            raise ValueError("the clock only travels forward")
        self.ahead += delta
