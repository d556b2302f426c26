"""The year-end evaluation (bình xét): when a campaign's evaluation opens (with reminders before it), each
registered member, and for a collective an officer covering its unit, reports against the pledges and
confirms the titles still sought; the base union's officer then marks each candidate reached or not for each
title, with the meeting's vote and a note, within the union's caps. Outcomes are ``title_results`` rows,
written once with their audit row; ``titles_reached`` is what reports count.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.domain.campaigns import ADMIN_ACTOR
from bot.domain.deadline_reminders import local_moment
from bot.domain.problems import Problem
from bot.domain.titles import NEEDS_INITIATIVE, PREREQUISITES, TitleCap
from bot.domain.vn.parsing import ParseError, parse_quantity
from bot.domain.vn.textkeys import search_key
from bot.engine.access import Identity
from messages import formatting
from storage.database import Repos
from storage.records import (
    Campaign,
    Initiative,
    Pledge,
    PledgeResult,
    Registration,
    SelfAssessment,
    TitleResult,
    Unit,
)
from storage.repos.evaluation import Entrant, ReachedCount

REMINDER_DAYS = (7, 3, 1, 0)  # before the evaluation opens; 0: the morning it opens
REMIND_AT = time(8, 0)
REMINDED = "not_assessed"  # registered members who have not sent their self-assessment
CANDIDATES_LIMIT = 500
NOTE_MAX = 1000
VOTES_MAX = 100_000
INITIATIVE_UNITS = ("sang kien", "initiative", "initiatives")  # a pledge's unit, as search_key writes it
_VOTE = re.compile(r"\s*(\d{1,6})\s*(?:/|trên|tren|of)\s*(\d{1,6})\s*", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Vote:
    """The meeting's vote on a candidate: how many agreed of how many were present."""

    agreed: int
    present: int


@dataclass(frozen=True, slots=True)
class Candidate:
    """One registration seeking one title, as the evaluating officer sees it."""

    entrant: Entrant
    title: str
    assessment: SelfAssessment | None
    result: TitleResult | None
    recognised: tuple[Initiative, ...]  # the member's recognised initiatives behind a Chiến sĩ thi đua


@dataclass(frozen=True, slots=True)
class TitleDecision:
    """An officer's decision on one candidate: reached or not for a title, taken on the card drawn at
    ``version`` of the candidate's self-assessment."""

    campaign: Campaign
    registration: Registration
    title: str
    reached: bool
    version: int


def check_open(campaign: Campaign, today: date) -> Problem | None:
    """The evaluation of a launched or closed campaign is open from its opening day on."""
    opens = campaign.evaluation_opens_on
    if campaign.status == "draft" or opens is None:
        return Problem("evaluation", "evaluation_not_set", {"title": campaign.title})
    if today < opens:
        return Problem("evaluation", "evaluation_not_open", {"title": campaign.title, "date": opens})
    return None


async def open_evaluation(
    repos: Repos,
    who: Identity | None,
    campaign: Campaign,
    opens_on: date,
    zone: ZoneInfo,
    now: datetime,
    today: date,
) -> Problem | None:
    """Set the day the campaign's evaluation opens and plan the reminders to its registered members who have
    not sent their self-assessment yet: 08:00 7, 3 and 1 days before and on the day. ``who`` is an officer
    over its owning unit (checked by the caller); None for an admin's tools (the demo's seed)."""
    if campaign.status != "launched":
        code = "campaign_closed" if campaign.status == "closed" else "campaign_not_open"
        return Problem("campaign", code, {"title": campaign.title})
    if campaign.evaluation_opens_on is not None:
        return Problem("evaluation", "evaluation_set", {"date": campaign.evaluation_opens_on})
    if opens_on < today:
        return Problem("evaluation", "evaluation_in_past", {"date": opens_on})
    await repos.campaigns.update(campaign.id, {"evaluation_opens_on": opens_on}, now)
    rule_id = await repos.reminders.create_rule(
        kind="evaluation",
        unit_id=campaign.unit_id,
        audience=REMINDED,
        campaign_id=campaign.id,
        owner_account_id=who.account.id if who is not None else None,
        now=now,
    )
    moments = [local_moment(opens_on - timedelta(days=days), REMIND_AT, zone) for days in REMINDER_DAYS]
    await repos.reminders.plan(rule_id, [moment for moment in moments if moment > now])
    await repos.audit.record(
        who.actor if who is not None else ADMIN_ACTOR,
        "evaluation.open",
        f"campaign:{campaign.code}",
        {"opens_on": opens_on.isoformat()},
        now,
    )
    return None


