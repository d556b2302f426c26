"""Initiatives (sáng kiến): drafts, co-authors, attached files, race-safe review moves and counts by subtree.

Every change bumps ``version``, so a button drawn for an older version of an initiative can be refused.
A change of status (or of campaign) moves the counter of the initiative's unit, campaign and status
(``initiative_counts``, storage/repos/counters.py) in the same transaction; the counts read those.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from storage.loop_connection import Executor
from storage.records import Attachment, CoAuthor, HistoryEntry, Initiative, InitiativeCounts, TitleOf
from storage.repos.counters import NOT_SUBMITTED, bump, merged, submission_deltas, subtree, sums_by_child
from storage.tables import (
    INITIATIVE_STATUSES,
    campaigns,
    initiative_attachments,
    initiative_coauthors,
    initiative_counts,
    initiative_history,
    initiatives,
    submission_hours,
    units,
)

# A review event's columns, in HistoryEntry's order.
HISTORY_COLUMNS = (
    initiative_history.c.at,
    initiative_history.c.actor,
    initiative_history.c.from_status,
    initiative_history.c.to_status,
    initiative_history.c.note,
    initiative_history.c.event,
    initiative_history.c.scores,
)


def history_entry(row: Sequence[Any]) -> HistoryEntry:
    """A review event from a row of HISTORY_COLUMNS."""
    at, actor, from_status, to_status, note, event, scores = row
    return HistoryEntry(at, actor, from_status, to_status, note, event, dict(scores))


_COLUMNS = (
    initiatives.c.id,
    initiatives.c.campaign_id,
    initiatives.c.author_member_id,
    initiatives.c.unit_id,
    initiatives.c.title,
    initiatives.c.field,
    initiatives.c.problem,
    initiatives.c.before,
    initiatives.c.steps,
    initiatives.c.improvement,
    initiatives.c.first_applied_on,
    initiatives.c.conditions,
    initiatives.c.benefit,
    initiatives.c.value_dong,
    initiatives.c.author_share,
    initiatives.c.status,
    initiatives.c.scores,
    initiatives.c.version,
    initiatives.c.created_at,
    initiatives.c.updated_at,
    initiatives.c.submitted_at,
)

_ATTACHMENT_COLUMNS = (
    initiative_attachments.c.id,
    initiative_attachments.c.initiative_id,
    initiative_attachments.c.channel,
    initiative_attachments.c.file_id,
    initiative_attachments.c.kind,
    initiative_attachments.c.file_name,
    initiative_attachments.c.size,
)

# What ``update_fields`` may change; status, scores and version only change through ``move``.
FIELDS = frozenset(
    {
        "title",
        "title_key",
        "field",
        "problem",
        "before",
        "steps",
        "improvement",
        "first_applied_on",
        "conditions",
        "benefit",
        "value_dong",
        "campaign_id",
    }
)

_VALID = ("valid", "recognised", "not_recognised")
_SUBMITTED = tuple(status for status in INITIATIVE_STATUSES if status not in NOT_SUBMITTED)


@dataclass(frozen=True, slots=True)
class _Counted:
    """What the counters know of an initiative."""

    campaign_id: int | None
    unit_id: int
    path: str
    status: str
    submitted_at: datetime | None


def _initiative(row: Sequence[Any], coauthors: tuple[CoAuthor, ...]) -> Initiative:
    values = list(row)
    values[16] = dict(values[16])
    values.insert(15, coauthors)
    return Initiative(*values)


def _tallies() -> tuple[sa.ColumnElement[int], sa.ColumnElement[int], sa.ColumnElement[int]]:
    """Submitted, valid and recognised, added up from the counters' rows of one campaign."""

    def total(statuses: Sequence[str]) -> sa.ColumnElement[int]:
        return sa.func.coalesce(sa.func.sum(_sum_of(statuses)), 0)

    return total(_SUBMITTED), total(_VALID), total(("recognised",))


def _sum_of(statuses: Sequence[str]) -> sa.ColumnElement[int]:
    """The counters' columns of these statuses added up, per row."""
    columns: list[sa.ColumnElement[int]] = [initiative_counts.c[status] for status in statuses]
    total = columns[0]
    for column in columns[1:]:
        total = total + column
    return total


def _submitted(campaign_id: int) -> sa.ColumnElement[bool]:
    return sa.and_(initiatives.c.campaign_id == campaign_id, initiatives.c.status.not_in(NOT_SUBMITTED))


