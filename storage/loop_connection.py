"""SQLite transactions run straight on the event loop: a plain SQLAlchemy connection behind async methods.

The repositories ``await conn.execute(...)``, which on PostgreSQL is asyncpg's ``AsyncConnection``. On
SQLite a statement of this bot takes 20–50 µs on a warm connection, while SQLAlchemy's asyncio layer around
it (a greenlet per call, the pool's asyncio queue and timeouts, the begin and commit round trips) cost
about 270 µs a transaction and 25 µs a statement more (issue 13, docs/performance.md). ``LoopConnection``
gives the repositories the same ``execute`` on a synchronous connection, and ``LoopPool`` lends those
connections out, waiting in asyncio, never blocking the loop.

Nothing here waits inside SQLite: connections have ``busy_timeout`` 0, ``BEGIN IMMEDIATE`` is retried with
asyncio sleeps while another process holds the write lock, and a deferred transaction's refused write
raises at once for its caller to run again (``storage.sqlite_inloop.is_busy``).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, Concatenate, ParamSpec, TypeVar, TypeVarTuple, overload

from sqlalchemy.engine import Connection, CursorResult, Dialect, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import Executable
from sqlalchemy.sql.selectable import TypedReturnsRows
from sqlalchemy.util.typing import TupleAny

from storage.sqlite_inloop import lock_pauses, refused

_Ts = TypeVarTuple("_Ts")
_P = ParamSpec("_P")
_T = TypeVar("_T")


class LoopConnection:
    """The async face the repositories use (``execute``), over a synchronous connection on the loop."""

    __slots__ = ("sync",)

    def __init__(self, sync: Connection) -> None:
        self.sync = sync

    @overload
    async def execute(
        self, statement: TypedReturnsRows[*_Ts], parameters: Any = None
    ) -> CursorResult[*_Ts]: ...

    @overload
    async def execute(self, statement: Executable, parameters: Any = None) -> CursorResult[*TupleAny]: ...

    async def execute(self, statement: Executable, parameters: Any = None) -> CursorResult[*TupleAny]:
        """Run one statement; its rows are read from the returned result without waiting."""
        return self.sync.execute(statement, parameters)

    async def run_sync(
        self, fn: Callable[Concatenate[Connection, _P], _T], *args: _P.args, **kwargs: _P.kwargs
    ) -> _T:
        """``fn(connection, ...)`` on the synchronous connection, as ``AsyncConnection.run_sync``: for code
        that reads a result as it iterates it (an export's rows, straight from the cursor)."""
        return fn(self.sync, *args, **kwargs)

    @property
    def dialect(self) -> Dialect:
        """The database's SQLAlchemy dialect (SQLite's)."""
        return self.sync.dialect


Executor = AsyncConnection | LoopConnection  # what a repository runs its statements on


class LoopPool:
    """At most ``size`` connections of ``engine`` lent at once, kept open between transactions."""

    def __init__(self, engine: Engine, size: int) -> None:
        self.engine = engine
        self._idle: list[Connection] = []
        self._slots = asyncio.Semaphore(size)
        self._closed = False

    @asynccontextmanager
    async def transaction(self, *, immediate: bool) -> AsyncIterator[LoopConnection]:
        """A connection in a transaction, committed when the block ends and rolled back if it raises.

        ``immediate`` takes SQLite's write lock at BEGIN (waiting, in asyncio, while another process
        holds it); otherwise the transaction reads without it."""
        async with self._slots:
            conn = self._idle.pop() if self._idle else self.engine.connect()
            try:
                await _begin(conn, immediate)
                try:
                    yield LoopConnection(conn)
                except BaseException:
                    _end(conn, "ROLLBACK")
                    raise
                _end(conn, "COMMIT")
            finally:
                if _sound(conn) and not self._closed:
                    self._idle.append(conn)
                else:
                    conn.close()

    def close(self) -> None:
        """Close the idle connections (those lent out are closed when they come back)."""
        self._closed = True
        while self._idle:
            self._idle.pop().close()


def _sound(conn: Connection) -> bool:
    # A connection that broke, or that SQLite left inside a transaction (a failed COMMIT or ROLLBACK), is
    # closed rather than lent again; so is one whose COMMIT failed after SQLite rolled back by itself (a full
    # disk): SQLAlchemy still holds that transaction, and would refuse every later one on the connection.
    if conn.closed or conn.invalidated or conn.get_transaction() is not None:
        return False
    raw = conn.connection.dbapi_connection
    return raw is not None and not getattr(raw, "in_transaction", True)


async def _begin(conn: Connection, immediate: bool) -> None:
    # Straight on the driver: SQLAlchemy's side of the transaction begins with the first statement it runs
    # (see _end), and the hot statements do not go through it (storage/prepared.py).
    raw = driver(conn)
    if not immediate:
        _on_driver(raw, "BEGIN")
        return
    for pause in lock_pauses():
        try:
            raw.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as error:
            if not refused(error):
                raise DBAPIError.instance("BEGIN IMMEDIATE", (), error, sqlite3.Error) from error
        await asyncio.sleep(pause)
    _on_driver(raw, "BEGIN IMMEDIATE")  # the last try: SQLite's refusal raises


def _end(conn: Connection, verb: str) -> None:
    # SQLAlchemy ends the transaction when it ran a statement in it; otherwise only the driver knows of it.
    if conn.in_transaction():
        if verb == "COMMIT":
            conn.commit()
        else:
            conn.rollback()
    raw = driver(conn)
    if raw.in_transaction:
        _on_driver(raw, verb)


def driver(conn: Connection) -> sqlite3.Connection:
    """The pysqlite connection under a SQLAlchemy connection of the loop engine."""
    raw = conn.connection.driver_connection
    assert isinstance(raw, sqlite3.Connection)
    return raw


def _on_driver(raw: sqlite3.Connection, sql: str) -> None:
    try:
        raw.execute(sql)
    except sqlite3.Error as error:  # as SQLAlchemy would raise it, for is_busy and the callers
        raise DBAPIError.instance(sql, (), error, sqlite3.Error) from error
