"""Quiet hours: the local time window (default 21:00–07:00) in which reminders and broadcasts wait."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

MINUTES_PER_DAY = 24 * 60


def quiet_until(now: datetime, zone: ZoneInfo, start: int, end: int) -> datetime | None:
    """When the quiet window around ``now`` ends (UTC), or None if ``now`` is outside it.

    ``start`` and ``end`` are minutes after local midnight; a window may wrap past midnight (21:00–07:00);
    equal values mean no quiet hours.
    """
    if start == end:
        return None
    local = now.astimezone(zone)
    minute = local.hour * 60 + local.minute
    inside = start <= minute < end if start < end else minute >= start or minute < end
    if not inside:
        return None
    wait = (end - minute) % MINUTES_PER_DAY
    resume = local.replace(second=0, microsecond=0) + timedelta(minutes=wait)
    return resume.astimezone(UTC)


def hhmm(minutes: int) -> str:
    """Minutes after midnight as "21:00"."""
    return f"{minutes // 60:02d}:{minutes % 60:02d}"
