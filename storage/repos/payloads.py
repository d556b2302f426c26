"""Button payloads too long for a channel's limit (Telegram: 64 bytes), kept behind a short token."""

from __future__ import annotations

import hashlib
from datetime import datetime

import sqlalchemy as sa

from storage.loop_connection import Executor
from storage.tables import button_payloads


class PayloadRepo:
    """Reads and writes ``button_payloads``."""

    def __init__(self, conn: Executor) -> None:
        self.conn = conn

    async def put(self, payload: str, now: datetime) -> str:
        """A stable token for the payload (the same payload always gets the same token)."""
        token = hashlib.blake2b(payload.encode(), digest_size=8).hexdigest()
        found = await self.get(token)
        if found is None:
            await self.conn.execute(
                button_payloads.insert().values(token=token, payload=payload, created_at=now)
            )
        return token

    async def get(self, token: str) -> str | None:
        """The payload behind a token, if known."""
        row = (
            await self.conn.execute(
                sa.select(button_payloads.c.payload).where(button_payloads.c.token == token)
            )
        ).first()
        return str(row[0]) if row else None
