"""Commendation proposals and their history: a proposal is written once and then only moved from status to
status, each move conditional on the version its buttons were drawn for, and each a row of its history."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from storage.loop_connection import Executor
from storage.records import CommendationCount, CommendationRow, HistoryEntry, Proposal
from storage.tables import commendation_history as history
from storage.tables import commendation_proposals as proposals
from storage.tables import initiatives, members, units

_COLUMNS = (
    proposals.c.id,
    proposals.c.campaign_id,
    proposals.c.year,
    proposals.c.kind,
    proposals.c.member_id,
    proposals.c.unit_id,
    proposals.c.initiative_id,
    proposals.c.form,
    proposals.c.level,
    proposals.c.granting_unit_id,
    proposals.c.achievements,
    proposals.c.status,
    proposals.c.version,
    proposals.c.proposer_account_id,
)
OPEN = ("proposed", "approved")  # a candidate is not proposed twice for a form while one of these stands
_granting = units.alias("granting")


def _proposal(row: Any) -> Proposal:
    return Proposal(*row)


def _in_subtree(column: sa.ColumnElement[int], paths: Sequence[str]) -> sa.ColumnElement[bool]:
    """``column`` (a unit id) names a unit inside one of these subtrees."""
    inside = sa.select(units.c.id).where(sa.or_(*(units.c.path.startswith(path) for path in paths)))
    return column.in_(inside.scalar_subquery())


def rows_query(*where: sa.ColumnElement[bool]) -> sa.Select[Any]:
    """Proposals as ``CommendationRow`` columns, by the candidate's unit path, kind and name."""
    return (
        sa.select(
            proposals.c.id,
            proposals.c.kind,
            members.c.code,
            members.c.full_name,
            units.c.name,
            initiatives.c.title,
            proposals.c.form,
            proposals.c.level,
            _granting.c.name,
            proposals.c.year,
            proposals.c.achievements,
            proposals.c.status,
            proposals.c.note,
            proposals.c.created_at,
            proposals.c.decided_at,
        )
        .join(units, units.c.id == proposals.c.unit_id)
        .join(_granting, _granting.c.id == proposals.c.granting_unit_id)
        .outerjoin(members, members.c.id == proposals.c.member_id)
        .outerjoin(initiatives, initiatives.c.id == proposals.c.initiative_id)
        .where(*where)
        .order_by(units.c.path, proposals.c.kind, members.c.full_name, proposals.c.id)
    )


def in_campaign(campaign_id: int, path: str, status: str | None = None) -> list[sa.ColumnElement[bool]]:
    """The conditions of a campaign's proposals for candidates inside the subtree at ``path``."""
    where = [proposals.c.campaign_id == campaign_id, units.c.path.startswith(path)]
    return where if status is None else [*where, proposals.c.status == status]


def commendation_rows(
    conn: Connection, campaign_id: int, path: str, status: str | None, batch: int
) -> Iterator[CommendationRow]:
    """The rows of a campaign's proposals in a subtree, from the cursor a batch at a time (the export)."""
    query = rows_query(*in_campaign(campaign_id, path, status)).execution_options(yield_per=batch)
    for row in conn.execute(query):
        yield CommendationRow(*row)


