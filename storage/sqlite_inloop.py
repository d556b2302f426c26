"""SQLite for the async engine without a thread: the driver runs each statement on the event loop's thread.

SQLAlchemy's asyncio extension wants an async driver, and aiosqlite hands every statement to its own thread
and back: with 5–13 statements an update, those hops were a quarter of the bot's CPU (issue 13). A SQLite
statement of this bot takes microseconds, less than the hop itself, so this dialect is the standard pysqlite
dialect declared async: ``AsyncConnection.execute`` runs the statement in the greenlet it opens, with no
trip through the event loop. It serves the async engine (migrations, the start's checks, heavy reads on their
own thread's loop); an update's transaction goes cheaper still, on a plain connection
(storage/loop_connection.py).

What would block the loop is waiting for SQLite's write lock, so connections wait for no lock
(``busy_timeout`` 0): ``BEGIN IMMEDIATE`` is retried here with asyncio sleeps while another process holds
the lock (``begin_immediate``), and a deferred transaction's refused write is run again by its caller
(``storage.database.is_busy``). Heavy reads (exports, charts) do not run here: they take a thread and a
connection of their own (``storage.database.Store.read_apart``).
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable, Iterator
from typing import Any

from sqlalchemy import pool
from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
from sqlalchemy.engine import URL, Connection
from sqlalchemy.exc import OperationalError
from sqlalchemy.util import await_only

DRIVER = "thidua_inloop"
LOCK_WAIT_SECONDS = 30.0  # how long BEGIN IMMEDIATE waits for another process to release the write lock
_FIRST_PAUSE = 0.001
_LONGEST_PAUSE = 0.05


class SQLiteDialectInLoop(SQLiteDialect_pysqlite):
    """pysqlite, declared async: statements run synchronously inside SQLAlchemy's greenlet."""

    driver = DRIVER
    is_async = True
    supports_statement_cache = True

    # SQLAlchemy's async engine insists that executing a statement awaited something (AwaitRequired): the
    # statement runs inside a coroutine that never suspends, awaited from the greenlet, a switch of
    # microseconds with no trip through the event loop.
    def do_execute(self, cursor: Any, statement: str, parameters: Any, context: Any = None) -> None:
        await_only(_run(cursor.execute, statement, parameters))

    def do_execute_no_params(self, cursor: Any, statement: str, context: Any = None) -> None:
        await_only(_run(cursor.execute, statement))

    def do_executemany(self, cursor: Any, statement: str, parameters: Any, context: Any = None) -> None:
        await_only(_run(cursor.executemany, statement, parameters))

    def connect(self, *cargs: Any, **cparams: Any) -> Any:
        """A sqlite3 connection whose cursors the async result layer can close."""
        return super().connect(*cargs, factory=_Connection, **cparams)

    @classmethod
    def get_pool_class(cls, url: URL) -> type[pool.Pool]:
        """A queue for a file (its waits are asyncio's), one shared connection for ``:memory:``."""
        return pool.AsyncAdaptedQueuePool if cls._is_url_file_db(url) else pool.StaticPool


class _Cursor(sqlite3.Cursor):
    async def _async_soft_close(self) -> None:
        """Called by SQLAlchemy's async results before reading rows; a sqlite3 cursor needs nothing."""


class _Connection(sqlite3.Connection):
    def cursor(self, factory: Any = _Cursor) -> Any:
        """A cursor of ours unless another factory is asked for."""
        return super().cursor(factory)


async def _run(method: Callable[..., Any], *args: Any) -> Any:
    return method(*args)


registry.register(f"sqlite.{DRIVER}", __name__, "SQLiteDialectInLoop")


def inloop_url(url: str) -> str:
    """``url`` with its SQLite driver replaced by this one (``sqlite://`` and ``sqlite+aiosqlite://``)."""
    scheme, _, rest = url.partition("://")
    return f"sqlite+{DRIVER}://{rest}" if scheme.split("+")[0] == "sqlite" else url


def plain_sqlite_url(url: str) -> str:
    """``url`` for the standard pysqlite driver (the synchronous engine of storage/loop_connection.py)."""
    return "sqlite://" + url.partition("://")[2]


def lock_pauses() -> Iterator[float]:
    """The sleeps between tries of ``BEGIN IMMEDIATE`` while another process holds SQLite's write lock:
    doubling from 1 ms to 50 ms, for LOCK_WAIT_SECONDS in all."""
    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    pause = _FIRST_PAUSE
    while time.monotonic() < deadline:
        yield pause
        pause = min(pause * 2, _LONGEST_PAUSE)


def try_begin_immediate(conn: Connection) -> bool:
    """``BEGIN IMMEDIATE`` once: True when it began, False when SQLite refused the lock (SQLAlchemy's side
    of the transaction that never began is rolled back); any other failure raises."""
    try:
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    except OperationalError as error:
        conn.rollback()
        if not is_busy(error):
            raise
        return False
    return True


def begin_immediate(conn: Connection) -> None:
    """``BEGIN IMMEDIATE`` inside SQLAlchemy's greenlet, waiting with asyncio sleeps (never blocking the
    loop) while it is refused; the last try's refusal raises."""
    for pause in lock_pauses():
        if try_begin_immediate(conn):
            return
        await_only(asyncio.sleep(pause))
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def is_busy(error: BaseException) -> bool:
    """True when SQLite refused the write lock: another connection holds it, or committed after this
    deferred transaction began reading. Running the transaction again is then safe."""
    original = getattr(error, "orig", None)
    return isinstance(original, sqlite3.OperationalError) and refused(original)


def refused(error: sqlite3.Error) -> bool:
    """True when the driver's own error is SQLite's refusal of the write lock (BUSY_SNAPSHOT too)."""
    code = getattr(error, "sqlite_errorcode", None)
    return isinstance(code, int) and code & 0xFF == sqlite3.SQLITE_BUSY
