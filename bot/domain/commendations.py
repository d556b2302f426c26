"""Commendation proposals (đề nghị khen thưởng): a base union proposes a member, a collective or a recognised
initiative for a form (Giấy khen, Bằng khen...) to the unit above that grants it; an officer of that unit
approves the proposal or returns it with a note. Nothing is deleted; every step is in the proposal's history.

A form's level (THIDUA_COMMENDATION_FORMS) says how many steps above the candidate's base union the granting
unit stands, so a district federation and a sector union directly above base unions are both "district".
Problems are values, never text.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, get_args

from bot.domain.problems import Problem
from bot.engine.access import Identity
from bot.engine.config import COMMENDATION_LEVELS, Settings
from storage.database import Repos
from storage.records import Campaign, Initiative, Member, Proposal, Unit

Kind = Literal["member", "collective", "initiative"]
KINDS: tuple[Kind, ...] = get_args(Kind)
DECISIONS = {"approve": "approved", "return": "returned"}
ACHIEVEMENTS_LENGTH = (5, 2000)
NOTE_MAX = 1000
PROPOSING = ("launched", "closed")  # a campaign whose year can be closed with proposals


@dataclass(frozen=True, slots=True)
class Form:
    """A commendation form and the level that grants it."""

    code: str
    level: str


def forms(settings: Settings) -> list[Form]:
    """The configured forms, in the order they are offered."""
    return [Form(code, level) for code, level in settings.commendation_forms]


def form_named(settings: Settings, code: str) -> Form | None:
    """The configured form with this code."""
    return next((form for form in forms(settings) if form.code == code), None)


@dataclass(frozen=True, slots=True)
class Candidate:
    """Who or what is proposed: a member, a collective (a unit) or a recognised initiative, and its unit."""

    kind: str
    unit: Unit
    member: Member | None = None
    initiative: Initiative | None = None

    @property
    def key(self) -> tuple[str, int]:
        """The column and value that tell this candidate from others of its kind."""
        if self.initiative is not None:
            return "initiative_id", self.initiative.id
        if self.member is not None:
            return "member_id", self.member.id
        return "unit_id", self.unit.id


async def granting_unit(repos: Repos, unit: Unit, level: str) -> Unit | None:
    """The unit ``level`` names above ``unit`` (read off its path); None where the tree has none that high."""
    lineage = unit.lineage
    steps = COMMENDATION_LEVELS[level]
    return await repos.units.get(lineage[-1 - steps]) if len(lineage) > steps else None


async def candidate(
    repos: Repos, who: Identity, campaign: Campaign, kind: str, subject_id: int
) -> Candidate | Problem:
    """The candidate a proposer picked, when it lies within the units they lead (the same refusal whether it
    lies elsewhere or does not exist); an initiative only once recognised in this campaign."""
    out_of_scope = Problem("commendation", "candidate_out_of_scope")
    if kind == "member":
        found = await repos.members.with_unit(subject_id)
        if found is None or not who.covers(found[1]):
            return out_of_scope
        return Candidate(kind, found[1], member=found[0])
    if kind == "collective":
        unit = await repos.units.get(subject_id)
        return Candidate(kind, unit) if unit is not None and who.covers(unit) else out_of_scope
    initiative = await repos.initiatives.get(subject_id)
    unit = await repos.units.get(initiative.unit_id) if initiative is not None else None
    if initiative is None or unit is None or not who.covers(unit):
        return out_of_scope
    if initiative.status != "recognised" or initiative.campaign_id != campaign.id:
        return Problem("commendation", "initiative_not_recognised", {"title": initiative.title})
    author = await repos.members.get(initiative.author_member_id)
    return Candidate(kind, unit, member=author, initiative=initiative)


async def addressee_refusal(
    repos: Repos, settings: Settings, candidate: Candidate, form_code: str, granting_unit_id: int
) -> Problem | None:
    """Why the form cannot be proposed to ``granting_unit_id`` for this candidate: a form no longer offered,
    no unit at the form's level above the candidate (0 names none), or a unit that is not the one of the
    form's level above the candidate."""
    form = form_named(settings, form_code)
    if form is None:
        return Problem("commendation", "form_unknown")
    granting = await granting_unit(repos, candidate.unit, form.level)
    if granting is None:
        params = {"form": form.code, "level": form.level, "unit": candidate.unit.name}
        return Problem("commendation", "no_granting_unit", params)
    if granting.id != granting_unit_id:
        addressed = await repos.units.get(granting_unit_id) if granting_unit_id else None
        params = {
            "form": form.code,
            "level": form.level,
            "unit": addressed.name if addressed else candidate.unit.name,
            "grants": granting.name,
        }
        return Problem("commendation", "form_not_granted_by", params)
    return None


