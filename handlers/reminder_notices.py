"""How reminders read: a campaign deadline's with its Register or new-initiative button, the evaluation's
with its Self-assess button, an officer's own words under their unit's heading, a day of the union year,
and the notice that one was missed. The domain says what is due (bot/domain/reminders.py); bot/app.py hands
``REMINDER_WORDING`` to the scheduler. /thongbao uses ``unit_notice`` for a broadcast's message too.
"""

from __future__ import annotations

from datetime import date

from bot.domain.audiences import Audience
from bot.domain.campaigns import days_left
from bot.domain.records import Campaign, Unit
from bot.domain.registrations import check_open
from bot.domain.reminders import DueReminder, MissedReminder, ReminderWording, event_day
from bot.engine.buttons import AssessCampaign, InitiativeStep, Register
from bot.engine.events import Button, Outgoing
from messages import Html, escape, formatting, text


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
    *,
    registering: bool,
) -> Outgoing:
    """An officer's own words headed by their unit (a reminder's heading, or ``head``: a broadcast's); to
    the unregistered of a campaign while ``registering`` (its registration open), with its Register button
    (the notice asks them to do just that; past the deadline the button would only be refused)."""
    body = Html(text(language, head, unit=unit.name) + "\n" + escape(words))
    if audience is None or audience.name != "unregistered" or audience.campaign_id is None or not registering:
        return Outgoing(body)
    payload = Register(audience.campaign_id)
    button = Button(text(language, "reminders.registration_button"), payload.pack())
    return Outgoing(body, ((button,),))


def _registering(due: DueReminder) -> bool:
    return due.campaign is None or check_open(due.campaign, due.today) is None


def reminder_message(language: str, due: DueReminder) -> Outgoing:
    """The message a due reminder sends in ``language``."""
    if due.kind == "calendar":
        assert due.calendar_key is not None
        values = _calendar_values(language, due.calendar_key, due.unit, due.today)
        if due.words:
            words = fill_placeholders(due.words, values)
            return unit_notice(language, due.unit, words, due.audience, registering=_registering(due))
        return Outgoing(text(language, f"calendar.{due.calendar_key}", **values))
    if due.kind == "custom" and due.words:
        words = fill_placeholders(due.words, _custom_values(language, due.unit, due.campaign, due.today))
        return unit_notice(
            language, due.sender or due.unit, words, due.audience, registering=_registering(due)
        )
    campaign = due.campaign
    assert campaign is not None
    if due.kind == "evaluation":
        return _evaluation_reminder(language, campaign, due)
    deadline = campaign.registration_deadline if due.kind == "registration" else campaign.initiative_deadline
    assert deadline is not None
    body = text(
        language,
        f"reminders.{due.kind}",
        title=campaign.title,
        deadline=formatting.day(deadline),
        days=days_left(deadline, due.today),
    )
    payload = Register(campaign.id) if due.kind == "registration" else InitiativeStep("new")
    button = Button(text(language, f"reminders.{due.kind}_button"), payload.pack())
    return Outgoing(body, ((button,),))


def _evaluation_reminder(language: str, campaign: Campaign, due: DueReminder) -> Outgoing:
    """Before the evaluation opens (and on its day): get ready to self-assess, with the button to do it; an
    officer is told which collectives they lead are to be assessed (and whether their own registration is
    too: the button then offers each)."""
    opens = campaign.evaluation_opens_on
    assert opens is not None
    days = days_left(opens, due.today)
    key = "reminders.evaluation" + ("_collective" if due.collectives else "") + ("" if days > 0 else "_today")
    values: dict[str, object] = {"title": campaign.title, "deadline": formatting.day(opens), "days": days}
    if due.collectives:
        values["unit"] = ", ".join(due.collectives)
    body = text(language, key, **values)
    if due.own_too:
        body = Html(body + "\n" + text(language, "reminders.evaluation_own_too"))
    button = Button(text(language, "reminders.evaluation_button"), AssessCampaign(campaign.id).pack())
    return Outgoing(body, ((button,),))


def reminder_title(language: str, due: DueReminder) -> str:
    """The title a reminder's broadcast is listed under: its campaign's, or its kind's."""
    return due.campaign.title if due.campaign else text(language, f"reminders.title_{due.kind}")


def missed_notice(language: str, missed: MissedReminder) -> Outgoing:
    """What the owner of a reminder missed while the bot was down is told."""
    what = missed.campaign.title if missed.campaign else text(language, f"reminders.title_{missed.kind}")
    at = formatting.moment(missed.due_at, language, missed.zone)
    return Outgoing(text(language, "reminders.missed", what=what, at=at))


REMINDER_WORDING = ReminderWording(message=reminder_message, title=reminder_title, missed=missed_notice)
