"""Dialog state per chat: the flow, the step, the draft and the way back."""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

import sqlalchemy as sa

from storage.loop_connection import Executor
from storage.memo import generation_columns, read_generation
from storage.prepared import Prepared, fetch
from storage.records import DialogState
from storage.tables import dialog_states, generations

_STATE = (
    dialog_states.c.flow,
    dialog_states.c.step,
    dialog_states.c.data,
    dialog_states.c.back_stack,
    dialog_states.c.updated_at,
)
_THE_CHAT = sa.and_(
    dialog_states.c.channel == sa.bindparam("channel"),
    dialog_states.c.chat_id == sa.bindparam("chat_id"),
)
# Read on every update: built once (see storage/repos/accounts.py's _IDENTITY).
_GET = Prepared(sa.select(*_STATE).where(_THE_CHAT))


_CAMPAIGNS = generations.alias("campaigns_generation")


def _opening(postgresql: bool) -> Prepared:
    # The identities' generation, the campaigns' and the chat's dialog when it has one: one row either way.
    campaigns_generation = (
        sa.select(_CAMPAIGNS.c.value).where(_CAMPAIGNS.c.name == "campaigns").scalar_subquery()
    )
    return Prepared(
        sa.select(*generation_columns(postgresql), campaigns_generation, *_STATE)
        .select_from(generations.outerjoin(dialog_states, _THE_CHAT))
        .where(generations.c.name == "identity")
    )


_OPENING, _OPENING_PG = _opening(False), _opening(True)
# The same read after the chat's lock, outside a transaction (migration 0019's function).
_LOCKED = sa.func.thidua_opening(
    sa.bindparam("hold", type_=sa.Text()),
    sa.bindparam("channel", type_=sa.Text()),
    sa.bindparam("chat_id", type_=sa.Text()),
).table_valued(
    sa.column("identity_generation", sa.BigInteger()),
    sa.column("identity_changed_here", sa.Text()),
    sa.column("campaigns_generation", sa.BigInteger()),
    *(sa.column(column.name, column.type) for column in _STATE),
)
_OPENING_LOCKED = Prepared(sa.select(*_LOCKED.c))


class Opening(NamedTuple):
    """What an update's transaction reads first (``DialogRepo.opening``)."""

    identity_generation: int | None
    campaigns_generation: int
    dialog: DialogState | None


class DialogRepo:
    """Reads and writes ``dialog_states``."""

    def __init__(self, conn: Executor) -> None:
        self.conn = conn

    async def get(self, channel: str, chat_id: str) -> DialogState | None:
        """The chat's open dialog, if any."""
        rows = await fetch(self.conn, _GET, {"channel": channel, "chat_id": chat_id})
        return _state(*rows[0]) if rows else None

    async def opening(self, channel: str, chat_id: str, hold: str | None = None) -> Opening:
        """What every update reads first, in one statement, before it writes anything: the identities'
        generation, as ``storage.memo.generation(conn, "identity")`` gives it, the campaigns' and the chat's
        open dialog, if any. With ``hold`` (PostgreSQL), the statement first waits for that chat's lock
        (as a BEGIN takes it, storage/server_transaction.py) and reads what its holder committed."""
        postgresql = self.conn.dialect.name == "postgresql"
        key = {"channel": channel, "chat_id": chat_id}
        statement = _OPENING_PG if postgresql else _OPENING
        if hold is not None:
            statement, key = _OPENING_LOCKED, {**key, "hold": hold}
        ((value, changed_here, campaigns_generation, *state),) = await fetch(self.conn, statement, key)
        return Opening(
            read_generation(value, changed_here),
            int(campaigns_generation),
            _state(*state) if state[0] is not None else None,
        )

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


def _state(flow: str, step: str, data: Any, back_stack: Any, updated_at: datetime) -> DialogState:
    return DialogState(flow, step, dict(data), list(back_stack), updated_at)
