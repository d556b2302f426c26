"""Registrations (đăng ký thi đua): a member's or a collective's titles and pledges for a campaign,
changeable and withdrawable until the registration deadline. Problems are values the handlers word.
"""

from __future__ import annotations

import re
from datetime import date, datetime

from bot.domain.campaigns import concerns
from bot.domain.problems import Problem
from bot.domain.titles import NEEDS_INITIATIVE
from bot.domain.vn.parsing import ParseError, parse_quantity
from bot.engine.access import Identity
from messages import formatting
from storage.database import Repos
from storage.records import Campaign, Member, Pledge, Registration, Unit

MAX_PLEDGES = 20
PLEDGE_PART_MAX = 200
QUOTED_LINE_MAX = 40  # a bad line is quoted back this far, so the answer stays readable
INITIATIVE_TITLE_LENGTH = (5, 255)
_PLEDGE_SEPARATOR = re.compile(r"\s*[;|]\s*")


def _quoted(line: str) -> str:
    return line if len(line) <= QUOTED_LINE_MAX else line[: QUOTED_LINE_MAX - 1].rstrip() + "…"


def _pledge(number: int, line: str) -> Pledge | Problem:
    """One typed line as a pledge, or why it is not one."""
    parts = [part.strip() for part in _PLEDGE_SEPARATOR.split(line)]
    if len(parts) != 3 or not all(parts):
        return Problem("pledges", "pledge_format", {"line": number, "text": _quoted(line)})
    content, unit, figure = parts
    if max(map(len, parts)) > PLEDGE_PART_MAX:
        return Problem("pledges", "pledge_length", {"line": number, "high": PLEDGE_PART_MAX})
    value = parse_quantity(figure)
    if isinstance(value, ParseError):
        code = "pledge_negative" if value.code == "quantity.negative" else "pledge_figure"
        return Problem("pledges", code, {"line": number, "figure": _quoted(figure)})
    return Pledge(content, unit, formatting.quantity(value))


def parse_pledges(text: str) -> tuple[list[Pledge], list[Problem]]:
    """Pledges typed one per line as "content; unit; figure", the figure a number of zero or more (1.000;
    2,5), stored the Vietnamese way; or every bad line with why (then no pledge is taken)."""
    pledges: list[Pledge] = []
    problems: list[Problem] = []
    for number, line in enumerate((line.strip(" •\t") for line in text.splitlines()), 1):
        if not line:
            continue
        parsed = _pledge(number, line.removeprefix("- "))  # "- " is a bullet, "-5" a negative figure
        if isinstance(parsed, Problem):
            problems.append(parsed)
        else:
            pledges.append(parsed)
    if not pledges and not problems:
        problems.append(Problem("pledges", "pledge_format", {"line": 1, "text": ""}))
    if len(pledges) > MAX_PLEDGES:
        problems.append(Problem("pledges", "pledges_too_many", {"high": MAX_PLEDGES}))
    return ([], problems) if problems else (pledges, [])


def check_open(campaign: Campaign, today: date) -> Problem | None:
    """Registrations can be made, changed or withdrawn while the campaign runs, until its deadline."""
    if campaign.status != "launched":
        return Problem(
            "campaign",
            "campaign_closed" if campaign.status == "closed" else "campaign_not_open",
            {"title": campaign.title},
        )
    if today > campaign.registration_deadline:
        return Problem("campaign", "deadline_passed", {"deadline": campaign.registration_deadline})
    return None


def check_initiative_title(title: str) -> Problem | None:
    """The title of the initiative behind a Chiến sĩ thi đua candidacy: 5 to 255 characters."""
    low, high = INITIATIVE_TITLE_LENGTH
    if low <= len(title) <= high:
        return None
    return Problem("initiative_title", "initiative_title_length", {"low": low, "high": high})


async def register_member(
    repos: Repos,
    member: Member,
    unit: Unit,
    campaign: Campaign,
    *,
    titles: list[str],
    pledges: list[Pledge],
    initiative_title: str | None,
    actor: str,
    now: datetime,
    today: date,
) -> Problem | None:
    """Save the member's registration (creating or replacing it), or say why not."""
    problem = check_open(campaign, today)
    if problem is None and not await concerns(repos, campaign, unit):
        problem = Problem("campaign", "not_yours", {"title": campaign.title})
    if problem is None and (not titles or any(t not in campaign.individual_titles for t in titles)):
        problem = Problem("titles", "titles_none")
    if problem is None and NEEDS_INITIATIVE in titles:
        problem = check_initiative_title(initiative_title or "")
    if problem is not None:
        return problem
    await repos.registrations.save(
        campaign_id=campaign.id,
        member_id=member.id,
        unit_id=None,
        titles=titles,
        pledges=pledges,
        initiative_title=initiative_title if NEEDS_INITIATIVE in titles else None,
        registered_by=actor,
        now=now,
    )
    await repos.audit.record(
        actor,
        "registration.save",
        f"campaign:{campaign.code}",
        {"member": member.code, "titles": titles},
        now,
    )
    return None


async def withdraw(
    repos: Repos, registration: Registration, campaign: Campaign, actor: str, now: datetime, today: date
) -> Problem | None:
    """Withdraw an active registration before the deadline."""
    problem = check_open(campaign, today)
    if problem is not None:
        return problem
    if not await repos.registrations.withdraw(registration.id, now):
        return Problem("registration", "not_registered", {"title": campaign.title})
    await repos.audit.record(
        actor, "registration.withdraw", f"campaign:{campaign.code}", {"registration": registration.id}, now
    )
    return None


async def register_collective(
    repos: Repos,
    who: Identity,
    unit: Unit,
    campaign: Campaign,
    *,
    titles: list[str],
    pledges: list[Pledge],
    now: datetime,
    today: date,
) -> Problem | None:
    """Save a unit's collective registration, made by an officer who covers the unit."""
    problem = check_open(campaign, today)
    if problem is None and not who.covers(unit):
        problem = Problem("unit", "unit_out_of_scope", {"unit": unit.name})
    if problem is None and not await concerns(repos, campaign, unit):
        problem = Problem("campaign", "not_yours", {"title": campaign.title})
    if problem is None and (not titles or any(t not in campaign.collective_titles for t in titles)):
        problem = Problem("titles", "titles_none")
    if problem is not None:
        return problem
    await repos.registrations.save(
        campaign_id=campaign.id,
        member_id=None,
        unit_id=unit.id,
        titles=titles,
        pledges=pledges,
        initiative_title=None,
        registered_by=who.actor,
        now=now,
    )
    await repos.audit.record(
        who.actor,
        "registration.collective",
        f"campaign:{campaign.code}",
        {"unit": unit.code, "titles": titles},
        now,
    )
    return None
