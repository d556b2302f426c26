"""The durable outbox: one row per message per recipient, sent by the outbox worker."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.records import OutboxItem
from storage.tables import channel_accounts, members, outbox, units


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

    async def enqueue_for_subtree(
        self,
        *,
        path: str,
        kind: str,
        broadcast_id: int,
        messages: dict[str, dict[str, Any]],
        default_language: str,
        now: datetime,
    ) -> int:
        """Queue one row per reachable account linked to a member of the subtree, each in its language.

        One INSERT ... SELECT per language, so a launch to 100,000 members never loads them into Python.
        """
        queued = 0
        language = sa.func.coalesce(channel_accounts.c.language, default_language)
        for lang, message in messages.items():
            recipients = (
                sa.select(
                    channel_accounts.c.channel,
                    channel_accounts.c.chat_id,
                    channel_accounts.c.id,
                    sa.literal(kind),
                    sa.literal(broadcast_id),
                    sa.literal(message, sa.JSON),
                    sa.literal("pending"),
                    sa.literal(0),
                    sa.literal(now, outbox.c.not_before.type),
                    sa.literal(now, outbox.c.created_at.type),
                )
                .join(members, members.c.id == channel_accounts.c.member_id)
                .join(units, units.c.id == members.c.unit_id)
                .where(
                    units.c.path.startswith(path), channel_accounts.c.reachable.is_(True), language == lang
                )
            )
            result = await self.conn.execute(
                outbox.insert().from_select(
                    [
                        "channel",
                        "chat_id",
                        "account_id",
                        "kind",
                        "broadcast_id",
                        "message",
                        "status",
                        "attempts",
                        "not_before",
                        "created_at",
                    ],
                    recipients,
                )
            )
            queued += result.rowcount
        return queued

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
                outbox.c.broadcast_id,
            )
            .where(outbox.c.status == "pending", outbox.c.not_before <= now)
            .order_by(outbox.c.not_before, outbox.c.id)
            .limit(limit)
        )
        return [OutboxItem(r[0], r[1], r[2], r[3], r[4], dict(r[5]), r[6], r[7]) for r in rows]

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

    async def mark_sent(self, item_ids: Sequence[int], now: datetime) -> None:
        """Close many messages as sent in one statement."""
        if item_ids:
            await self.conn.execute(
                outbox.update()
                .where(outbox.c.id.in_(list(item_ids)))
                .values(status="sent", sent_at=now, error=None, attempts=outbox.c.attempts + 1)
            )

    async def retry_later(
        self, item_id: int, not_before: datetime, error: str, *, count_attempt: bool
    ) -> None:
        """Put the message back for later, counting the attempt unless the channel only asked us to wait."""
        attempts = outbox.c.attempts + 1 if count_attempt else outbox.c.attempts
        await self.conn.execute(
            outbox.update()
            .where(outbox.c.id == item_id)
            .values(not_before=not_before, error=error, attempts=attempts)
        )

    async def statuses(self, chat_id: str | None = None) -> list[tuple[str, str, str]]:
        """(chat_id, kind, status) of every row, optionally for one chat: for reports and tests."""
        query = sa.select(outbox.c.chat_id, outbox.c.kind, outbox.c.status).order_by(outbox.c.id)
        if chat_id is not None:
            query = query.where(outbox.c.chat_id == chat_id)
        return [(c, k, s) for c, k, s in await self.conn.execute(query)]