def _counts(row: Sequence[Any]) -> InitiativeCounts:
    return InitiativeCounts(int(row[0]), int(row[1]), int(row[2]))


def _bump(now: datetime) -> dict[str, Any]:
    return {"version": initiatives.c.version + 1, "updated_at": now}


class InitiativeRepo:
    """Reads and writes ``initiatives`` with their co-authors, attachments and history."""

    def __init__(self, conn: Executor) -> None:
        self.conn = conn

    async def _with_coauthors(self, rows: Sequence[Sequence[Any]]) -> list[Initiative]:
        """Initiatives for these rows, their co-authors loaded in one query."""
        if not rows:
            return []
        found: dict[int, list[CoAuthor]] = {row[0]: [] for row in rows}
        coauthor_rows = await self.conn.execute(
            sa.select(
                initiative_coauthors.c.initiative_id,
                initiative_coauthors.c.name,
                initiative_coauthors.c.share,
            )
            .where(initiative_coauthors.c.initiative_id.in_(list(found)))
            .order_by(initiative_coauthors.c.initiative_id, initiative_coauthors.c.position)
        )
        for initiative_id, name, share in coauthor_rows:
            found[initiative_id].append(CoAuthor(name, share))
        return [_initiative(row, tuple(found[row[0]])) for row in rows]

    async def create_draft(
        self, *, author_member_id: int, unit_id: int, campaign_id: int | None, now: datetime
    ) -> int:
        """Start an empty draft at version 1; returns its id."""
        result = await self.conn.execute(
            initiatives.insert().values(
                campaign_id=campaign_id,
                author_member_id=author_member_id,
                unit_id=unit_id,
                title="",
                title_key="",
                author_share=100,
                status="draft",
                scores={},
                version=1,
                created_at=now,
                updated_at=now,
            )
        )
        assert result.inserted_primary_key is not None
        await self._count(None, _Counted(campaign_id, unit_id, "", "draft", None))
        return int(result.inserted_primary_key[0])

    async def _count(self, before: _Counted | None, after: _Counted | None) -> None:
        """Move the counters from what the initiative was to what it is now: its unit's column of its status,
        and its hour of submission at its unit and above; an initiative of no campaign is not counted."""
        by_status: dict[tuple[int, int], Counter[str]] = {}
        hours = []
        for state, sign in ((before, -1), (after, 1)):
            if state is None or state.campaign_id is None:
                continue
            by_status.setdefault((state.campaign_id, state.unit_id), Counter())[state.status] += sign
            hours.append(
                submission_deltas(state.campaign_id, state.path, state.status, state.submitted_at, sign)
            )
        await bump(self.conn, initiative_counts, by_status)
        await bump(self.conn, submission_hours, merged(*hours))

    async def _counted(self, initiative_id: int, *where: sa.ColumnElement[bool]) -> _Counted | None:
        """What the counters hold of the initiative: its campaign, unit, unit's path, status, submission."""
        query = (
            sa.select(
                initiatives.c.campaign_id,
                initiatives.c.unit_id,
                units.c.path,
                initiatives.c.status,
                initiatives.c.submitted_at,
            )
            .join(units, units.c.id == initiatives.c.unit_id)
            .where(initiatives.c.id == initiative_id, *where)
        )
        row = (await self.conn.execute(query)).first()
        return _Counted(*row) if row else None

    async def get(self, initiative_id: int) -> Initiative | None:
        """The initiative with this id and its co-authors, if any."""
        row = (await self.conn.execute(sa.select(*_COLUMNS).where(initiatives.c.id == initiative_id))).first()
        return (await self._with_coauthors([row]))[0] if row else None

    async def draft_of(self, member_id: int) -> Initiative | None:
        """The member's newest draft, if any."""
        query = (
            sa.select(*_COLUMNS)
            .where(initiatives.c.author_member_id == member_id, initiatives.c.status == "draft")
            .order_by(initiatives.c.id.desc())
            .limit(1)
        )
        row = (await self.conn.execute(query)).first()
        return (await self._with_coauthors([row]))[0] if row else None

    async def update_fields(self, initiative_id: int, values: dict[str, Any], now: datetime) -> None:
        """Change some of the plain fields (see ``FIELDS``)."""
        unknown = set(values) - FIELDS
        if unknown:
            raise ValueError(f"not a plain initiative field: {', '.join(sorted(unknown))}")
        before = await self._counted(initiative_id) if "campaign_id" in values else None
        await self.conn.execute(
            initiatives.update().where(initiatives.c.id == initiative_id).values(**values, **_bump(now))
        )
        if before is not None and before.campaign_id != values["campaign_id"]:
            await self._count(before, replace(before, campaign_id=values["campaign_id"]))

    async def set_coauthors(
        self, initiative_id: int, author_share: int, coauthors: Sequence[CoAuthor], now: datetime
    ) -> None:
        """Replace the co-authors and the author's own share."""
        await self.conn.execute(
            initiative_coauthors.delete().where(initiative_coauthors.c.initiative_id == initiative_id)
        )
        if coauthors:
            await self.conn.execute(
                initiative_coauthors.insert(),
                [
                    {"initiative_id": initiative_id, "position": position, "name": c.name, "share": c.share}
                    for position, c in enumerate(coauthors)
                ],
            )
        await self.conn.execute(
            initiatives.update()
            .where(initiatives.c.id == initiative_id)
            .values(author_share=author_share, **_bump(now))
        )

    async def add_attachment(
        self,
        initiative_id: int,
        *,
        channel: str,
        file_id: str,
        kind: str,
        file_name: str | None,
        size: int | None,
        now: datetime,
    ) -> None:
        """Attach a photo or document the member sent."""
        await self.conn.execute(
            initiative_attachments.insert().values(
                initiative_id=initiative_id,
                channel=channel,
                file_id=file_id,
                kind=kind,
                file_name=file_name,
                size=size,
                created_at=now,
            )
        )
        await self.conn.execute(
            initiatives.update().where(initiatives.c.id == initiative_id).values(**_bump(now))
        )

    async def attachments(self, initiative_id: int) -> list[Attachment]:
        """The initiative's attachments, in the order they were sent."""
        rows = await self.conn.execute(
            sa.select(*_ATTACHMENT_COLUMNS)
            .where(initiative_attachments.c.initiative_id == initiative_id)
            .order_by(initiative_attachments.c.id)
        )
        return [Attachment(*row) for row in rows]

    async def move(
        self,
        initiative_id: int,
        *,
        version: int,
        from_statuses: Sequence[str],
        to_status: str,
        actor: str,
        note: str,
        now: datetime,
        scores: dict[str, int] | None = None,
        event: str = "moved",
    ) -> bool:
        """Change the status if the initiative is still at ``version`` in one of ``from_statuses``, and write
        the history's ``event``: "moved", or "scored" with the scores given.

        False if someone changed it first. The conditional UPDATE decides; the status read beforehand is
        only what the history records, and the UPDATE also requires it, so both always agree.
        """
        before = await self._counted(initiative_id, initiatives.c.version == version)
        if before is None or before.status not in from_statuses:
            return False
        from_status = before.status
        values: dict[str, Any] = {"status": to_status, **_bump(now)}
        if to_status == "submitted":
            values["submitted_at"] = now
        if scores is not None:
            values["scores"] = dict(scores)
        result = await self.conn.execute(
            initiatives.update()
            .where(
                initiatives.c.id == initiative_id,
                initiatives.c.version == version,
                initiatives.c.status == from_status,
            )
            .values(**values)
        )
        if result.rowcount != 1:
            return False
        submitted_at = now if to_status == "submitted" else before.submitted_at
        await self._count(before, replace(before, status=to_status, submitted_at=submitted_at))
        await self.conn.execute(
            initiative_history.insert().values(
                initiative_id=initiative_id,
                at=now,
                actor=actor,
                from_status=from_status,
                to_status=to_status,
                note=note,
                event=event,
                scores=dict(scores) if event == "scored" and scores else {},
            )
        )
        return True

    async def last_notes(self, initiative_ids: Sequence[int]) -> dict[int, str]:
        """The note of the step that brought each of these initiatives to its present status, where that step
        has one, by initiative id: a note asking for more figures is gone once the initiative moved on."""
        if not initiative_ids:
            return {}
        rows = await self.conn.execute(
            sa.select(initiative_history.c.initiative_id, initiative_history.c.note)
            .where(
                initiative_history.c.initiative_id.in_(set(initiative_ids)),
                initiative_history.c.event == "moved",
            )
            .order_by(initiative_history.c.id)
        )
        latest = {initiative_id: note for initiative_id, note in rows}  # later steps replace earlier ones
        return {initiative_id: note for initiative_id, note in latest.items() if note}

    async def history(self, initiative_id: int) -> list[HistoryEntry]:
        """Every event of the initiative's review (status changes, scorings), oldest first."""
        rows = await self.conn.execute(
            sa.select(*HISTORY_COLUMNS)
            .where(initiative_history.c.initiative_id == initiative_id)
            .order_by(initiative_history.c.id)
        )
        return [history_entry(row) for row in rows]

    async def of_member(self, member_id: int) -> list[Initiative]:
        """Every initiative the member authored, drafts included, most recently changed first."""
        rows = await self.conn.execute(
            sa.select(*_COLUMNS)
            .where(initiatives.c.author_member_id == member_id)
            .order_by(initiatives.c.updated_at.desc(), initiatives.c.id.desc())
        )
        return await self._with_coauthors(rows.all())

    async def queue(
        self, paths: Sequence[str], statuses: Sequence[str], limit: int, campaign_id: int | None = None
    ) -> list[Initiative]:
        """Initiatives of units inside these subtrees in one of these statuses (of one campaign, when given),
        longest waiting first."""
        if not paths or not statuses:
            return []
        in_campaign = [initiatives.c.campaign_id == campaign_id] if campaign_id is not None else []
        rows = await self.conn.execute(
            sa.select(*_COLUMNS)
            .join(units, units.c.id == initiatives.c.unit_id)
            .where(
                initiatives.c.status.in_(list(statuses)),
                sa.or_(*(units.c.path.startswith(path) for path in paths)),
                *in_campaign,
            )
            .order_by(initiatives.c.submitted_at, initiatives.c.id)
            .limit(limit)
        )
        return await self._with_coauthors(rows.all())

    async def titles_in_campaign(self, campaign_id: int, exclude_id: int) -> list[tuple[int, str, str]]:
        """(id, title, title_key) of the campaign's submitted initiatives other than ``exclude_id``."""
        rows = await self.conn.execute(
            sa.select(initiatives.c.id, initiatives.c.title, initiatives.c.title_key)
            .where(_submitted(campaign_id), initiatives.c.id != exclude_id)
            .order_by(initiatives.c.id)
        )
        return [(initiative_id, title, title_key) for initiative_id, title, title_key in rows]

    async def recognised_titles(
        self, paths: Sequence[str], exclude_id: int, key_lengths: tuple[int, int]
    ) -> list[TitleOf]:
        """Recognised initiatives of units inside these subtrees, any campaign, other than ``exclude_id``,
        whose title key is ``key_lengths`` (low, high) characters long: the only ones that can be close."""
        if not paths:
            return []
        low, high = key_lengths
        rows = await self.conn.execute(
            sa.select(initiatives.c.id, initiatives.c.title, initiatives.c.title_key, campaigns.c.title)
            .join(units, units.c.id == initiatives.c.unit_id)
            .outerjoin(campaigns, campaigns.c.id == initiatives.c.campaign_id)
            .where(
                initiatives.c.status == "recognised",
                initiatives.c.id != exclude_id,
                sa.func.length(initiatives.c.title_key).between(low, high),
                sa.or_(*(units.c.path.startswith(path) for path in paths)),
            )
            .order_by(initiatives.c.id)
        )
        return [TitleOf(*row) for row in rows]

    async def counts(self, campaign_id: int, path: str) -> InitiativeCounts:
        """Submitted, valid and recognised initiatives of the campaign within the subtree with this path,
        added up from the per-unit counters."""
        query = sa.select(*_tallies()).where(
            initiative_counts.c.campaign_id == campaign_id, initiative_counts.c.unit_id.in_(subtree(path))
        )
        return _counts((await self.conn.execute(query)).one())

    async def counts_by_child(self, campaign_id: int, parent_id: int) -> dict[int, InitiativeCounts]:
        """``counts`` for the whole subtree of every unit directly below ``parent_id``, by child id, from the
        counters of each unit in view."""
        per_unit = sa.select(
            units.c.path, _sum_of(_SUBMITTED), _sum_of(_VALID), _sum_of(("recognised",))
        ).select_from(
            units.outerjoin(
                initiative_counts,
                sa.and_(
                    initiative_counts.c.unit_id == units.c.id, initiative_counts.c.campaign_id == campaign_id
                ),
            )
        )
        found = await sums_by_child(self.conn, parent_id, per_unit)
        return {child: InitiativeCounts(*figures) for child, figures in found.items()}