class CommendationRepo:
    """Reads and writes ``commendation_proposals`` and ``commendation_history``."""

    def __init__(self, conn: Executor) -> None:
        self.conn = conn

    async def create(self, values: dict[str, Any], actor: str, now: datetime) -> int:
        """Store a proposal (``values``: its subject, form, level, granting unit, achievements, proposer) with
        the first line of its history; returns its id."""
        result = await self.conn.execute(
            proposals.insert().values(
                **values, status="proposed", version=1, proposed_by=actor, created_at=now, updated_at=now
            )
        )
        assert result.inserted_primary_key is not None
        proposal_id = int(result.inserted_primary_key[0])
        await self.conn.execute(
            history.insert().values(
                proposal_id=proposal_id, at=now, actor=actor, from_status="", to_status="proposed", note=""
            )
        )
        return proposal_id

    async def get(self, proposal_id: int) -> Proposal | None:
        """The proposal, or None."""
        rows = await self.conn.execute(sa.select(*_COLUMNS).where(proposals.c.id == proposal_id))
        row = rows.first()
        return _proposal(row) if row is not None else None

    async def standing(self, campaign_id: int, form: str, kind: str, column: str, value: int) -> bool:
        """True when the candidate of ``kind`` whose ``column`` is ``value`` already has a proposal for the
        form in the campaign that is waiting or approved."""
        rows = await self.conn.execute(
            sa.select(proposals.c.id)
            .where(
                proposals.c.campaign_id == campaign_id,
                proposals.c.form == form,
                proposals.c.kind == kind,
                proposals.c[column] == value,
                proposals.c.status.in_(OPEN),
            )
            .limit(1)
        )
        return rows.first() is not None

    async def move(
        self,
        proposal_id: int,
        *,
        version: int,
        from_status: str,
        to_status: str,
        actor: str,
        note: str,
        now: datetime,
    ) -> bool:
        """Decide the proposal if it is still at ``version`` and ``from_status``, with a line of history;
        False if someone changed it first (the conditional UPDATE decides)."""
        result = await self.conn.execute(
            proposals.update()
            .where(
                proposals.c.id == proposal_id,
                proposals.c.version == version,
                proposals.c.status == from_status,
            )
            .values(
                status=to_status,
                version=version + 1,
                note=note,
                decided_by=actor,
                decided_at=now,
                updated_at=now,
            )
        )
        if result.rowcount != 1:
            return False
        await self.conn.execute(
            history.insert().values(
                proposal_id=proposal_id,
                at=now,
                actor=actor,
                from_status=from_status,
                to_status=to_status,
                note=note,
            )
        )
        return True

    async def history(self, proposal_id: int) -> list[HistoryEntry]:
        """Every step of the proposal, oldest first."""
        rows = await self.conn.execute(
            sa.select(
                history.c.at, history.c.actor, history.c.from_status, history.c.to_status, history.c.note
            )
            .where(history.c.proposal_id == proposal_id)
            .order_by(history.c.id)
        )
        return [HistoryEntry(*row) for row in rows]

    async def queue(self, paths: Sequence[str], own: Sequence[int], limit: int) -> list[Proposal]:
        """Proposals waiting for a decision of a unit inside these subtrees: those sent to the ``own`` units
        first, then those waiting in units below them, each longest waiting first (a province's Bằng khen
        proposals are not buried under its districts' Giấy khen)."""
        if not paths:
            return []
        elsewhere = sa.case((proposals.c.granting_unit_id.in_(list(own)), 0), else_=1)
        rows = await self.conn.execute(
            sa.select(*_COLUMNS)
            .where(proposals.c.status == "proposed", _in_subtree(proposals.c.granting_unit_id, paths))
            .order_by(elsewhere, proposals.c.created_at, proposals.c.id)
            .limit(limit)
        )
        return [_proposal(row) for row in rows]

    async def of_candidates(
        self, campaign_id: int, paths: Sequence[str], limit: int
    ) -> list[CommendationRow]:
        """The campaign's proposals for candidates inside these subtrees (what a proposer sent), newest
        first."""
        if not paths:
            return []
        query = (
            rows_query(proposals.c.campaign_id == campaign_id, _in_subtree(proposals.c.unit_id, paths))
            .order_by(None)
            .order_by(proposals.c.id.desc())
        )
        rows = await self.conn.execute(query.limit(limit))
        return [CommendationRow(*row) for row in rows]

    async def described(self, proposal_id: int) -> CommendationRow | None:
        """One proposal as it is read out."""
        rows = await self.conn.execute(rows_query(proposals.c.id == proposal_id))
        row = rows.first()
        return CommendationRow(*row) if row is not None else None

    async def counts(self, campaign_id: int, path: str) -> list[CommendationCount]:
        """The campaign's proposals for candidates inside the subtree at ``path``, counted by form, level,
        kind and status: one grouped query."""
        rows = await self.conn.execute(
            sa.select(
                proposals.c.form, proposals.c.level, proposals.c.kind, proposals.c.status, sa.func.count()
            )
            .join(units, units.c.id == proposals.c.unit_id)
            .where(*in_campaign(campaign_id, path))
            .group_by(proposals.c.form, proposals.c.level, proposals.c.kind, proposals.c.status)
        )
        return [CommendationCount(*row) for row in rows]
