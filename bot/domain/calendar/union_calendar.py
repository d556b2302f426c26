"""The union year's recurring dates (Tết, 8/3, Workers' Month, 28/7...) and the days to remind people of them.

The dates live in ``data/union_calendar.toml`` beside this module; ``reminders_between(start, end)`` lists
the reminders due in a period, each naming its event key, whose text is the catalog key ``calendar.<key>``.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import TypeGuard

from bot.domain.calendar.lunar import tet_date

DEFAULT_PATH = Path(__file__).parent / "data" / "union_calendar.toml"

LUNAR_DAYS: dict[str, Callable[[int], date]] = {"tet": tet_date}
# A reminder further than this from its event would be a typo; the bound also keeps the search to the years
# next to the period asked about.
MAX_OFFSET_DAYS = 180

_KEY = re.compile(r"[a-z][a-z0-9_]*")
_EVENT_FIELDS = ("key", "month", "day", "lunar", "remind")


class CalendarFileError(Exception):
    """The calendar file cannot be read or has a mistake; the message names the file, event and field."""


@dataclass(frozen=True)
class FixedDay:
    """The same Gregorian day every year."""

    month: int
    day: int

    def in_year(self, year: int) -> date:
        """This day in ``year``."""
        return date(year, self.month, self.day)


@dataclass(frozen=True)
class LunarDay:
    """A day of the Vietnamese lunar calendar, by its name in ``LUNAR_DAYS``."""

    name: str

    def in_year(self, year: int) -> date:
        """The Gregorian date this lunar day falls on in ``year``."""
        return LUNAR_DAYS[self.name](year)


@dataclass(frozen=True)
class Offset:
    """A reminder so many days before (negative) or after (positive) the event day."""

    days: int


@dataclass(frozen=True)
class Event:
    """A recurring date of the union year and when to remind people of it."""

    key: str
    when: FixedDay | LunarDay
    reminders: tuple[FixedDay | Offset, ...]

    def remind_on(self, event_day: date) -> list[date]:
        """The days to remind people of the event that falls on ``event_day``."""
        return [
            event_day + timedelta(days=reminder.days)
            if isinstance(reminder, Offset)
            else reminder.in_year(event_day.year)
            for reminder in self.reminders
        ]


@dataclass(frozen=True)
class CalendarReminder:
    """One reminder to send: of event ``key`` falling on ``event_day``, to be sent on ``remind_on``."""

    key: str
    event_day: date
    remind_on: date


def reminders_between(start: date, end: date, path: Path = DEFAULT_PATH) -> list[CalendarReminder]:
    """Every reminder whose ``remind_on`` lies in [start, end], in the order they are due."""
    found: set[CalendarReminder] = set()
    for event in load_events(path):
        # Reminders lie within MAX_OFFSET_DAYS of their event, so events of the year before and after count.
        for year in range(start.year - 1, end.year + 2):
            event_day = event.when.in_year(year)
            found.update(
                CalendarReminder(event.key, event_day, remind_on)
                for remind_on in event.remind_on(event_day)
                if start <= remind_on <= end
            )
    return sorted(found, key=lambda reminder: (reminder.remind_on, reminder.event_day, reminder.key))


def load_events(path: Path = DEFAULT_PATH) -> list[Event]:
    """The events in the file, or ``CalendarFileError`` saying what is wrong and where."""
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except OSError as error:
        raise CalendarFileError(f"{path}: cannot read the file ({error.strerror})") from error
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise CalendarFileError(f"{path}: not valid TOML ({error})") from error
    unknown = sorted(set(document) - {"event"})
    if unknown:
        raise CalendarFileError(f"{path}: unknown top-level field {unknown[0]!r} (expected [[event]] tables)")
    tables = document.get("event", [])
    if not isinstance(tables, list) or not all(isinstance(table, dict) for table in tables):
        raise CalendarFileError(f"{path}: 'event' must be a list of [[event]] tables")
    events: list[Event] = []
    for number, table in enumerate(tables, start=1):
        where = f"{path}: event {number}" + (
            f" ({table['key']!r})" if isinstance(table.get("key"), str) else ""
        )
        try:
            event = _event(table)
        except ValueError as error:
            raise CalendarFileError(f"{where}: {error}") from None
        if any(known.key == event.key for known in events):
            raise CalendarFileError(f"{where}: the key {event.key!r} is used by an earlier event")
        events.append(event)
    return events


def _event(table: dict[str, object]) -> Event:
    unknown = sorted(set(table) - set(_EVENT_FIELDS))
    if unknown:
        raise ValueError(f"unknown field {unknown[0]!r} (expected {', '.join(_EVENT_FIELDS)})")
    key = table.get("key")
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        raise ValueError("'key' must be lower-case letters, digits and _, starting with a letter")
    when: FixedDay | LunarDay
    if "lunar" in table:
        if "month" in table or "day" in table:
            raise ValueError("give either lunar or month and day, not both")
        lunar = table["lunar"]
        if not isinstance(lunar, str) or lunar not in LUNAR_DAYS:
            raise ValueError(f"unknown lunar day {lunar!r} (known: {', '.join(sorted(LUNAR_DAYS))})")
        when = LunarDay(lunar)
    else:
        when = _fixed_day(table, "")
    remind = table.get("remind")
    if not isinstance(remind, list) or not remind:
        raise ValueError("'remind' must be a non-empty list, e.g. remind = [{ offset_days = -7 }]")
    reminders = tuple(_reminder(item, f"remind[{index}]", when) for index, item in enumerate(remind))
    return Event(key, when, reminders)


def _reminder(item: object, where: str, when: FixedDay | LunarDay) -> FixedDay | Offset:
    if not isinstance(item, dict):
        raise ValueError(f"{where}: expected {{ offset_days = N }} or {{ month = M, day = D }}")
    unknown = sorted(set(item) - {"offset_days", "month", "day"})
    if unknown:
        raise ValueError(f"{where}: unknown field {unknown[0]!r} (expected offset_days, or month and day)")
    if "offset_days" in item:
        if "month" in item or "day" in item:
            raise ValueError(f"{where}: give either offset_days or month and day, not both")
        days = item["offset_days"]
        if not _is_int(days) or abs(days) > MAX_OFFSET_DAYS:
            raise ValueError(
                f"{where}: offset_days must be a whole number from -{MAX_OFFSET_DAYS} to {MAX_OFFSET_DAYS}"
            )
        return Offset(days)
    if isinstance(when, LunarDay):
        raise ValueError(f"{where}: a lunar event moves from year to year; give its reminders as offset_days")
    return _fixed_day(item, f"{where}: ")


def _fixed_day(table: dict[str, object], where: str) -> FixedDay:
    month, day = table.get("month"), table.get("day")
    if not _is_int(month) or not _is_int(day):
        raise ValueError(f"{where}'month' and 'day' must both be given as whole numbers")
    if (month, day) == (2, 29):
        raise ValueError(f"{where}29/2 does not come every year; choose another day")
    try:
        date(2001, month, day)
    except ValueError:
        raise ValueError(f"{where}{day}/{month} is not a date (day {day}, month {month})") from None
    return FixedDay(month, day)


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)
