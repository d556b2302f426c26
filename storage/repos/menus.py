"""The newest numbered menu of a chat on a channel without buttons (``chat_menus``)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from storage.loop_connection import Executor
from storage.tables import chat_menus


class MenuRepo:
    """Reads and writes ``chat_menus``: (label, payload) pairs in the order they were numbered."""

    def __init__(self, conn: Executor) -> None:
        self.conn = conn

    async def get(self, channel: str, chat_id: str) -> list[tuple[str, str]]:
        """The chat's newest menu, or an empty list."""
        query = sa.select(chat_menus.c.options).where(
            chat_menus.c.channel == channel, chat_menus.c.chat_id == chat_id
        )
        options = (await self.conn.execute(query)).scalar_one_or_none()
        return [(str(label), str(payload)) for label, payload in options or []]

    async def put(self, channel: str, chat_id: str, options: list[tuple[str, str]], now: datetime) -> None:
        """Replace the chat's menu with ``options``, in one statement (an upsert)."""
        rows = [[label, payload] for label, payload in options]
        insert = (postgresql.insert if self.conn.dialect.name == "postgresql" else sqlite.insert)(chat_menus)
        shown = insert.values(channel=channel, chat_id=chat_id, options=rows, shown_at=now)
        await self.conn.execute(
            shown.on_conflict_do_update(
                index_elements=["channel", "chat_id"],
                set_={"options": shown.excluded.options, "shown_at": shown.excluded.shown_at},
            )
        )