async def _decided(repos: Repos, registration: Registration, unit_id: int) -> bool:
    """True once the evaluation decided on any title of this registration."""
    for title in registration.titles:
        if await repos.evaluation.result_for(
            registration.campaign_id, registration.member_id, unit_id, title
        ):
            return True
    return False


def parse_figure(text: str) -> str | ParseError:
    """The figure achieved against a pledge, stored the Vietnamese way (1.000; 2,5)."""
    value = parse_quantity(text)
    return value if isinstance(value, ParseError) else formatting.quantity(value)


def counts_initiatives(pledge: Pledge) -> bool:
    """A pledge measured in initiatives (its unit "sáng kiến"): one the product counts itself."""
    return search_key(pledge.unit) in INITIATIVE_UNITS


async def recorded_figures(
    repos: Repos, campaign: Campaign, registration: Registration, holder_unit: Unit
) -> list[int | None]:
    """Per pledge, what the product records against it: for one measured in initiatives, those recognised
    in the campaign (a member's own, as the evaluation card lists them; a collective's, its unit's); None
    for any other pledge, which only the holder can say."""
    if not any(counts_initiatives(pledge) for pledge in registration.pledges):
        return [None] * len(registration.pledges)
    if registration.member_id is not None:
        recognised = len(await _recognised(repos, campaign, registration.member_id))
    else:
        recognised = (await repos.initiatives.counts(campaign.id, holder_unit.path)).recognised
    return [recognised if counts_initiatives(pledge) else None for pledge in registration.pledges]


def claim_doubts(pledge: Pledge, result: PledgeResult, recorded: int | None) -> list[Problem]:
    """What a self-assessed pledge claims beyond the figures: reached with less than was pledged, or more
    initiatives than are recognised. The holder is asked to confirm, never refused: the evaluation decides."""
    figure, planned = parse_quantity(result.figure), parse_quantity(pledge.figure)
    if isinstance(figure, ParseError):
        return []
    doubts = []
    if result.reached and not isinstance(planned, ParseError) and figure < planned:
        doubts.append(
            Problem(
                "figure",
                "claim_below_pledge",
                {"figure": result.figure, "planned": pledge.figure, "unit": pledge.unit},
            )
        )
    if recorded is not None and figure > recorded:
        doubts.append(
            Problem("figure", "claim_above_record", {"figure": result.figure, "recorded": recorded})
        )
    return doubts


async def save_draft(
    repos: Repos,
    registration: Registration,
    results: Sequence[PledgeResult | None],
    titles: Sequence[str],
    actor: str,
    now: datetime,
) -> Problem | None:
    """Keep the answers given so far; a submitted self-assessment is no draft any more."""
    found = await repos.evaluation.assessment(registration.id)
    if found is not None and found.status == "submitted":
        return Problem("assessment", "assessment_submitted")
    await repos.evaluation.save_assessment(registration, results, titles, "draft", actor, now)
    return None


async def submit(
    repos: Repos,
    registration: Registration,
    holder_unit: Unit,
    campaign: Campaign,
    results: Sequence[PledgeResult | None],
    titles: Sequence[str],
    actor: str,
    now: datetime,
    today: date,
) -> Problem | None:
    """Submit the self-assessment: every pledge answered, at least one title still sought among those
    registered for; once submitted it is what the evaluation reads, and it is not changed again."""
    problem = check_open(campaign, today)
    found = await repos.evaluation.assessment(registration.id)
    if problem is None and found is not None and found.status == "submitted":
        problem = Problem("assessment", "assessment_submitted")
    if problem is None and (len(results) != len(registration.pledges) or any(r is None for r in results)):
        problem = Problem("assessment", "assessment_unanswered")
    if problem is None and (not titles or any(title not in registration.titles for title in titles)):
        problem = Problem("titles", "titles_none")
    if problem is None and await _decided(repos, registration, holder_unit.id):
        problem = Problem("assessment", "assessment_decided")
    if problem is not None:
        return problem
    await repos.evaluation.save_assessment(registration, results, titles, "submitted", actor, now)
    await repos.audit.record(
        actor,
        "assessment.submit",
        f"campaign:{campaign.code}",
        {"registration": registration.id, "titles": list(titles)},
        now,
    )
    return None


