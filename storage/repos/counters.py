"""Per-unit counters behind /stats: roster and linked members (``unit_counts``), registered members per
campaign (``registration_counts``), initiatives per campaign and status (``initiative_counts``), and
submissions per hour for a unit and everything below it (``submission_hours``).

The repositories that write members, accounts, registrations and initiatives call ``bump`` in the same
transaction as their write, one statement ``n = n + delta`` per change, so a count is never seen out of step
with its rows; reading a subtree's figures then adds up one row per unit in view (the chart's line: one per
hour), whatever the number of members. ``CounterRepo.recount`` rebuilds them all from the rows (``thidua db
recount``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from storage.loop_connection import Executor
from storage.records import path_ids
from storage.tables import (
    INITIATIVE_STATUSES,
    channel_accounts,
    initiative_counts,
    initiatives,
    members,
    registration_counts,
    registrations,
    submission_hours,
    unit_counts,
    units,
)

NOT_SUBMITTED = ("draft", "withdrawn")

Deltas = Mapping[tuple[Any, ...], Mapping[str, int]]


def _upsert(conn: Executor, table: sa.Table) -> Any:
    """The dialect's INSERT, which can add to the row already there (ON CONFLICT DO UPDATE): SQLite's and
    PostgreSQL's spell it alike, SQLAlchemy's portable insert cannot."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


def _keys(table: sa.Table) -> list[str]:
    return [column.name for column in table.primary_key.columns]


def _figures(table: sa.Table) -> list[str]:
    return [column.name for column in table.columns if not column.primary_key]


async def bump(conn: Executor, table: sa.Table, deltas: Deltas) -> None:
    """Add to the counter rows keyed by the table's primary key (its columns in order) the deltas given per
    column, creating rows not there yet: one statement for them all, in key order (so that two transactions
    lock the rows they share in the same order on PostgreSQL); rows whose deltas are all zero are left out."""
    keys, figures = _keys(table), _figures(table)
    rows = [
        dict(zip(keys, key, strict=True), **{column: changes.get(column, 0) for column in figures})
        for key, changes in sorted(deltas.items())
        if any(changes.values())
    ]
    if not rows:
        return
    insert = _upsert(conn, table)
    statement = insert.on_conflict_do_update(
        index_elements=keys, set_={column: table.c[column] + insert.excluded[column] for column in figures}
    )
    await conn.execute(statement, rows)


def subtree(path: str) -> sa.Select[Any]:
    """Ids of the units in the subtree with this path (one indexed prefix range of ``units.path``)."""
    return sa.select(units.c.id).where(units.c.path.startswith(path))


def subtree_sum(
    table: sa.Table, figure: sa.ColumnElement[int], path: str, *where: sa.ColumnElement[bool]
) -> sa.ScalarSelect[Any]:
    """A figure of a per-unit counter table (a column, or a sum of columns) added up over the units of the
    subtree with this path, 0 for none; rows limited further by ``where`` (a campaign)."""
    return (
        sa.select(sa.func.coalesce(sa.func.sum(figure), 0))
        .where(table.c.unit_id.in_(subtree(path)), *where)
        .scalar_subquery()
    )


async def sums_by_child(conn: Executor, parent_id: int, select: sa.Select[Any]) -> dict[int, tuple[int, ...]]:
    """Figures of every unit below ``parent_id`` added up by the unit directly below the parent whose subtree
    holds it. ``select`` gives each unit's figures with ``units.path`` first; it is limited here to the
    parent's subtree (one indexed prefix range: the parent's path is read first, so that the database plans
    the range with its real value). One row per unit in view, added up in Python: joining each child to its
    subtree by path in SQL compared every child with every unit."""
    parent_path = (
        await conn.execute(sa.select(units.c.path).where(units.c.id == parent_id))
    ).scalar_one_or_none()
    if parent_path is None:
        return {}
    start = len(parent_path)
    totals: dict[int, list[int]] = {}
    rows = await conn.execute(select.where(units.c.path.startswith(parent_path), units.c.id != parent_id))
    for path, *figures in rows:
        child = int(path[start : path.index("/", start)])
        total = totals.setdefault(child, [0] * len(figures))
        for at, figure in enumerate(figures):
            total[at] += figure or 0
    return {child: tuple(total) for child, total in totals.items()}


def hour_of(moment: datetime) -> datetime:
    """The hour a moment falls in: the key of ``submission_hours``."""
    return moment.replace(minute=0, second=0, microsecond=0)


def submission_deltas(
    campaign_id: int | None, path: str, status: str, submitted_at: datetime | None, sign: int
) -> dict[tuple[Any, ...], dict[str, int]]:
    """What one initiative adds to (sign 1) or takes from (sign -1) ``submission_hours``: one for its hour
    at its unit and at each unit above, if it counts (in a campaign, submitted, not withdrawn)."""
    if campaign_id is None or submitted_at is None or status in NOT_SUBMITTED:
        return {}
    hour = hour_of(submitted_at)
    return {(campaign_id, unit_id, hour): {"n": sign} for unit_id in path_ids(path)}


