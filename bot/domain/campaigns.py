"""Campaigns: validation of what an officer (or a file) gives, drafts, launch with a durable announcement,
closing, and who the campaign concerns. Problems are values; handlers and the CLI word them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.domain.broadcasts import AuditEntry, send_to_subtree
from bot.domain.deadline_reminders import plan_campaign_reminders
from bot.domain.problems import Problem
from bot.domain.titles import COLLECTIVE_TITLES, INDIVIDUAL_TITLES
from bot.engine.access import Identity
from messages.formatting import VIETNAM
from storage.database import Repos
from storage.records import Campaign, Unit

CODE_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9_-]{1,19}$")
TITLE_LENGTH = (5, 200)
DESCRIPTION_MAX = 2000
TARGET_MAX = 10_000_000
KINDS = ("ongoing", "peak")
SPLITS = ("roster",)
_TARGET_LINE = re.compile(r"^(?P<code>[^:=]+?)\s*[:=]\s*(?P<figure>[-−]?[0-9][0-9., ]*)$")
ADMIN_ACTOR = "admin"


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
    unit_targets: dict[str, int] = field(default_factory=dict)  # unit code -> initiative target
    split_target: str | None = None  # "roster": the campaign's target split by the roster of each unit below


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
    targets: dict[int, int] = {}
    if unit is not None:
        checked = await check_unit_targets(repos, unit, spec.unit_targets)
        if isinstance(checked, list):
            problems += checked
        else:
            targets = checked
    problems += check_split(spec)
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
    if spec.split_target is not None:
        split = await split_target(repos, campaign, unit)
        assert not isinstance(split, Problem)  # check_split has seen the target and unit_targets are empty
        targets = split
    if targets:
        await set_unit_targets(repos, campaign, targets, replace=True, actor=actor, now=now)
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


def parse_unit_targets(text: str) -> tuple[dict[str, int], list[Problem]]:
    """Units' targets typed one per line as ``CODE: number`` (also ``CODE = number``; 1.200 is 1200), and a
    problem for each line that is not one."""
    entries: dict[str, int] = {}
    problems: list[Problem] = []
    lines = [line.strip(" •-\t") for line in text.splitlines()]
    for number, line in enumerate(lines, 1):
        if not line:
            continue
        match = _TARGET_LINE.match(line)
        digits = match["figure"].replace(".", "").replace(",", "").replace(" ", "") if match else ""
        if match is None or not digits.lstrip("-−").isdecimal():  # isdigit() takes "²"
            problems.append(Problem("unit_targets", "unit_target_format", {"line": number}))
            continue
        code = match["code"].strip()
        figure = int(digits.lstrip("-−"))
        entries[code] = -figure if digits[0] in "-−" else figure
    if not entries and not problems:
        problems.append(Problem("unit_targets", "unit_target_format", {"line": 1}))
    return entries, problems


async def check_unit_targets(
    repos: Repos, owner: Unit, entries: dict[str, int]
) -> dict[int, int] | list[Problem]:
    """Units' targets by unit id (each unit below ``owner``, each target 0..TARGET_MAX), or the problems."""
    targets: dict[int, int] = {}
    problems: list[Problem] = []
    known = await repos.units.by_codes([spelling for code in entries for spelling in (code, code.upper())])
    for code, target in entries.items():
        unit = known.get(code) or known.get(code.upper())
        if unit is None:
            problems.append(Problem("unit_targets", "unit_unknown", {"code": code}))
        elif unit.id == owner.id or not owner.covers(unit):
            problems.append(
                Problem("unit_targets", "unit_target_outside", {"unit": unit.name, "owner": owner.name})
            )
        elif isinstance(target, bool) or not isinstance(target, int) or not 0 <= target <= TARGET_MAX:
            problems.append(
                Problem("unit_targets", "unit_target_range", {"unit": unit.code, "high": TARGET_MAX})
            )
        else:
            targets[unit.id] = target
    return problems or targets


