"""Campaigns: validation of what an officer (or a file) gives, drafts, launch with a durable announcement,
closing, and who the campaign concerns. Problems are values; handlers and the CLI word them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.access import Identity
from bot.deadline_reminders import plan_campaign_reminders
from bot.titles import COLLECTIVE_TITLES, INDIVIDUAL_TITLES
from messages.formatting import VIETNAM
from storage.database import Repos
from storage.records import Campaign, Unit

CODE_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9_-]{1,19}$")
TITLE_LENGTH = (5, 200)
DESCRIPTION_MAX = 2000
TARGET_MAX = 10_000_000
KINDS = ("ongoing", "peak")
ADMIN_ACTOR = "admin"


@dataclass(frozen=True, slots=True)
class Problem:
    """Something wrong with a campaign: what it concerns, a code for the message, and its parameters."""

    subject: str
    code: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class CampaignSpec:
    """Everything that defines a campaign, as typed or read from a file."""

    code: str = ""
    title: str = ""
    description: str = ""
    kind: str = "ongoing"
    unit_code: str = ""
    starts_on: date | None = None
    ends_on: date | None = None
    registration_deadline: date | None = None
    initiative_deadline: date | None = None
    initiative_target: int | None = None
    individual_titles: list[str] = field(default_factory=list)
    collective_titles: list[str] = field(default_factory=list)


def check_code(code: str) -> Problem | None:
    """A code is 2 to 20 letters, digits, "-" or "_", used in commands like /join CODE."""
    return None if CODE_PATTERN.match(code) else Problem("code", "code_format", {"code": code})


def check_title(title: str) -> Problem | None:
    """A title has 5 to 200 characters."""
    low, high = TITLE_LENGTH
    return None if low <= len(title) <= high else Problem("title", "title_length", {"low": low, "high": high})


def check_dates(spec: CampaignSpec, today: date) -> list[Problem]:
    """The timeline must hold together: start <= end, deadlines within it, the end and the registration
    deadline not already past (a start in the past is only a warning: see ``date_warnings``).

    Only the dates given so far are compared, so a form can check each date as it is typed.
    """
    problems: list[Problem] = []
    start, end = spec.starts_on, spec.ends_on
    if spec.registration_deadline is not None and spec.registration_deadline < today:
        problems.append(
            Problem("registration_deadline", "deadline_in_past", {"deadline": spec.registration_deadline})
        )
    if end is None:
        return problems
    if start is not None and end < start:
        problems.append(Problem("ends_on", "end_before_start", {"start": start, "end": end}))
    if end < today:
        problems.append(Problem("ends_on", "end_in_past", {"end": end}))
    for name in ("registration_deadline", "initiative_deadline"):
        deadline = getattr(spec, name)
        if deadline is not None and deadline > end:
            problems.append(Problem(name, "deadline_after_end", {"deadline": deadline, "end": end}))
    return problems


def date_warnings(starts_on: date | None, today: date) -> list[Problem]:
    """What is worth a second look but allowed: a start date already past (a campaign launched late, or a
    typo in the year)."""
    if starts_on is not None and starts_on < today:
        return [Problem("starts_on", "start_in_past", {"start": starts_on})]
    return []


def check_spec(spec: CampaignSpec, today: date) -> list[Problem]:
    """Every problem of a complete specification that needs no database."""
    problems = [p for p in (check_code(spec.code), check_title(spec.title)) if p is not None]
    if len(spec.description) > DESCRIPTION_MAX:
        problems.append(Problem("description", "description_length", {"high": DESCRIPTION_MAX}))
    if spec.kind not in KINDS:
        problems.append(Problem("kind", "kind_unknown", {"kind": spec.kind}))
    if spec.starts_on is None or spec.ends_on is None or spec.registration_deadline is None:
        problems.append(Problem("dates", "dates_missing"))
    problems += check_dates(spec, today)
    if spec.initiative_target is not None and not 1 <= spec.initiative_target <= TARGET_MAX:
        problems.append(Problem("initiative_target", "target_range", {"high": TARGET_MAX}))
    unknown = [t for t in spec.individual_titles if t not in INDIVIDUAL_TITLES]
    unknown += [t for t in spec.collective_titles if t not in COLLECTIVE_TITLES]
    if unknown:
        problems.append(Problem("titles", "titles_unknown", {"titles": ", ".join(unknown)}))
    if not spec.individual_titles and not spec.collective_titles:
        problems.append(Problem("titles", "titles_none"))
    return problems


async def check_owner(
    repos: Repos, who: Identity | None, unit_code: str
) -> tuple[Unit | None, Problem | None]:
    """The owning unit, if it exists and (for an officer) lies within their subtree."""
    unit = await repos.units.by_code(unit_code)
    if unit is None:
        return None, Problem("unit", "unit_unknown", {"code": unit_code})
    if who is not None and not who.covers(unit):
        return None, Problem("unit", "unit_out_of_scope", {"unit": unit.name})
    return unit, None


async def create_draft(
    repos: Repos, who: Identity | None, spec: CampaignSpec, actor: str, now: datetime, today: date
) -> Campaign | list[Problem]:
    """Store a draft campaign, or say everything that is wrong with it (then nothing is stored)."""
    spec.code = spec.code.upper()
    problems = check_spec(spec, today)
    if await repos.campaigns.by_code(spec.code) is not None:
        problems.insert(0, Problem("code", "code_taken", {"code": spec.code}))
    unit, unit_problem = await check_owner(repos, who, spec.unit_code)
    if unit_problem is not None:
        problems.append(unit_problem)
    if problems or unit is None:
        return problems
    campaign_id = await repos.campaigns.insert(
        {
            "code": spec.code,
            "title": spec.title,
            "description": spec.description,
            "kind": spec.kind,
            "unit_id": unit.id,
            "starts_on": spec.starts_on,
            "ends_on": spec.ends_on,
            "registration_deadline": spec.registration_deadline,
            "initiative_deadline": spec.initiative_deadline,
            "initiative_target": spec.initiative_target,
            "individual_titles": spec.individual_titles,
            "collective_titles": spec.collective_titles,
        },
        actor,
        now,
    )
    await repos.audit.record(actor, "campaign.create", f"campaign:{spec.code}", {"unit": unit.code}, now)
    campaign = await repos.campaigns.get(campaign_id)
    assert campaign is not None
    return campaign


def launch_problem(campaign: Campaign, today: date) -> Problem | None:
    """Why a draft cannot be launched today, from its dates: its end or its registration deadline has
    passed (an announcement nobody can act on)."""
    if campaign.ends_on < today:
        return Problem("ends_on", "end_in_past", {"end": campaign.ends_on})
    if campaign.registration_deadline < today:
        return Problem(
            "registration_deadline", "deadline_in_past", {"deadline": campaign.registration_deadline}
        )
    return None


@dataclass(frozen=True, slots=True)
class Launch:
    """A launched campaign's announcement broadcast."""

    broadcast_id: int
    queued: int
    reminders: int


