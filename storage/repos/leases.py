"""Leases: a named job that only one instance may run at a time, held until it expires unless renewed."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.tables import leases


class LeaseRepo:
    """Reads and writes ``leases``."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def take(self, name: str, holder: str, now: datetime, until: datetime) -> bool:
        """Take or renew the lease if it is free, expired or already ours; True when we hold it now."""
        insert = (postgresql.insert if self.conn.dialect.name == "postgresql" else sqlite.insert)(leases)
        await self.conn.execute(
            insert.values(name=name, holder=holder, expires_at=until).on_conflict_do_nothing(
                index_elements=["name"]
            )
        )
        result = await self.conn.execute(
            leases.update()
            .where(leases.c.name == name, sa.or_(leases.c.holder == holder, leases.c.expires_at < now))
            .values(holder=holder, expires_at=until)
        )
        return result.rowcount == 1

    async def release(self, name: str, holder: str) -> None:
        """Give the lease up (on a clean stop), so another instance need not wait for it to expire."""
        await self.conn.execute(leases.delete().where(leases.c.name == name, leases.c.holder == holder))
