"""Leases: a named job that only one instance may run at a time, held until it expires unless renewed."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from storage.loop_connection import Executor
from storage.tables import leases


class LeaseRepo:
    """Reads and writes ``leases``."""

    def __init__(self, conn: Executor) -> None:
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

    async def renew(self, name: str, holder: str, until: datetime) -> bool:
        """Extend the lease if ``holder`` still holds it; True when it did."""
        result = await self.conn.execute(
            leases.update().where(leases.c.name == name, leases.c.holder == holder).values(expires_at=until)
        )
        return result.rowcount == 1

    async def release(self, name: str, holder: str) -> None:
        """Give the lease up (on a clean stop), so another instance need not wait for it to expire."""
        await self.conn.execute(leases.delete().where(leases.c.name == name, leases.c.holder == holder))

    async def expires_at(self, name: str) -> datetime | None:
        """When the lease runs out unless its holder renews it; None when nobody holds it."""
        query = sa.select(leases.c.expires_at).where(leases.c.name == name)
        return (await self.conn.execute(query)).scalar_one_or_none()

    async def holders(self, now: datetime) -> dict[str, str]:
        """Each lease still in force and the instance holding it."""
        query = sa.select(leases.c.name, leases.c.holder).where(leases.c.expires_at >= now)
        return {name: holder for name, holder in (await self.conn.execute(query)).all()}
