"""Reminders: an officer's own, and what a sending queues when its time comes (the campaign deadlines'
automatic ones are planned at launch by deadline_reminders.py): one outbox row per member who still has
something to do (for the evaluation, also each officer of a collective still to self-assess), in their
language, skipping those who switched reminders off. The words are not written
here: a ``ReminderWording`` (handlers/reminder_notices.py) turns what is due into messages.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.domain.audiences import Audience
from bot.domain.broadcasts import send_to_subtree
from bot.domain.calendar.union_calendar import reminders_between
from bot.domain.problems import Problem
from bot.engine.access import Identity
from bot.engine.events import Outgoing
from bot.engine.outbox import queue_messages
from messages import LANGUAGES
from storage.database import Repos
from storage.records import Campaign, Sending, Unit
from storage.repos.outbox import NewOutboxItem

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
        sender_unit_id=who.sender_for(reminder.unit).id,  # whom it comes from, named at its head
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


async def cancel_planned(repos: Repos, rule_id: int, who: Identity, now: datetime) -> int | Problem:
    """Cancel an officer's own planned reminder; the sendings cancelled, or why not (gone, not theirs)."""
    planned = [
        s for s in await repos.reminders.planned(after=now, paths=who.led_paths) if s.rule.id == rule_id
    ]
    if not planned:
        return Problem("reminder", "reminder_gone")
    if planned[0].rule.owner_account_id != who.account.id:
        return Problem("reminder", "reminder_not_yours")
    cancelled = await repos.reminders.cancel_rule(rule_id, now)
    await repos.audit.record(who.actor, "reminder.cancel", f"rule:{rule_id}", {"sendings": cancelled}, now)
    return cancelled


def event_day(key: str, remind_on: date) -> date | None:
    """The day of the event a calendar reminder sent on ``remind_on`` announces."""
    found = [r for r in reminders_between(remind_on, remind_on) if r.key == key]
    return found[0].event_day if found else None


@dataclass(frozen=True, slots=True)
class DueReminder:
    """A sending whose moment has come, as the wording needs it: what kind, for which unit and campaign,
    the officer's own words (if any), the calendar day it names, to whom, and the local day it goes out; for
    an officer reminded of the evaluation, the collectives they lead still to self-assess and whether their
    own registration waits too."""

    kind: str
    unit: Unit
    campaign: Campaign | None
    audience: Audience
    words: str | None
    calendar_key: str | None
    today: date
    collectives: tuple[str, ...] = ()
    own_too: bool = False
    sender: Unit | None = None  # an officer's reminder to a unit below theirs: their unit, named at its head


@dataclass(frozen=True, slots=True)
class MissedReminder:
    """A sending that was missed while the bot was down: what it was and when it was due."""

    kind: str
    campaign: Campaign | None
    due_at: datetime
    zone: ZoneInfo


@dataclass(frozen=True, slots=True)
class ReminderWording:
    """How reminders read, in each language: the handlers write it and the composition root hands it to
    the scheduler, so the domain only says what is due and to whom."""

    message: Callable[[str, DueReminder], Outgoing]
    title: Callable[[str, DueReminder], str]
    missed: Callable[[str, MissedReminder], Outgoing]


async def fire(
    repos: Repos,
    sending: Sending,
    wording: ReminderWording,
    *,
    default_language: str,
    zone: ZoneInfo,
    now: datetime,
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
    sender = rule.sender_unit_id
    due = DueReminder(
        kind=rule.kind,
        unit=unit,
        campaign=campaign,
        audience=Audience(rule.audience, rule.campaign_id),
        words=rule.text,
        calendar_key=rule.calendar_key,
        today=now.astimezone(zone).date(),
        sender=await repos.units.get(sender) if sender is not None and sender != unit.id else None,
    )
    messages = {lang: wording.message(lang, due).to_json() for lang in LANGUAGES}
    officers: list[NewOutboxItem] = []
    if rule.kind == "evaluation" and campaign is not None:
        officers = await _collective_officers(repos, due, wording, unit, campaign, default_language)
    sent = await send_to_subtree(
        repos,
        kind="reminder",
        title=wording.title(default_language, due),
        unit=unit,
        campaign_id=campaign.id if campaign else None,
        requested_by=rule.owner_account_id if rule.kind == "custom" else None,
        messages=messages,
        default_language=default_language,
        now=now,
        audience=Audience(rule.audience, rule.campaign_id) if rule.audience != "everyone" else None,
        skip_opted_out=True,
        also=officers,
    )
    await repos.reminders.link_broadcast(sending.id, sent.broadcast_id)
    return sent.queued


async def _collective_officers(
    repos: Repos,
    due: DueReminder,
    wording: ReminderWording,
    unit: Unit,
    campaign: Campaign,
    default_language: str,
) -> list[NewOutboxItem]:
    """The evaluation's reminder to the officers of the subtree's collectives still to self-assess: one each,
    naming their collectives, in their language (and telling them if their own registration waits too)."""
    found = await repos.evaluation.officers_of_unassessed_collectives(
        campaign.id, unit.path, skip_opted_out=True
    )
    items = []
    for officer in found:
        account = officer.account
        theirs = replace(due, collectives=officer.units, own_too=officer.own_pending)
        message = wording.message(account.language or default_language, theirs).to_json()
        items.append(NewOutboxItem(account.channel, account.chat_id, account.id, "reminder", message))
    return items


async def report_missed(
    repos: Repos,
    sending: Sending,
    wording: ReminderWording,
    *,
    default_language: str,
    zone: ZoneInfo,
    now: datetime,
) -> None:
    """Mark a sending missed (the bot was down past the grace period) and tell the officer who owns it."""
    if not await repos.reminders.settle(sending.id, "missed", now):
        return
    owner = (
        await repos.accounts.by_id(sending.rule.owner_account_id) if sending.rule.owner_account_id else None
    )
    if owner is None:
        return
    campaign = await repos.campaigns.get(sending.rule.campaign_id) if sending.rule.campaign_id else None
    missed = MissedReminder(sending.rule.kind, campaign, sending.due_at, zone)
    notice = wording.missed(owner.language or default_language, missed)
    await queue_messages(repos, [owner], notice, "reminder_missed", now)
