"""The audit log: who did what to what, when; written for every officer and admin action."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from storage.loop_connection import Executor
from storage.tables import audit_log


class AuditRepo:
    """Appends to and reads ``audit_log``."""

    def __init__(self, conn: Executor) -> None:
        self.conn = conn

    async def record(
        self, actor: str, action: str, subject: str, details: dict[str, Any], now: datetime
    ) -> None:
        """Append one entry."""
        await self.conn.execute(
            audit_log.insert().values(at=now, actor=actor, action=action, subject=subject, details=details)
        )

    async def recent(self, limit: int) -> list[tuple[str, str, str, dict[str, Any]]]:
        """The newest entries as (actor, action, subject, details), newest first."""
        rows = await self.conn.execute(
            sa.select(audit_log.c.actor, audit_log.c.action, audit_log.c.subject, audit_log.c.details)
            .order_by(audit_log.c.id.desc())
            .limit(limit)
        )
        return [(actor, action, subject, dict(details)) for actor, action, subject, details in rows]
