"""Gatekeeping in one place: who is writing, which member they are, which units they lead.

Every update is identified here before any handler runs; handlers ask ``Identity`` instead of querying roles.
An officer's powers cover the units they lead and everything below, never a sibling or a parent.
The ``*_in_charge`` checks run at the first step of every officer action. Each answers None both for an
object out of the officer's reach and for one that does not exist, so a refusal reveals nothing about it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.domain.insights import covered_scope
from bot.engine.config import Settings
from bot.engine.events import Incoming
from storage.database import Repos
from storage.records import Account, Campaign, Initiative, JoinRequest, Member, Proposal, Seen, Unit


@dataclass(frozen=True, slots=True)
class Identity:
    """The person behind an update, as far as the bot knows them."""

    account: Account
    member: Member | None
    unit: Unit | None  # the member's own unit
    led_units: tuple[Unit, ...]  # units this person is an officer of (every root for an admin)
    is_admin: bool

    @property
    def is_officer(self) -> bool:
        """True when the person leads at least one unit."""
        return bool(self.led_units)

    def covers(self, unit: Unit) -> bool:
        """True when ``unit`` lies within a subtree this person leads."""
        return any(led.covers(unit) for led in self.led_units)

    def sender_for(self, unit: Unit) -> Unit:
        """The unit a notice of this person's to ``unit`` comes from: the nearest they lead at or above it."""
        covering = [led for led in self.led_units if led.covers(unit)]
        return max(covering, key=lambda led: len(led.path), default=unit)

    @property
    def led_paths(self) -> list[str]:
        """The materialised paths of the subtrees this person leads, for scoped queries."""
        return [unit.path for unit in self.led_units]

    @property
    def actor(self) -> str:
        """How the audit log names this person: "telegram:123"."""
        return f"{self.account.channel}:{self.account.user_id}"


async def identify(
    repos: Repos, settings: Settings, event: Incoming, now: datetime, generation: int | None
) -> Identity:
    """The identity behind ``event``; creates the channel account on first contact. ``generation`` is the
    identities' generation as the update's transaction read it first (``DialogRepo.opening``).

    Kept while that generation stands; else one SELECT: the account with its member, unit and led units (an
    admin's roots: a second).
    """
    seen = await repos.accounts.touch_identity_at(
        generation, event.channel, event.user_id, event.chat_id, event.display_name, now
    )
    return await _identity(repos, settings, seen)


async def identity_of(repos: Repos, settings: Settings, account: Account) -> Identity:
    """The identity of a known account (also used to refresh it after linking)."""
    found = await repos.members.with_unit(account.member_id) if account.member_id is not None else None
    member, unit = found if found is not None else (None, None)
    return await _identity(
        repos, settings, Seen(account, member, unit, tuple(await repos.roles.units_of(account)))
    )


async def _identity(repos: Repos, settings: Settings, seen: Seen) -> Identity:
    account = seen.account
    if settings.is_admin(account.channel, account.user_id):
        return Identity(account, seen.member, seen.unit, tuple(await repos.units.roots()), True)
    return Identity(account, seen.member, seen.unit, _outermost(seen.led_units), False)


def _outermost(units: tuple[Unit, ...]) -> tuple[Unit, ...]:
    """Drop units that lie inside another of the list: leading a parent already covers them."""
    return tuple(unit for unit in units if not any(o is not unit and o.covers(unit) for o in units))


async def unit_in_charge(repos: Repos, who: Identity, unit_id: int) -> Unit | None:
    """The unit, when ``who`` leads it or a unit above it."""
    unit = await repos.units.get(unit_id)
    return unit if unit is not None and who.covers(unit) else None


async def campaign_in_charge(
    repos: Repos, who: Identity, campaign: Campaign | None
) -> tuple[Campaign, Unit] | None:
    """The campaign and its owning unit, when ``who`` leads that unit or one above it (launch, close)."""
    owner = await repos.units.get(campaign.unit_id) if campaign is not None else None
    return (campaign, owner) if campaign is not None and owner is not None and who.covers(owner) else None


async def campaign_scope(
    repos: Repos, who: Identity, campaign: Campaign | None
) -> tuple[Campaign, Unit] | None:
    """The campaign and the part of its subtree ``who`` covers (all of it, or a unit they lead inside it), for
    statistics, exports, reports and collective registration: campaigns of units above concern them too."""
    owner = await repos.units.get(campaign.unit_id) if campaign is not None else None
    scope = covered_scope(owner, who.led_units) if owner is not None else None
    return (campaign, scope) if campaign is not None and scope is not None else None


async def initiative_in_charge(repos: Repos, who: Identity, initiative_id: int) -> Initiative | None:
    """An initiative of a unit ``who`` covers, for the council's review."""
    initiative = await repos.initiatives.get(initiative_id)
    unit = await repos.units.get(initiative.unit_id) if initiative is not None else None
    return initiative if unit is not None and who.covers(unit) else None


async def join_request_in_charge(repos: Repos, who: Identity, request_id: int) -> JoinRequest | None:
    """A join request to a unit ``who`` covers."""
    request = await repos.join_requests.get(request_id)
    unit = await repos.units.get(request.unit_id) if request is not None else None
    return request if unit is not None and who.covers(unit) else None


async def proposal_in_charge(repos: Repos, who: Identity, proposal_id: int) -> Proposal | None:
    """A commendation proposal to a granting unit ``who`` covers, for a decision."""
    proposal = await repos.commendations.get(proposal_id)
    unit = await repos.units.get(proposal.granting_unit_id) if proposal is not None else None
    return proposal if unit is not None and who.covers(unit) else None