def sought(registration: Registration, assessment: SelfAssessment | None) -> tuple[str, ...]:
    """The titles a registration still seeks: those confirmed in its submitted self-assessment, else all it
    registered for."""
    if assessment is not None and assessment.status == "submitted":
        return assessment.titles
    return registration.titles


async def _recognised(repos: Repos, campaign: Campaign, member_id: int | None) -> tuple[Initiative, ...]:
    if member_id is None:
        return ()
    found = await repos.initiatives.of_member(member_id)
    return tuple(
        initiative
        for initiative in found
        if initiative.status == "recognised" and initiative.campaign_id in (campaign.id, None)
    )


async def candidates(repos: Repos, campaign: Campaign, who: Identity, title: str) -> list[Candidate]:
    """The candidates for ``title`` in the units ``who`` covers: registrations seeking it, with their
    self-assessment, the decision if made, and (for a Chiến sĩ thi đua) their recognised initiatives."""
    return (await candidates_by_title(repos, campaign, who, (title,)))[title]


async def candidates_by_title(
    repos: Repos, campaign: Campaign, who: Identity, titles: Sequence[str]
) -> dict[str, list[Candidate]]:
    """``candidates`` for each of ``titles``, from one read of the registrations and their decisions."""
    entrants = await repos.evaluation.entrants(campaign.id, who.led_paths, CANDIDATES_LIMIT)
    assessments = await repos.evaluation.assessments([e.registration.id for e in entrants])
    decided = await repos.evaluation.results(campaign.id, sorted({e.unit_id for e in entrants}))
    by_holder = {(r.member_id, r.unit_id if r.member_id is None else None, r.title): r for r in decided}
    found: dict[str, list[Candidate]] = {title: [] for title in titles}
    for entrant in entrants:
        registration = entrant.registration
        assessment = assessments.get(registration.id)
        for title in found:
            if title not in sought(registration, assessment):
                continue
            holder = (registration.member_id, registration.unit_id, title)
            recognised = (
                await _recognised(repos, campaign, registration.member_id)
                if title == NEEDS_INITIATIVE
                else ()
            )
            found[title].append(Candidate(entrant, title, assessment, by_holder.get(holder), recognised))
    return found


def parse_vote(text: str) -> Vote | Problem:
    """The meeting's vote typed as "agreed/present" ("18/20", "18 trên 20"); no more agreed than present."""
    match = _VOTE.fullmatch(text)
    if match is None:
        return Problem("vote", "vote_format", {"text": text.strip()[:40]})
    agreed, present = int(match[1]), int(match[2])
    if present < 1 or present > VOTES_MAX:
        return Problem("vote", "vote_present", {"high": VOTES_MAX})
    if agreed > present:
        return Problem("vote", "vote_above_present", {"agreed": agreed, "present": present})
    return Vote(agreed, present)


async def holder_unit(repos: Repos, registration: Registration) -> Unit | None:
    """The unit of the candidate: the member's (where they are now) or the collective's."""
    if registration.member_id is None:
        return await repos.units.get(registration.unit_id) if registration.unit_id is not None else None
    member = await repos.members.with_unit(registration.member_id)
    return member[1] if member is not None else None


async def _counted_in(
    repos: Repos, campaign: Campaign, registration: Registration, title: str, unit: Unit
) -> int:
    """The unit a decision on ``title`` is counted in: where the member reached the title it needs (a member
    who moved since stays inside the count that allows them, and its cap), else the candidate's unit."""
    needed = PREREQUISITES.get(title)
    if needed is not None and registration.member_id is not None:
        before = await repos.evaluation.result_for(campaign.id, registration.member_id, unit.id, needed)
        if before is not None and before.reached:
            return before.unit_id
    return unit.id


