"""Files behind signed download links, kept in the database until their link expires."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from storage.loop_connection import Executor
from storage.tables import shared_files


class FileRepo:
    """Reads and writes ``shared_files``."""

    def __init__(self, conn: Executor) -> None:
        self.conn = conn

    async def keep(
        self, file_id: str, account_id: int, name: str, content: bytes, expires_at: datetime, now: datetime
    ) -> None:
        """Keep a file until ``expires_at``; the files whose time is up go at the same moment."""
        await self.conn.execute(shared_files.delete().where(shared_files.c.expires_at <= now))
        await self.conn.execute(
            shared_files.insert().values(
                id=file_id, account_id=account_id, name=name, content=content, expires_at=expires_at
            )
        )

    async def get(self, file_id: str, now: datetime) -> tuple[str, bytes, int] | None:
        """The kept file's name, content and account, unless it is gone or its time is up."""
        row = (
            await self.conn.execute(
                sa.select(shared_files.c.name, shared_files.c.content, shared_files.c.account_id).where(
                    shared_files.c.id == file_id, shared_files.c.expires_at > now
                )
            )
        ).first()
        return (row[0], bytes(row[1]), row[2]) if row else None
