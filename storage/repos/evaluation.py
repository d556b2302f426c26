"""The year-end evaluation (bình xét): self-assessments (drafts, then submitted) and the outcome per candidate
and title (``title_results``, written once, never changed), and the titles reached per unit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from storage.loop_connection import Executor
from storage.records import Account, PledgeResult, Registration, SelfAssessment, TitleResult
from storage.repos.accounts import ACCOUNT_COLUMNS, holds_role
from storage.repos.registrations import COLUMNS as REGISTRATION_COLUMNS
from storage.repos.registrations import registration_from_row
from storage.tables import (
    campaigns,
    channel_accounts,
    members,
    officer_roles,
    registrations,
    self_assessments,
    title_results,
    units,
)

_ASSESSMENT = (
    self_assessments.c.id,
    self_assessments.c.registration_id,
    self_assessments.c.campaign_id,
    self_assessments.c.results,
    self_assessments.c.titles,
    self_assessments.c.status,
    self_assessments.c.version,
)
_RESULT = (
    title_results.c.id,
    title_results.c.campaign_id,
    title_results.c.member_id,
    title_results.c.unit_id,
    title_results.c.title,
    title_results.c.reached,
    title_results.c.votes_agreed,
    title_results.c.votes_present,
    title_results.c.note,
    title_results.c.decided_by,
    title_results.c.decided_at,
)


@dataclass(frozen=True, slots=True)
class Entrant:
    """An active registration inside a subtree, with whom it names: the member and their unit, or the
    collective's unit."""

    registration: Registration
    member_name: str | None  # None for a collective
    unit_id: int
    unit_name: str


@dataclass(frozen=True, slots=True)
class ReachedCount:
    """How many candidates of one unit reached one title in a campaign: members and collectives apart."""

    unit_id: int
    title: str
    individual: int
    collective: int


@dataclass(frozen=True, slots=True)
class CollectiveOfficer:
    """An officer to remind of the self-assessment of the collectives they lead (their units' names, by
    name), and whether their own registration for the campaign waits for one too."""

    account: Account
    units: tuple[str, ...]
    own_pending: bool


def assessed(registration_id: sa.ColumnElement[int]) -> sa.Exists:
    """True where the registration's self-assessment has been sent."""
    return sa.exists().where(
        self_assessments.c.registration_id == registration_id, self_assessments.c.status == "submitted"
    )


def _assessment(row: Sequence[Any]) -> SelfAssessment:
    results = tuple(PledgeResult(**result) if result else None for result in row[3])
    return SelfAssessment(row[0], row[1], row[2], results, tuple(row[4]), row[5], row[6])


def _result(row: Sequence[Any]) -> TitleResult:
    return TitleResult(*row)


