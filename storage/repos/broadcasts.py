"""Broadcasts: a group of outbox rows sent for one purpose (a launch announcement), with its progress."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa

from storage.loop_connection import Executor
from storage.records import BroadcastProgress
from storage.tables import broadcasts, outbox

# Run at each group commit of the outbox while a broadcast is sending: built once.
_STILL_PENDING = sa.exists().where(
    outbox.c.broadcast_id == sa.bindparam("broadcast_id"), outbox.c.status == "pending"
)
_FINISH_IF_DONE = (
    broadcasts.update()
    .where(
        broadcasts.c.id == sa.bindparam("broadcast_id"), broadcasts.c.finished_at.is_(None), ~_STILL_PENDING
    )
    .values(finished_at=sa.bindparam("now", type_=broadcasts.c.finished_at.type))
)


class BroadcastRepo:
    """Reads and writes ``broadcasts`` and counts their outbox rows."""

    def __init__(self, conn: Executor) -> None:
        self.conn = conn

    async def create(
        self,
        *,
        kind: str,
        title: str,
        campaign_id: int | None,
        unit_id: int,
        requested_by: int | None,
        now: datetime,
    ) -> int:
        """Start a broadcast (its rows are queued next); returns its id."""
        result = await self.conn.execute(
            broadcasts.insert().values(
                kind=kind,
                title=title,
                campaign_id=campaign_id,
                unit_id=unit_id,
                requested_by=requested_by,
                total=0,
                created_at=now,
            )
        )
        assert result.inserted_primary_key is not None
        return int(result.inserted_primary_key[0])

    async def set_total(self, broadcast_id: int, total: int, now: datetime) -> None:
        """Record how many messages were queued; an empty broadcast is finished at once."""
        await self.conn.execute(
            broadcasts.update()
            .where(broadcasts.c.id == broadcast_id)
            .values(total=total, finished_at=now if total == 0 else None)
        )

    async def progress(self, broadcast_ids: Sequence[int]) -> list[BroadcastProgress]:
        """Counts by outcome for each broadcast, in the order given."""
        if not broadcast_ids:
            return []
        counts: dict[tuple[int, str], int] = {}
        rows = await self.conn.execute(
            sa.select(outbox.c.broadcast_id, outbox.c.status, sa.func.count())
            .where(outbox.c.broadcast_id.in_(list(broadcast_ids)))
            .group_by(outbox.c.broadcast_id, outbox.c.status)
        )
        for broadcast_id, status, count in rows:
            counts[(broadcast_id, status)] = int(count)
        found = await self.conn.execute(
            sa.select(
                broadcasts.c.id,
                broadcasts.c.kind,
                broadcasts.c.title,
                broadcasts.c.total,
                broadcasts.c.created_at,
                broadcasts.c.finished_at,
                broadcasts.c.requested_by,
            ).where(broadcasts.c.id.in_(list(broadcast_ids)))
        )
        by_id = {
            row[0]: BroadcastProgress(
                row[0],
                row[1],
                row[2],
                row[3],
                sent=counts.get((row[0], "sent"), 0),
                unreachable=counts.get((row[0], "unreachable"), 0),
                failed=counts.get((row[0], "failed"), 0),
                pending=counts.get((row[0], "pending"), 0),
                created_at=row[4],
                finished_at=row[5],
                requested_by=row[6],
                uncertain=counts.get((row[0], "uncertain"), 0),
            )
            for row in found
        }
        return [by_id[broadcast_id] for broadcast_id in broadcast_ids if broadcast_id in by_id]

    async def finish_if_done(self, broadcast_id: int, now: datetime) -> bool:
        """Mark the broadcast finished once none of its rows is pending; True only for the call that did."""
        result = await self.conn.execute(_FINISH_IF_DONE, {"broadcast_id": broadcast_id, "now": now})
        return result.rowcount == 1

    async def recent_of(self, account_id: int, limit: int) -> list[int]:
        """Ids of the broadcasts this account asked for, newest first."""
        rows = await self.conn.execute(
            sa.select(broadcasts.c.id)
            .where(broadcasts.c.requested_by == account_id)
            .order_by(broadcasts.c.id.desc())
            .limit(limit)
        )
        return [broadcast_id for (broadcast_id,) in rows]
