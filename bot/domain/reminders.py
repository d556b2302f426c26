"""Reminders: an officer's own, and what a sending queues when its time comes (the campaign deadlines'
automatic ones are planned at launch by deadline_reminders.py): one outbox row per member who still has
something to do, in their language, skipping those who switched reminders off.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.domain.broadcasts import send_to_subtree
from bot.domain.calendar.union_calendar import reminders_between
from bot.domain.campaigns import days_left
from bot.domain.problems import Problem
from bot.engine.access import Identity
from bot.engine.buttons import InitiativeStep, Register
from bot.engine.events import Button, Outgoing
from bot.engine.outbox import queue_messages
from messages import LANGUAGES, Html, escape, formatting, text
from storage.database import Repos
from storage.records import Campaign, Sending, Unit
from storage.repos.outbox import Audience

AUDIENCES = ("everyone", "unregistered", "registered", "no_initiative")
TEXT_MAX = 2000


@dataclass(frozen=True, slots=True)
class CustomReminder:
    """What an officer asks for with /remind."""

    unit: Unit
    text: str
    when: datetime
    audience: str
    campaign: Campaign | None


async def schedule_custom(
    repos: Repos, who: Identity, reminder: CustomReminder, now: datetime
) -> Problem | int:
    """Plan an officer's reminder; returns the rule id, or why it cannot be planned."""
    if not who.covers(reminder.unit):
        return Problem("unit", "unit_out_of_scope", {"unit": reminder.unit.name})
    if not reminder.text.strip() or len(reminder.text) > TEXT_MAX:
        return Problem("text", "reminder_text_length", {"high": TEXT_MAX})
    if reminder.when <= now:
        return Problem("when", "reminder_in_past")
    if reminder.audience not in AUDIENCES or (reminder.audience != "everyone" and reminder.campaign is None):
        return Problem("audience", "audience_unknown")
    rule_id = await repos.reminders.create_rule(
        kind="custom",
        unit_id=reminder.unit.id,
        audience=reminder.audience,
        campaign_id=reminder.campaign.id if reminder.campaign else None,
        text=reminder.text.strip(),
        owner_account_id=who.account.id,
        now=now,
    )
    await repos.reminders.plan(rule_id, [reminder.when])
    await repos.audit.record(
        who.actor,
        "reminder.schedule",
        f"unit:{reminder.unit.code}",
        {"rule": rule_id, "audience": reminder.audience},
        now,
    )
    return rule_id


def event_day(key: str, remind_on: date) -> date | None:
    """The day of the event a calendar reminder sent on ``remind_on`` announces."""
    found = [r for r in reminders_between(remind_on, remind_on) if r.key == key]
    return found[0].event_day if found else None


def fill_placeholders(words: str, values: dict[str, str]) -> str:
    """An officer's words with each known ``{name}`` replaced; any other brace is left as typed."""
    for name, value in values.items():
        words = words.replace("{" + name + "}", value)
    return words


def _calendar_values(language: str, key: str, unit: Unit, today: date) -> dict[str, str]:
    day = event_day(key, today)
    return {
        "date": formatting.day(day, language) if day else "",
        "days_left": formatting.number(days_left(day, today), language) if day else "",
        "unit": unit.name,
    }


def _custom_values(language: str, unit: Unit, campaign: Campaign | None, today: date) -> dict[str, str]:
    """What an officer's one-off reminder may name: the day it goes out, the unit and, for a campaign's
    audience, its registration deadline and the days left to it."""
    values = {"date": formatting.day(today, language), "unit": unit.name}
    if campaign is not None:
        deadline = campaign.registration_deadline
        values |= {
            "campaign": campaign.title,
            "deadline": formatting.day(deadline, language),
            "days_left": formatting.number(days_left(deadline, today), language),
        }
    return values