async def form_refusal(
    repos: Repos,
    settings: Settings,
    campaign: Campaign,
    candidate: Candidate,
    form_code: str,
    granting_unit_id: int,
) -> Problem | None:
    """Why the candidate cannot be proposed for the form to ``granting_unit_id`` (``addressee_refusal``), or
    cannot again: a proposal for the form in the campaign is already waiting or approved. Checked when the
    form is chosen, before the achievements are asked for, and again when the proposal is made."""
    refusal = await addressee_refusal(repos, settings, candidate, form_code, granting_unit_id)
    if refusal is None and await repos.commendations.standing(
        campaign.id, form_code, candidate.kind, *candidate.key
    ):
        return Problem("commendation", "already_proposed", {"form": form_code})
    return refusal


async def propose(
    repos: Repos,
    who: Identity,
    settings: Settings,
    campaign: Campaign,
    candidate: Candidate,
    *,
    form_code: str,
    granting_unit_id: int,
    achievements: str,
    now: datetime,
) -> int | Problem:
    """Propose ``candidate`` for a form to ``granting_unit_id``, which must be the unit that grants the form
    above the candidate's unit; returns the proposal's id. Refused, changing nothing, for a form no unit of
    the tree grants above it, a unit of another level, a campaign not running or closed, achievements out of
    bounds, and a candidate already waiting or approved for the form in the campaign."""
    form = form_named(settings, form_code)
    if not who.covers(candidate.unit):
        return Problem("commendation", "candidate_out_of_scope")
    if campaign.status not in PROPOSING:
        return Problem("commendation", "campaign_not_running", {"title": campaign.title})
    refusal = await form_refusal(repos, settings, campaign, candidate, form_code, granting_unit_id)
    if form is None or refusal is not None:
        return refusal or Problem("commendation", "form_unknown")
    low, high = ACHIEVEMENTS_LENGTH
    if not low <= len(achievements.strip()) <= high:
        return Problem("achievements", "text_length", {"low": low, "high": high})
    values = {
        "campaign_id": campaign.id,
        "year": campaign.ends_on.year,
        "kind": candidate.kind,
        "member_id": candidate.member.id if candidate.member else None,
        "unit_id": candidate.unit.id,
        "initiative_id": candidate.initiative.id if candidate.initiative else None,
        "form": form.code,
        "level": form.level,
        "granting_unit_id": granting_unit_id,
        "achievements": achievements.strip(),
        "proposer_account_id": who.account.id,
    }
    proposal_id = await repos.commendations.create(values, who.actor, now)
    await repos.audit.record(who.actor, "commendation_proposed", f"proposal:{proposal_id}", values, now)
    return proposal_id


def decision_refusal(proposal: Proposal, version: int) -> Problem | None:
    """Why a decision cannot be taken now, known from the proposal alone: checked when the button is pressed,
    before a note is asked for, and again when the decision is applied."""
    if proposal.version != version or proposal.status != "proposed":
        return Problem("commendation", "proposal_changed")
    return None


async def decide(
    repos: Repos, who: Identity, proposal: Proposal, action: str, *, version: int, note: str, now: datetime
) -> str | Problem:
    """Approve or return (with a note) a proposal waiting for a unit ``who`` covers; the new status. Refused,
    changing nothing, outside the decider's subtree, for their own proposal as a candidate, and when the
    proposal changed since its buttons were drawn."""
    granting = await repos.units.get(proposal.granting_unit_id)
    if granting is None or not who.covers(granting):
        return Problem("commendation", "decide_out_of_scope")
    if who.member is not None and who.member.id == proposal.member_id:
        return Problem("commendation", "decide_own")
    refusal = decision_refusal(proposal, version)
    if refusal is not None:
        return refusal
    if action == "return" and not note.strip():
        return Problem("note", "note_required")
    if len(note) > NOTE_MAX:
        return Problem("note", "text_length", {"low": 0, "high": NOTE_MAX})
    to_status = DECISIONS[action]
    if not await repos.commendations.move(
        proposal.id,
        version=version,
        from_status="proposed",
        to_status=to_status,
        actor=who.actor,
        note=note.strip(),
        now=now,
    ):
        return Problem("commendation", "proposal_changed")
    await repos.audit.record(
        who.actor, f"commendation_{to_status}", f"proposal:{proposal.id}", {"note": note.strip()}, now
    )
    return to_status
