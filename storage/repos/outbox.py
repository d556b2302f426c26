"""The durable outbox: one row per message per recipient, sent by the outbox worker."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.records import OutboxItem
from storage.tables import outbox


@dataclass(frozen=True, slots=True)
class NewOutboxItem:
    """A message to queue for one chat."""

    channel: str
    chat_id: str
    account_id: int | None
    kind: str
    message: dict[str, Any]


class OutboxRepo:
    """Reads and writes ``outbox``."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def enqueue(self, items: Sequence[NewOutboxItem], now: datetime) -> None:
        """Queue messages to be sent as soon as the worker can."""
        if not items:
            return
        await self.conn.execute(
            outbox.insert(),
            [
                {
                    "channel": item.channel,
                    "chat_id": item.chat_id,
                    "account_id": item.account_id,
                    "kind": item.kind,
                    "message": item.message,
                    "status": "pending",
                    "attempts": 0,
                    "not_before": now,
                    "created_at": now,
                }
                for item in items
            ],
        )

    async def due(self, now: datetime, limit: int) -> list[OutboxItem]:
        """Pending messages whose time has come, oldest first."""
        rows = await self.conn.execute(
            sa.select(
                outbox.c.id,
                outbox.c.channel,
                outbox.c.chat_id,
                outbox.c.account_id,
                outbox.c.kind,
                outbox.c.message,
                outbox.c.attempts,
            )
            .where(outbox.c.status == "pending", outbox.c.not_before <= now)
            .order_by(outbox.c.not_before, outbox.c.id)
            .limit(limit)
        )
        return [OutboxItem(r[0], r[1], r[2], r[3], r[4], dict(r[5]), r[6]) for r in rows]

    async def next_due_at(self) -> datetime | None:
        """When the earliest pending message becomes due, if any is pending."""
        query = (
            sa.select(outbox.c.not_before)
            .where(outbox.c.status == "pending")
            .order_by(outbox.c.not_before)
            .limit(1)
        )
        return (await self.conn.execute(query)).scalar_one_or_none()

    async def finish(self, item_id: int, status: str, now: datetime, error: str | None = None) -> None:
        """Close a message as sent, unreachable or failed."""
        await self.conn.execute(
            outbox.update()
            .where(outbox.c.id == item_id)
            .values(
                status=status,
                sent_at=now if status == "sent" else None,
                error=error,
                attempts=outbox.c.attempts + 1,
            )
        )

    async def retry_later(self, item_id: int, not_before: datetime, error: str) -> None:
        """Count a failed attempt and put the message back for later."""
        await self.conn.execute(
            outbox.update()
            .where(outbox.c.id == item_id)
            .values(not_before=not_before, error=error, attempts=outbox.c.attempts + 1)
        )

    async def statuses(self, chat_id: str | None = None) -> list[tuple[str, str, str]]:
        """(chat_id, kind, status) of every row, optionally for one chat: for reports and tests."""
        query = sa.select(outbox.c.chat_id, outbox.c.kind, outbox.c.status).order_by(outbox.c.id)
        if chat_id is not None:
            query = query.where(outbox.c.chat_id == chat_id)
        return [(c, k, s) for c, k, s in await self.conn.execute(query)]