class EvaluationRepo:
    """Reads and writes ``self_assessments`` and ``title_results``."""

    def __init__(self, conn: Executor) -> None:
        self.conn = conn

    async def assessment(self, registration_id: int) -> SelfAssessment | None:
        """The registration's self-assessment, draft or submitted, if one was begun."""
        query = sa.select(*_ASSESSMENT).where(self_assessments.c.registration_id == registration_id)
        row = (await self.conn.execute(query)).first()
        return _assessment(row) if row else None

    async def assessments(self, registration_ids: Sequence[int]) -> dict[int, SelfAssessment]:
        """The self-assessments of these registrations, by registration id."""
        if not registration_ids:
            return {}
        rows = await self.conn.execute(
            sa.select(*_ASSESSMENT).where(self_assessments.c.registration_id.in_(list(registration_ids)))
        )
        return {found.registration_id: found for found in map(_assessment, rows)}

    async def save_assessment(
        self,
        registration: Registration,
        results: Sequence[PledgeResult | None],
        titles: Sequence[str],
        status: str,
        actor: str,
        now: datetime,
    ) -> None:
        """Create or change the registration's self-assessment (its version goes up by one)."""
        values: dict[str, Any] = {
            "results": [
                {"reached": result.reached, "figure": result.figure} if result else None for result in results
            ],
            "titles": list(titles),
            "status": status,
            "updated_by": actor,
            "updated_at": now,
        }
        if status == "submitted":
            values["submitted_at"] = now
        changed = await self.conn.execute(
            self_assessments.update()
            .where(self_assessments.c.registration_id == registration.id)
            .values(version=self_assessments.c.version + 1, **values)
        )
        if changed.rowcount == 0:
            await self.conn.execute(
                self_assessments.insert().values(
                    registration_id=registration.id,
                    campaign_id=registration.campaign_id,
                    version=1,
                    created_at=now,
                    **values,
                )
            )

    async def entrants(self, campaign_id: int, paths: Sequence[str], limit: int) -> list[Entrant]:
        """Active registrations (members' and collectives') of units inside these subtrees, by unit then
        name, at most ``limit``."""
        if not paths:
            return []
        holder_unit = sa.func.coalesce(registrations.c.unit_id, members.c.unit_id)
        rows = await self.conn.execute(
            sa.select(*REGISTRATION_COLUMNS, members.c.full_name, units.c.id, units.c.name)
            .outerjoin(members, members.c.id == registrations.c.member_id)
            .join(units, units.c.id == holder_unit)
            .where(
                registrations.c.campaign_id == campaign_id,
                registrations.c.status == "active",
                sa.or_(*(units.c.path.startswith(path) for path in paths)),
            )
            .order_by(units.c.path, members.c.full_name, registrations.c.id)
            .limit(limit)
        )
        return [Entrant(registration_from_row(row[:9]), row[9], row[10], row[11]) for row in rows]

    async def collectives_within(self, paths: Sequence[str], today: date, limit: int) -> list[Registration]:
        """Active collective registrations of units inside these subtrees, for any campaign (not a draft)
        whose evaluation has opened by ``today``, newest first."""
        if not paths:
            return []
        rows = await self.conn.execute(
            sa.select(*REGISTRATION_COLUMNS)
            .join(units, units.c.id == registrations.c.unit_id)
            .join(campaigns, campaigns.c.id == registrations.c.campaign_id)
            .where(
                registrations.c.status == "active",
                campaigns.c.status != "draft",
                campaigns.c.evaluation_opens_on <= today,
                sa.or_(*(units.c.path.startswith(path) for path in paths)),
            )
            .order_by(registrations.c.id.desc())
            .limit(limit)
        )
        return [registration_from_row(row) for row in rows]

    async def officers_of_unassessed_collectives(
        self, campaign_id: int, path: str, *, skip_opted_out: bool
    ) -> list[CollectiveOfficer]:
        """The reachable accounts of the officers of each unit in the subtree whose collective registration
        for the campaign has no submitted self-assessment (roles held by a member or by a bare account),
        optionally without those who switched reminders off. A person is reminded once: of their accounts
        that hold a role, the one on the channel they chose, else the one they wrote from last (as
        ``delivery_account_id`` chooses among all of them, which may hold no role: `grant --user`)."""
        own = registrations.alias("own")
        own_pending = sa.exists().where(
            own.c.campaign_id == campaign_id,
            own.c.member_id == channel_accounts.c.member_id,
            own.c.status == "active",
            ~assessed(own.c.id),
        )
        filters = [
            registrations.c.campaign_id == campaign_id,
            registrations.c.status == "active",
            units.c.path.startswith(path),
            ~assessed(registrations.c.id),
            channel_accounts.c.reachable.is_(True),
        ]
        if skip_opted_out:
            filters.append(channel_accounts.c.reminders_off.is_(False))
        chosen = sa.case((channel_accounts.c.channel == members.c.preferred_channel, 0), else_=1).label(
            "chosen"
        )
        seen = sa.func.coalesce(channel_accounts.c.last_seen_at, channel_accounts.c.created_at).label("seen")
        rows = await self.conn.execute(
            sa.select(*ACCOUNT_COLUMNS, units.c.name, own_pending, chosen, seen)
            .select_from(registrations)
            .join(units, units.c.id == registrations.c.unit_id)
            .join(officer_roles, officer_roles.c.unit_id == units.c.id)
            .join(channel_accounts, holds_role())
            .outerjoin(members, members.c.id == channel_accounts.c.member_id)
            .where(*filters)
            .distinct()
            # Each person's account to remind first, then the rest of their rows, then their units by name.
            .order_by(
                channel_accounts.c.member_id, chosen, seen.desc(), channel_accounts.c.id.desc(), units.c.name
            )
        )
        found: dict[int, CollectiveOfficer] = {}
        reminded: dict[int, int] = {}  # member id: the one account of theirs reminded
        for row in rows:
            account, unit, pending = Account(*row[: len(ACCOUNT_COLUMNS)]), row[-4], bool(row[-3])
            if (
                account.member_id is not None
                and reminded.setdefault(account.member_id, account.id) != account.id
            ):
                continue
            known = found.get(account.id)
            names = (*known.units, unit) if known is not None else (unit,)
            found[account.id] = CollectiveOfficer(account, names, pending)
        return sorted(found.values(), key=lambda officer: officer.account.id)

    async def results(self, campaign_id: int, unit_ids: Sequence[int]) -> list[TitleResult]:
        """The decisions of the campaign about candidates of these units."""
        if not unit_ids:
            return []
        rows = await self.conn.execute(
            sa.select(*_RESULT)
            .where(title_results.c.campaign_id == campaign_id, title_results.c.unit_id.in_(list(unit_ids)))
            .order_by(title_results.c.id)
        )
        return [_result(row) for row in rows]

    async def result_for(
        self, campaign_id: int, member_id: int | None, unit_id: int, title: str
    ) -> TitleResult | None:
        """The decision already made on this candidate and title, if any (a member's wherever they were)."""
        holder = (
            title_results.c.member_id == member_id
            if member_id is not None
            else sa.and_(title_results.c.member_id.is_(None), title_results.c.unit_id == unit_id)
        )
        query = sa.select(*_RESULT).where(
            title_results.c.campaign_id == campaign_id, title_results.c.title == title, holder
        )
        row = (await self.conn.execute(query)).first()
        return _result(row) if row else None

    async def reached_in_unit(self, campaign_id: int, unit_id: int, titles: Sequence[str]) -> dict[str, int]:
        """How many members of the unit reached each of these titles in the campaign."""
        rows = await self.conn.execute(
            sa.select(title_results.c.title, sa.func.count())
            .where(
                title_results.c.campaign_id == campaign_id,
                title_results.c.unit_id == unit_id,
                title_results.c.title.in_(list(titles)),
                title_results.c.reached.is_(True),
                title_results.c.member_id.is_not(None),
            )
            .group_by(title_results.c.title)
        )
        return {str(title): int(count) for title, count in rows}

    async def record(
        self,
        *,
        campaign_id: int,
        member_id: int | None,
        unit_id: int,
        title: str,
        reached: bool,
        votes_agreed: int,
        votes_present: int,
        note: str,
        decided_by: str,
        now: datetime,
    ) -> None:
        """Write one decision."""
        await self.conn.execute(
            title_results.insert().values(
                campaign_id=campaign_id,
                member_id=member_id,
                unit_id=unit_id,
                title=title,
                reached=reached,
                votes_agreed=votes_agreed,
                votes_present=votes_present,
                note=note,
                decided_by=decided_by,
                decided_at=now,
            )
        )

    async def reached_per_unit(self, campaign_ids: Sequence[int], paths: Sequence[str]) -> list[ReachedCount]:
        """Titles reached per unit in these campaigns, for units inside these subtrees (every unit when no
        path is given), by unit then title."""
        if not campaign_ids:
            return []
        is_member = title_results.c.member_id.is_not(None)
        query = (
            sa.select(
                title_results.c.unit_id,
                title_results.c.title,
                sa.func.count().filter(is_member),
                sa.func.count().filter(~is_member),
            )
            .join(units, units.c.id == title_results.c.unit_id)
            .where(title_results.c.campaign_id.in_(list(campaign_ids)), title_results.c.reached.is_(True))
            .group_by(title_results.c.unit_id, title_results.c.title, units.c.path)
            .order_by(units.c.path, title_results.c.title)
        )
        if paths:
            query = query.where(sa.or_(*(units.c.path.startswith(path) for path in paths)))
        rows = await self.conn.execute(query)
        return [ReachedCount(int(u), str(t), int(i), int(c)) for u, t, i, c in rows]
