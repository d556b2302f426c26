"""The union year's calendar as reminders: an officer switches an event (Tết, 8/3, Workers' Month, 28/7...)
on for their unit, optionally in their own words; its reminders are planned a year ahead at 08:00 local
time and the plan is extended as the year goes by (each scheduler lease renewal)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.domain.calendar.union_calendar import CalendarReminder, Event, reminders_between
from bot.domain.deadline_reminders import REMIND_AT, local_moment
from bot.domain.problems import Problem
from bot.domain.reminders import TEXT_MAX
from bot.engine.access import Identity
from storage.database import Repos
from storage.records import Unit

KIND = "calendar"
HORIZON = timedelta(days=366)


def upcoming(key: str, after: date, until: date) -> list[CalendarReminder]:
    """The event's reminders whose day lies after ``after`` and up to ``until``."""
    return [r for r in reminders_between(after + timedelta(days=1), until) if r.key == key]


def next_occurrence(event: Event, today: date) -> tuple[date, list[date]]:
    """The event's next day (today or later: which day Tết falls on) and the days it is reminded of."""
    day = event.when.in_year(today.year)
    if day < today:
        day = event.when.in_year(today.year + 1)
    return day, event.remind_on(day)


async def switch_on(
    repos: Repos, who: Identity, unit: Unit, key: str, zone: ZoneInfo, now: datetime
) -> Problem | int:
    """Switch an event's reminders on for the unit's subtree; returns how many sendings were planned."""
    if not who.covers(unit):
        return Problem("unit", "unit_out_of_scope", {"unit": unit.name})
    if await repos.reminders.active_rule(KIND, unit.id, key) is not None:
        return 0
    rule_id = await repos.reminders.create_rule(
        kind=KIND,
        unit_id=unit.id,
        audience="everyone",
        calendar_key=key,
        owner_account_id=who.account.id,
        now=now,
    )
    planned = await _plan_ahead(
        repos, rule_id, key, zone, now, after=now.astimezone(zone).date() - timedelta(days=1)
    )
    await repos.audit.record(who.actor, "calendar.on", f"unit:{unit.code}", {"event": key}, now)
    return planned


async def switch_off(repos: Repos, who: Identity, unit: Unit, key: str, now: datetime) -> Problem | None:
    """Switch an event's reminders off for the unit (planned sendings are cancelled)."""
    if not who.covers(unit):
        return Problem("unit", "unit_out_of_scope", {"unit": unit.name})
    rule = await repos.reminders.active_rule(KIND, unit.id, key)
    if rule is not None:
        await repos.reminders.cancel_rule(rule.id, now)
        await repos.audit.record(who.actor, "calendar.off", f"unit:{unit.code}", {"event": key}, now)
    return None


async def set_words(
    repos: Repos, who: Identity, unit: Unit, key: str, words: str | None, now: datetime
) -> Problem | None:
    """Use the officer's own words for an event that is switched on (None: back to the standard text)."""
    rule = await repos.reminders.active_rule(KIND, unit.id, key)
    if not who.covers(unit) or rule is None:
        return Problem("unit", "unit_out_of_scope", {"unit": unit.name})
    if words is not None and not 1 <= len(words.strip()) <= TEXT_MAX:
        return Problem("text", "reminder_text_length", {"high": TEXT_MAX})
    await repos.reminders.set_text(rule.id, words.strip() if words else None)
    return None


async def _plan_ahead(
    repos: Repos, rule_id: int, key: str, zone: ZoneInfo, now: datetime, after: date
) -> int:
    until = now.astimezone(zone).date() + HORIZON
    moments = [local_moment(r.remind_on, REMIND_AT, zone) for r in upcoming(key, after, until)]
    moments = [moment for moment in moments if moment > now]
    await repos.reminders.plan(rule_id, moments)
    return len(moments)


async def extend_all(repos: Repos, zone: ZoneInfo, now: datetime) -> int:
    """Keep every switched-on event planned a year ahead; returns how many sendings were added."""
    added = 0
    active = await repos.reminders.active_rules(KIND)
    latest = await repos.reminders.last_due([rule.id for rule in active])
    for rule in active:
        assert rule.calendar_key is not None
        last = latest.get(rule.id)
        after = last.astimezone(zone).date() if last else now.astimezone(zone).date() - timedelta(days=1)
        added += await _plan_ahead(repos, rule.id, rule.calendar_key, zone, now, after)
    return added