def unit_notice(
    language: str,
    unit: Unit,
    words: str,
    audience: Audience | None,
    head: str = "reminders.custom_head",
) -> Outgoing:
    """An officer's own words headed by their unit (a reminder's heading, or ``head``: a broadcast's); to
    the unregistered of a campaign, with its Register button (the notice asks them to do just that)."""
    body = Html(text(language, head, unit=unit.name) + "\n" + escape(words))
    if audience is None or audience.name != "unregistered" or audience.campaign_id is None:
        return Outgoing(body)
    payload = Register(audience.campaign_id)
    button = Button(text(language, "reminders.registration_button"), payload.pack())
    return Outgoing(body, ((button,),))


def _reminder_message(
    language: str, sending: Sending, unit: Unit, campaign: Campaign | None, today: date
) -> Outgoing:
    rule = sending.rule
    if rule.kind == "calendar":
        assert rule.calendar_key is not None
        values = _calendar_values(language, rule.calendar_key, unit, today)
        if rule.text:
            words = fill_placeholders(rule.text, values)
            return unit_notice(language, unit, words, Audience(rule.audience, rule.campaign_id))
        return Outgoing(text(language, f"calendar.{rule.calendar_key}", **values))
    if rule.kind == "custom" and rule.text:
        words = fill_placeholders(rule.text, _custom_values(language, unit, campaign, today))
        return unit_notice(language, unit, words, Audience(rule.audience, rule.campaign_id))
    assert campaign is not None
    deadline = campaign.registration_deadline if rule.kind == "registration" else campaign.initiative_deadline
    assert deadline is not None
    body = text(
        language,
        f"reminders.{rule.kind}",
        title=campaign.title,
        deadline=formatting.day(deadline),
        days=days_left(deadline, today),
    )
    payload = Register(campaign.id) if rule.kind == "registration" else InitiativeStep("new")
    button = Button(text(language, f"reminders.{rule.kind}_button"), payload.pack())
    return Outgoing(body, ((button,),))


async def fire(
    repos: Repos, sending: Sending, *, default_language: str, zone: ZoneInfo, now: datetime
) -> int | None:
    """Queue a due sending for its audience; None if someone else already sent it. Returns how many."""
    rule = sending.rule
    unit = await repos.units.get(rule.unit_id)
    campaign = await repos.campaigns.get(rule.campaign_id) if rule.campaign_id else None
    assert unit is not None
    if campaign is not None and campaign.status != "launched":
        await repos.reminders.settle(sending.id, "cancelled", now)
        return 0
    if not await repos.reminders.settle(sending.id, "sent", now):
        return None
    today = now.astimezone(zone).date()
    title = campaign.title if campaign else text(default_language, f"reminders.title_{rule.kind}")
    messages = {lang: _reminder_message(lang, sending, unit, campaign, today).to_json() for lang in LANGUAGES}
    sent = await send_to_subtree(
        repos,
        kind="reminder",
        title=title,
        unit=unit,
        campaign_id=campaign.id if campaign else None,
        requested_by=rule.owner_account_id if rule.kind == "custom" else None,
        messages=messages,
        default_language=default_language,
        now=now,
        audience=Audience(rule.audience, rule.campaign_id) if rule.audience != "everyone" else None,
        skip_opted_out=True,
    )
    await repos.reminders.link_broadcast(sending.id, sent.broadcast_id)
    return sent.queued


async def report_missed(
    repos: Repos, sending: Sending, *, default_language: str, zone: ZoneInfo, now: datetime
) -> None:
    """Mark a sending missed (the bot was down past the grace period) and tell the officer who owns it."""
    if not await repos.reminders.settle(sending.id, "missed", now):
        return
    owner = (
        await repos.accounts.by_id(sending.rule.owner_account_id) if sending.rule.owner_account_id else None
    )
    if owner is None:
        return
    language = owner.language or default_language
    campaign = await repos.campaigns.get(sending.rule.campaign_id) if sending.rule.campaign_id else None
    what = campaign.title if campaign else text(language, f"reminders.title_{sending.rule.kind}")
    notice = text(
        language, "reminders.missed", what=what, at=formatting.moment(sending.due_at, language, zone)
    )
    await queue_messages(repos, [owner], Outgoing(notice), "reminder_missed", now)
