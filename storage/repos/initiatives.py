"""Initiatives (sáng kiến): drafts, co-authors, attached files, race-safe review moves and counts by subtree.

Every change bumps ``version``, so a button drawn for an older version of an initiative can be refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from storage.loop_connection import Executor
from storage.records import Attachment, CoAuthor, HistoryEntry, Initiative, InitiativeCounts, TitleOf
from storage.tables import (
    campaigns,
    initiative_attachments,
    initiative_coauthors,
    initiative_history,
    initiatives,
    units,
)

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

_NOT_SUBMITTED = ("draft", "withdrawn")
_VALID = ("valid", "recognised", "not_recognised")


def _initiative(row: Sequence[Any], coauthors: tuple[CoAuthor, ...]) -> Initiative:
    values = list(row)
    values[16] = dict(values[16])
    values.insert(15, coauthors)
    return Initiative(*values)


def _tallies() -> tuple[sa.ColumnElement[int], sa.ColumnElement[int], sa.ColumnElement[int]]:
    # Rows are already limited to submitted ones (see ``_submitted``): count() is the "submitted" figure.
    return (
        sa.func.count(initiatives.c.id),
        sa.func.count(initiatives.c.id).filter(initiatives.c.status.in_(_VALID)),
        sa.func.count(initiatives.c.id).filter(initiatives.c.status == "recognised"),
    )


def _submitted(campaign_id: int) -> sa.ColumnElement[bool]:
    return sa.and_(initiatives.c.campaign_id == campaign_id, initiatives.c.status.not_in(_NOT_SUBMITTED))


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
        return int(result.inserted_primary_key[0])

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
        await self.conn.execute(
            initiatives.update().where(initiatives.c.id == initiative_id).values(**values, **_bump(now))
        )

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
        query = sa.select(initiatives.c.status).where(
            initiatives.c.id == initiative_id, initiatives.c.version == version
        )
        from_status = (await self.conn.execute(query)).scalar_one_or_none()
        if from_status is None or from_status not in from_statuses:
            return False
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

    async def history(self, initiative_id: int) -> list[HistoryEntry]:
        """Every event of the initiative's review (status changes, scorings), oldest first."""
        rows = await self.conn.execute(
            sa.select(
                initiative_history.c.at,
                initiative_history.c.actor,
                initiative_history.c.from_status,
                initiative_history.c.to_status,
                initiative_history.c.note,
                initiative_history.c.event,
                initiative_history.c.scores,
            )
            .where(initiative_history.c.initiative_id == initiative_id)
            .order_by(initiative_history.c.id)
        )
        return [
            HistoryEntry(at, actor, from_status, to_status, note, event, dict(scores))
            for at, actor, from_status, to_status, note, event, scores in rows
        ]

    async def of_member(self, member_id: int) -> list[Initiative]:
        """Every initiative the member authored, drafts included, most recently changed first."""
        rows = await self.conn.execute(
            sa.select(*_COLUMNS)
            .where(initiatives.c.author_member_id == member_id)
            .order_by(initiatives.c.updated_at.desc(), initiatives.c.id.desc())
        )
        return await self._with_coauthors(rows.all())

    async def queue(self, paths: Sequence[str], statuses: Sequence[str], limit: int) -> list[Initiative]:
        """Initiatives of units inside these subtrees in one of these statuses, longest waiting first."""
        if not paths or not statuses:
            return []
        rows = await self.conn.execute(
            sa.select(*_COLUMNS)
            .join(units, units.c.id == initiatives.c.unit_id)
            .where(
                initiatives.c.status.in_(list(statuses)),
                sa.or_(*(units.c.path.startswith(path) for path in paths)),
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
        """Submitted, valid and recognised initiatives of the campaign within the subtree with this path."""
        query = (
            sa.select(*_tallies())
            .select_from(initiatives)
            .join(units, units.c.id == initiatives.c.unit_id)
            .where(_submitted(campaign_id), units.c.path.startswith(path))
        )
        return _counts((await self.conn.execute(query)).one())

    async def counts_by_child(self, campaign_id: int, parent_id: int) -> dict[int, InitiativeCounts]:
        """``counts`` for the whole subtree of every unit directly below ``parent_id``, by child id."""
        # Child -> every unit of its subtree -> that unit's initiatives: SQLite then reads the initiatives
        # by (campaign, unit) from the index instead of re-checking the whole join for every child.
        child, unit = units.alias("child"), units.alias("unit")
        query = (
            sa.select(child.c.id, *_tallies())
            .select_from(
                child.join(unit, unit.c.path.startswith(child.c.path)).outerjoin(
                    initiatives, sa.and_(initiatives.c.unit_id == unit.c.id, _submitted(campaign_id))
                )
            )
            .where(child.c.parent_id == parent_id)
            .group_by(child.c.id)
        )
        return {row[0]: _counts(row[1:]) for row in await self.conn.execute(query)}