async def launch(
    repos: Repos,
    who: Identity | None,
    campaign: Campaign,
    announcement: dict[str, dict[str, Any]],
    *,
    default_language: str,
    now: datetime,
    today: date,
    zone: ZoneInfo = VIETNAM,
) -> Launch | Problem:
    """Launch a draft: queue ``announcement`` (outbox JSON by language) for every linked member below and
    plan the reminders before its deadlines (at 08:00 in ``zone``).

    ``who`` is the officer launching it; None for an admin's tools (the CLI, the demo's seed).
    """
    unit = await repos.units.get(campaign.unit_id)
    assert unit is not None
    if who is not None and not who.covers(unit):
        return Problem("unit", "unit_out_of_scope", {"unit": unit.name})
    problem = launch_problem(campaign, today)
    if problem is not None:
        return problem
    if not await repos.campaigns.move(campaign.id, "draft", "launched", now):
        return Problem("status", "not_draft", {"code": campaign.code})
    broadcast_id = await repos.broadcasts.create(
        kind="announcement",
        title=campaign.title,
        campaign_id=campaign.id,
        unit_id=unit.id,
        requested_by=who.account.id if who is not None else None,
        now=now,
    )
    queued = await repos.outbox.enqueue_for_subtree(
        path=unit.path,
        kind="announcement",
        broadcast_id=broadcast_id,
        messages=announcement,
        default_language=default_language,
        now=now,
    )
    await repos.broadcasts.set_total(broadcast_id, queued, now)
    reminders = await plan_campaign_reminders(
        repos, campaign, who.account.id if who is not None else None, zone, now
    )
    await repos.audit.record(
        who.actor if who is not None else ADMIN_ACTOR,
        "campaign.launch",
        f"campaign:{campaign.code}",
        {"broadcast": broadcast_id, "queued": queued, "reminders": reminders},
        now,
    )
    return Launch(broadcast_id, queued, reminders)


async def close(repos: Repos, who: Identity, campaign: Campaign, now: datetime) -> Problem | None:
    """Close a launched campaign: it no longer takes registrations and leaves members' lists."""
    unit = await repos.units.get(campaign.unit_id)
    assert unit is not None
    if not who.covers(unit):
        return Problem("unit", "unit_out_of_scope", {"unit": unit.name})
    if not await repos.campaigns.move(campaign.id, "launched", "closed", now):
        return Problem("status", "not_launched", {"code": campaign.code})
    await repos.audit.record(who.actor, "campaign.close", f"campaign:{campaign.code}", {}, now)
    return None


async def concerns(repos: Repos, campaign: Campaign, unit: Unit) -> bool:
    """True when the campaign applies to a member of ``unit`` (it is owned by that unit or an ancestor)."""
    owner = await repos.units.get(campaign.unit_id)
    return owner is not None and owner.covers(unit)


async def open_for(repos: Repos, unit: Unit) -> list[Campaign]:
    """The launched campaigns that apply to members of ``unit``."""
    ancestry = [ancestor.id for ancestor in await repos.units.ancestors(unit)] + [unit.id]
    return await repos.campaigns.launched_for(ancestry)


def days_left(deadline: date, today: date) -> int:
    """Whole days until a deadline (0 on the day itself, negative after it)."""
    return (deadline - today).days