async def decision_refusal(
    repos: Repos, who: Identity, decision: TitleDecision, caps: Sequence[TitleCap], today: date
) -> Problem | None:
    """Why this decision cannot be made (checked when its button is pressed and again when it is saved), or
    None: the evaluation is open, the candidate is in a unit ``who`` covers, seeks the title, is shown as
    it is now, is not decided yet; a Chiến sĩ thi đua has a recognised initiative and reached Lao động tiên
    tiến in the campaign; no cap is exceeded."""
    campaign, registration, title = decision.campaign, decision.registration, decision.title
    problem = check_open(campaign, today)
    if problem is not None:
        return problem
    unit = await holder_unit(repos, registration)
    if unit is None or not who.covers(unit):
        return Problem("unit", "evaluation_out_of_scope", {"unit": unit.name if unit else "?"})
    assessment = await repos.evaluation.assessment(registration.id)
    if registration.status != "active" or title not in sought(registration, assessment):
        return Problem("evaluation", "not_candidate", {"title": title})
    if (assessment.version if assessment else 0) != decision.version:
        return Problem("evaluation", "candidate_changed")
    if await repos.evaluation.result_for(campaign.id, registration.member_id, unit.id, title) is not None:
        return Problem("evaluation", "already_decided")
    if not decision.reached:
        return None
    if title == NEEDS_INITIATIVE and not await _recognised(repos, campaign, registration.member_id):
        return Problem("evaluation", "needs_initiative")
    needed = PREREQUISITES.get(title)
    if needed is not None and registration.member_id is not None:
        before = await repos.evaluation.result_for(campaign.id, registration.member_id, unit.id, needed)
        if before is None or not before.reached:
            return Problem("evaluation", "needs_title", {"title": title, "of_title": needed})
    counted_in = await _counted_in(repos, campaign, registration, title, unit)
    for cap in caps:
        if cap.title != title or registration.member_id is None:
            continue
        counts = await repos.evaluation.reached_in_unit(campaign.id, counted_in, (cap.title, cap.of_title))
        base, already = counts.get(cap.of_title, 0), counts.get(cap.title, 0)
        if already + 1 > cap.allowed(base):
            return Problem(
                "evaluation",
                "cap_exceeded",
                {
                    "title": cap.title,
                    "percent": cap.percent,
                    "of_title": cap.of_title,
                    "base": base,
                    "allowed": cap.allowed(base),
                },
            )
    return None


async def decide(
    repos: Repos,
    who: Identity,
    decision: TitleDecision,
    *,
    vote: Vote,
    note: str,
    caps: Sequence[TitleCap],
    now: datetime,
    today: date,
) -> Problem | None:
    """Record the evaluation's outcome for one candidate and title, with its audit row; or why not."""
    registration = decision.registration
    problem = await decision_refusal(repos, who, decision, caps, today)
    if problem is None and vote.agreed > vote.present:
        problem = Problem("vote", "vote_above_present", {"agreed": vote.agreed, "present": vote.present})
    if problem is None and len(note) > NOTE_MAX:
        problem = Problem("note", "note_too_long", {"high": NOTE_MAX})
    if problem is not None:
        return problem
    unit = await holder_unit(repos, registration)
    assert unit is not None
    await repos.evaluation.record(
        campaign_id=decision.campaign.id,
        member_id=registration.member_id,
        unit_id=await _counted_in(repos, decision.campaign, registration, decision.title, unit),
        title=decision.title,
        reached=decision.reached,
        votes_agreed=vote.agreed,
        votes_present=vote.present,
        note=note,
        decided_by=who.actor,
        now=now,
    )
    await repos.audit.record(
        who.actor,
        "evaluation.decide",
        f"campaign:{decision.campaign.code}",
        {
            "registration": registration.id,
            "title": decision.title,
            "reached": decision.reached,
            "votes": f"{vote.agreed}/{vote.present}",
        },
        now,
    )
    return None


async def titles_reached(
    repos: Repos, campaigns: Sequence[Campaign], within: Sequence[Unit] = ()
) -> list[ReachedCount]:
    """Titles reached per unit (members and collectives apart) in these campaigns (e.g. a year's), for the
    units inside ``within`` (every unit when empty): what /tongket and the workbook count."""
    return await repos.evaluation.reached_per_unit([c.id for c in campaigns], [u.path for u in within])


def campaigns_of_year(found: Sequence[Campaign], year: int) -> list[Campaign]:
    """The campaigns among ``found`` that end in ``year``: an emulation year's."""
    return [campaign for campaign in found if campaign.ends_on.year == year]