def merged(*parts: Mapping[tuple[Any, ...], Mapping[str, int]]) -> dict[tuple[Any, ...], dict[str, int]]:
    """Deltas added up key by key and column by column."""
    total: dict[tuple[Any, ...], Counter[str]] = {}
    for part in parts:
        for key, changes in part.items():
            total.setdefault(key, Counter()).update(changes)
    return {key: dict(changes) for key, changes in total.items()}


@dataclass(frozen=True, slots=True)
class Recount:
    """What ``recount`` found: counter rows in all, and how many of them held a wrong figure before (or were
    missing, or counted what is not there)."""

    rows: int
    wrong: int


def _grouped() -> dict[sa.Table, sa.Select[Any]]:
    """The per-unit counter tables' rows as the data says they should be, one grouped count each."""
    linked = members.c.id.in_(
        sa.select(channel_accounts.c.member_id).where(channel_accounts.c.member_id.is_not(None))
    )
    registrant = members.alias("registrant")
    status = initiatives.c.status
    return {
        unit_counts: sa.select(
            members.c.unit_id, sa.func.count(members.c.id), sa.func.count(members.c.id).filter(linked)
        ).group_by(members.c.unit_id),
        registration_counts: sa.select(registrations.c.campaign_id, registrant.c.unit_id, sa.func.count())
        .join(registrant, registrant.c.id == registrations.c.member_id)
        .where(registrations.c.status == "active")
        .group_by(registrations.c.campaign_id, registrant.c.unit_id),
        initiative_counts: sa.select(
            initiatives.c.campaign_id,
            initiatives.c.unit_id,
            *(sa.func.count(initiatives.c.id).filter(status == name) for name in INITIATIVE_STATUSES),
        )
        .where(initiatives.c.campaign_id.is_not(None))
        .group_by(initiatives.c.campaign_id, initiatives.c.unit_id),
    }


class CounterRepo:
    """Rebuilds the counters; each repository that writes counted rows keeps them current with ``bump``."""

    def __init__(self, conn: Executor) -> None:
        self.conn = conn

    async def _nonzero(self, table: sa.Table) -> dict[tuple[Any, ...], tuple[int, ...]]:
        """The table's rows holding any count, by primary key."""
        keys, figures = _keys(table), _figures(table)
        rows = await self.conn.execute(sa.select(*(table.c[name] for name in keys + figures)))
        width = len(keys)
        return {tuple(row[:width]): tuple(row[width:]) for row in rows if any(row[width:])}

    async def _rebuild(self, table: sa.Table, fill: Iterable[dict[str, Any]] | sa.Select[Any]) -> Recount:
        """Empty the table and fill it again, counting the rows that differ from what it held."""
        before = await self._nonzero(table)
        await self.conn.execute(table.delete())
        if isinstance(fill, sa.Select):
            await self.conn.execute(table.insert().from_select([c.name for c in table.columns], fill))
        else:
            rows = list(fill)
            if rows:
                await self.conn.execute(table.insert(), rows)
        after = await self._nonzero(table)
        wrong = sum(before.get(key) != figures for key, figures in after.items())
        return Recount(len(after), wrong + sum(key not in after for key in before))

    async def _submissions(self) -> list[dict[str, Any]]:
        """``submission_hours`` as the initiatives say it should be."""
        query = (
            sa.select(
                initiatives.c.campaign_id, units.c.path, initiatives.c.status, initiatives.c.submitted_at
            )
            .join(units, units.c.id == initiatives.c.unit_id)
            .where(
                initiatives.c.campaign_id.is_not(None),
                initiatives.c.submitted_at.is_not(None),
                initiatives.c.status.not_in(NOT_SUBMITTED),
            )
        )
        hours: Counter[tuple[int, int, datetime]] = Counter()
        for campaign_id, path, status, submitted_at in await self.conn.execute(query):
            for key in submission_deltas(campaign_id, path, status, submitted_at, 1):
                hours[key] += 1
        return [
            {"campaign_id": campaign_id, "unit_id": unit_id, "hour_utc": hour, "n": n}
            for (campaign_id, unit_id, hour), n in hours.items()
        ]

    async def recount_submissions(self) -> Recount:
        """Rebuild ``submission_hours`` (after units moved: its rows are kept for every unit above)."""
        return await self._rebuild(submission_hours, await self._submissions())

    async def units_moved(self, unit_ids: Sequence[int]) -> None:
        """Units got new paths: if any of them (and so its subtree) has submissions counted, the units above
        them changed, so ``submission_hours`` is rebuilt."""
        for start in range(0, len(unit_ids), 500):
            chunk = unit_ids[start : start + 500]
            counted = sa.exists().where(submission_hours.c.unit_id.in_(chunk), submission_hours.c.n != 0)
            if (await self.conn.execute(sa.select(counted))).scalar_one():
                await self.recount_submissions()
                return

    async def recount(self) -> Recount:
        """Rebuild every counter from the members, accounts, registrations and initiatives, in the caller's
        transaction, and say how many rows were wrong before."""
        found = [await self._rebuild(table, select) for table, select in _grouped().items()]
        found.append(await self.recount_submissions())
        return Recount(sum(r.rows for r in found), sum(r.wrong for r in found))
