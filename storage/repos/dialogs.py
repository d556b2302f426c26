"""Dialog state per chat: the flow, the step, the draft and the way back."""

from __future__ import annotations

import sqlalchemy as sa

from storage.loop_connection import Executor
from storage.prepared import Prepared, fetch
from storage.records import DialogState
from storage.tables import dialog_states

# Read on every update: built once (see storage/repos/accounts.py's _IDENTITY).
_GET = Prepared(
    sa.select(
        dialog_states.c.flow,
        dialog_states.c.step,
        dialog_states.c.data,
        dialog_states.c.back_stack,
        dialog_states.c.updated_at,
    ).where(
        dialog_states.c.channel == sa.bindparam("channel"),
        dialog_states.c.chat_id == sa.bindparam("chat_id"),
    )
)


class DialogRepo:
    """Reads and writes ``dialog_states``."""

    def __init__(self, conn: Executor) -> None:
        self.conn = conn

    async def get(self, channel: str, chat_id: str) -> DialogState | None:
        """The chat's open dialog, if any."""
        rows = await fetch(self.conn, _GET, {"channel": channel, "chat_id": chat_id})
        if not rows:
            return None
        flow, step, data, back_stack, updated_at = rows[0]
        return DialogState(flow, step, dict(data), list(back_stack), updated_at)

    async def save(self, channel: str, chat_id: str, state: DialogState) -> None:
        """Write the chat's dialog, replacing whatever was there."""
        await self.clear(channel, chat_id)
        await self.conn.execute(
            dialog_states.insert().values(
                channel=channel,
                chat_id=chat_id,
                flow=state.flow,
                step=state.step,
                data=state.data,
                back_stack=state.back_stack,
                updated_at=state.updated_at,
            )
        )

    async def clear(self, channel: str, chat_id: str) -> None:
        """Forget the chat's dialog."""
        await self.conn.execute(
            dialog_states.delete().where(
                dialog_states.c.channel == channel, dialog_states.c.chat_id == chat_id
            )
        )