def check_split(spec: CampaignSpec) -> list[Problem]:
    """A split by roster needs the campaign's own target to split, and no units' targets beside it."""
    if spec.split_target is None:
        return []
    if spec.split_target not in SPLITS:
        return [Problem("split_target", "split_unknown", {"how": spec.split_target})]
    if spec.unit_targets:
        return [Problem("split_target", "split_and_targets")]
    if not spec.initiative_target:
        return [Problem("split_target", "split_needs_target")]
    return []


def split_by_roster(total: int, rosters: dict[int, int]) -> dict[int, int]:
    """``total`` shared in proportion to each unit's roster by the largest remainder method, so the parts
    add up to the whole; equal remainders go to the larger roster, then the older unit. Empty rosters share
    alike."""
    weights = rosters if sum(rosters.values()) else dict.fromkeys(rosters, 1)
    whole = sum(weights.values())
    if not whole:
        return {}
    parts = {unit: total * weight // whole for unit, weight in weights.items()}
    by_remainder = sorted(weights, key=lambda unit: (-(total * weights[unit] % whole), -weights[unit], unit))
    for unit in by_remainder[: total - sum(parts.values())]:
        parts[unit] += 1
    return parts


async def split_target(repos: Repos, campaign: Campaign, owner: Unit) -> dict[int, int] | Problem:
    """The campaign's target split between the units directly below its own by roster size."""
    if not campaign.initiative_target:
        return Problem("split_target", "split_needs_target")
    children = await repos.units.children(owner.id)
    if not children:
        return Problem("split_target", "no_units_below", {"unit": owner.name})
    counts = await repos.stats.member_counts_by_child(campaign.id, owner.id)
    rosters = {child.id: counts.get(child.id, (0, 0, 0))[0] for child in children}
    return split_by_roster(campaign.initiative_target, rosters)


async def set_unit_targets(
    repos: Repos, campaign: Campaign, targets: dict[int, int], *, replace: bool, actor: str, now: datetime
) -> None:
    """Store units' targets (``replace``: instead of all the earlier ones) and record who set them."""
    await repos.campaigns.set_unit_targets(campaign.id, targets, replace)
    await repos.audit.record(
        actor,
        "campaign.unit_targets",
        f"campaign:{campaign.code}",
        {"targets": {str(unit): target for unit, target in targets.items()}, "replace": replace},
        now,
    )


async def targets_of(repos: Repos, campaign: Campaign) -> dict[int, int]:
    """Every initiative target of the campaign by unit id: its own unit's and those given to units below."""
    targets = await repos.campaigns.unit_targets(campaign.id)
    if campaign.initiative_target:
        targets[campaign.unit_id] = campaign.initiative_target
    return targets


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
    requested_by = who.account.id if who is not None else None
    reminders = await plan_campaign_reminders(repos, campaign, requested_by, zone, now)
    sent = await send_to_subtree(
        repos,
        kind="announcement",
        title=campaign.title,
        unit=unit,
        campaign_id=campaign.id,
        requested_by=requested_by,
        messages=announcement,
        default_language=default_language,
        now=now,
        audit=AuditEntry(
            who.actor if who is not None else ADMIN_ACTOR,
            "campaign.launch",
            f"campaign:{campaign.code}",
            {"reminders": reminders},
        ),
    )
    return Launch(sent.broadcast_id, sent.queued, reminders)


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
    return await repos.campaigns.launched_for(unit.lineage)


async def launched_above(repos: Repos, units: Sequence[Unit]) -> list[Campaign]:
    """The launched campaigns of the units above these (their ancestors): they concern these units too."""
    return await repos.campaigns.launched_for(sorted({id_ for unit in units for id_ in unit.lineage[:-1]}))


def days_left(deadline: date, today: date) -> int:
    """Whole days until a deadline (0 on the day itself, negative after it)."""
    return (deadline - today).days
