"""Counting the SQL statements the bot runs: ``async with counted(store) as seen: await mai.send("/help")``.

It listens to SQLAlchemy's ``before_cursor_execute`` event on the store's engines, so it sees every statement
of the bot's own connections whatever the code path; BEGIN, COMMIT and ROLLBACK are left out (every update
has one transaction, and they are not the statements a handler chooses to make).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event

from storage.database import Store

_TRANSACTION = ("BEGIN", "COMMIT", "ROLLBACK")


class Statements:
    """The statements seen while counting, in order."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def __len__(self) -> int:
        return len(self.seen)

    def note(self, _conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        """The ``before_cursor_execute`` listener: keep the statement unless it only frames a transaction
        (on PostgreSQL the chat's lock, taken by ``Store.begin(hold=...)``, frames every update's too)."""
        framing = statement.lstrip().upper().startswith(_TRANSACTION) or "pg_advisory_xact_lock" in statement
        if not framing:
            self.seen.append(statement)

    def __str__(self) -> str:
        return "\n".join(f"{n}. {' '.join(s.split())[:160]}" for n, s in enumerate(self.seen, start=1))


@asynccontextmanager
async def counted(store: Store) -> AsyncIterator[Statements]:
    """The statements ``store``'s engine runs inside the block."""
    statements = Statements()
    # SQLite's transactions run on the store's loop engine, everything else on its async engine.
    targets = [store.engine.sync_engine, *([store.loop_engine] if store.loop_engine else [])]
    for target in targets:
        event.listen(target, "before_cursor_execute", statements.note)
    try:
        yield statements
    finally:
        for target in targets:
            event.remove(target, "before_cursor_execute", statements.note)
