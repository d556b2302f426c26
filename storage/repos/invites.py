"""Invitation codes that officers hand out for their unit."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from storage.loop_connection import Executor
from storage.records import Invite
from storage.tables import invites


class InviteRepo:
    """Reads and writes ``invites``."""

    def __init__(self, conn: Executor) -> None:
        self.conn = conn

    async def create(
        self, code: str, unit_id: int, created_by: str, now: datetime, expires_at: datetime
    ) -> None:
        """Store a new invitation."""
        await self.conn.execute(
            invites.insert().values(
                code=code, unit_id=unit_id, created_by=created_by, created_at=now, expires_at=expires_at
            )
        )

    async def by_code(self, code: str) -> Invite | None:
        """The invitation with this code, in any case (on Zalo it is typed by hand), if any; the one written
        exactly so first, should two differ only in case."""
        row = (
            await self.conn.execute(
                sa.select(
                    invites.c.id, invites.c.code, invites.c.unit_id, invites.c.expires_at, invites.c.use_count
                )
                .where(sa.func.lower(invites.c.code) == code.lower())
                .order_by((invites.c.code == code).desc())
                .limit(1)
            )
        ).first()
        return Invite(*row) if row else None

    async def count_use(self, invite_id: int) -> None:
        """Note that someone came through this invitation."""
        await self.conn.execute(
            invites.update().where(invites.c.id == invite_id).values(use_count=invites.c.use_count + 1)
        )
