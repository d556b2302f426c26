"""PostgreSQL's transactions, begun and ended on asyncpg's own connection in as few round trips as can be.

The engine is in AUTOCOMMIT mode, so SQLAlchemy never begins or ends a transaction itself: ``ServerPool``'s
``transaction`` sends ``BEGIN`` (and the chat's lock with it, one round trip for both: one chat's updates
wait for each other, whichever instance runs them) and ``COMMIT`` or ``ROLLBACK`` straight to asyncpg, and
every statement in between, SQLAlchemy's or a prepared one on asyncpg (storage/prepared.py), runs inside it.
Through SQLAlchemy's asyncio layer the same cost a round trip more and ~150 µs of CPU per update; a ping
before each (``pool_pre_ping``) three round trips more. Neither is kept: a connection found lost before the
commit raises ``ConnectionLost`` instead, and its caller runs the work again on a new one.
The connections stay open and checked out of SQLAlchemy's pool between transactions (``ServerPool``, as
storage/loop_connection.py's ``LoopPool`` on SQLite): checking one out and in again through SQLAlchemy's
asyncio layer (greenlets, the pool's queue, the reset on return) cost ~110 µs of CPU per transaction.

A unit of work that only reads (``transaction(read_only=True)``) is lent its connection outside any
transaction: each statement runs on its own, without BEGIN and COMMIT (two round trips of the three a /help
costs); the router takes the chat's lock with the first read (``DialogRepo.opening``). Nothing may be written
there, and that is checked twice: a write statement raises ``WriteNeeded`` before it is sent (SQLAlchemy's
``before_execute`` here, storage/prepared.py for its own), and the server refuses any write that would slip
by (a function that writes, text SQL), the session being read-only by default
(``default_transaction_read_only``, which the transactions' ``BEGIN READ WRITE`` lifts); the refusal is
raised as ``WriteNeeded`` too. The caller then runs the whole unit again inside a transaction.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import (
    DataError,
    DBAPIError,
    IntegrityError,
    NotSupportedError,
    OperationalError,
    ProgrammingError,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql.dml import UpdateBase

log = logging.getLogger(__name__)

_SHUTTING_DOWN = {"57P01", "57P02", "57P03"}  # admin shutdown, crash shutdown, cannot connect now
_KINDS: dict[str, type[DBAPIError]] = {  # SQLSTATE classes
    "0A": NotSupportedError,
    "08": OperationalError,  # connection
    "22": DataError,
    "23": IntegrityError,
    "40": OperationalError,  # serialization failure, deadlock
    "42": ProgrammingError,
    "53": OperationalError,  # insufficient resources
    "57": OperationalError,  # operator intervention
}


class ConnectionLost(Exception):
    """The connection to PostgreSQL was lost before the transaction committed: running it again is safe."""


class WriteNeeded(Exception):
    """A unit of work lent its connection to read only tried to write: nothing was written, and running it
    again inside a transaction is what it needs."""


READING = "thidua.reading"  # in a connection's ``info`` while it is lent to read only
_READ_ONLY_REFUSED = "25006"  # SQLSTATE: a write in a read-only transaction


def refuse_writes_while_reading(
    conn: Connection, statement: Any, _multiparams: Any, _params: Any, _options: Any
) -> None:
    """SQLAlchemy's ``before_execute`` hook on the server's engine: a write on a connection lent to read
    only raises ``WriteNeeded`` before anything is sent."""
    if isinstance(statement, UpdateBase) and conn.info.get(READING):
        raise WriteNeeded(type(statement).__name__)


class ServerPool:
    """At most ``size`` connections of an AUTOCOMMIT ``engine`` lent at once, each inside a transaction,
    kept open between transactions."""

    def __init__(self, engine: AsyncEngine, size: int) -> None:
        self.engine = engine
        self._idle: list[tuple[AsyncConnection, Any]] = []  # with asyncpg's connection under each
        self._slots = asyncio.Semaphore(size)
        self._era = 0  # raised when connections were lost: those opened before are not kept
        self._closed = False

    @asynccontextmanager
    async def transaction(
        self, hold: str | None, *, read_only: bool = False
    ) -> AsyncIterator[AsyncConnection]:
        """A connection inside a transaction, committed when the block ends and rolled back if it raises;
        ``hold`` names a chat whose other transactions wait for this one. ``read_only``: the connection
        outside any transaction, each statement on its own, where a write raises ``WriteNeeded`` (see the
        module's docstring); ``hold`` is then not taken.

        A connection found lost before the commit (the server restarted, or ended it) raises
        ``ConnectionLost`` after every connection is replaced, as the others are likely lost too. A loss
        during the commit raises as it is: the commit may have happened."""
        committing = False
        async with self._slots:
            era = self._era
            conn, driver = self._idle.pop() if self._idle else await self._open()
            keep = True
            try:
                if read_only:
                    info = conn.info
                    info[READING] = True
                    try:
                        yield conn
                    finally:
                        info.pop(READING, None)
                else:
                    await _send(driver, _begin(conn, hold))
                    yield conn
                    committing = True
                    await _send(driver, "COMMIT")
            except BaseException as error:  # a refused COMMIT ends the transaction; one cut short leaves it
                await _roll_back(conn, driver)  # in doubt
                if not isinstance(error, Exception):  # cancelled: a statement may still be under way
                    keep = not read_only  # (a transaction's ROLLBACK above waited for it)
                elif not committing and _lost(error):
                    log.warning("the connection to the database was lost; opening new ones: %s", error)
                    await self._replace_all()
                    raise ConnectionLost(str(error)) from error
                elif read_only and _refused_write(error):
                    raise WriteNeeded(str(error)) from error
                raise
            finally:
                if not keep or era != self._era or not _sound(conn, driver):
                    await _discard(conn)
                elif self._closed:
                    await _give_back(conn, driver)
                else:
                    self._idle.append((conn, driver))

    async def _open(self) -> tuple[AsyncConnection, Any]:
        try:
            conn = await self.engine.connect()
        except Exception as error:
            if _lost(error):
                raise ConnectionLost(str(error)) from error
            raise
        driver = (await conn.get_raw_connection()).driver_connection
        try:
            await _send(driver, "SET default_transaction_read_only = on")  # what BEGIN READ WRITE lifts
        except BaseException:
            await _discard(conn)
            raise
        return conn, driver

    async def _replace_all(self) -> None:
        # Every connection opened so far is closed: the idle ones now, those lent out when they come back.
        self._era += 1
        while self._idle:
            await _discard(self._idle.pop()[0])
        await self.engine.dispose()

    async def close(self) -> None:
        """Give the idle connections back to the engine's pool, and each lent one when it comes back."""
        self._closed = True
        while self._idle:
            await _give_back(*self._idle.pop())


def _sound(conn: AsyncConnection, driver: Any) -> bool:
    # Kept for the next transaction only when it is open and outside a transaction.
    return not (conn.closed or conn.invalidated or driver.is_closed() or driver.is_in_transaction())


async def _give_back(conn: AsyncConnection, driver: Any) -> None:
    # Back to the engine's pool as the engine makes its connections: its sessions may write.
    try:
        await driver.execute("RESET default_transaction_read_only")
    except Exception as error:
        log.debug("giving a connection back to the engine: %s", error)
        await _discard(conn)
        return
    await conn.close()


async def _discard(conn: AsyncConnection) -> None:
    # A connection lost, left inside a transaction or opened before others were lost: closed, never lent.
    try:
        await conn.invalidate()
        await conn.close()
    except Exception as error:
        log.debug("discarding a connection to the database: %s", error)


def _begin(conn: AsyncConnection, hold: str | None) -> str:
    # READ WRITE: the session reads only by default (see the module's docstring).
    if hold is None:
        return "BEGIN READ WRITE"
    # One simple query, so no parameters: the chat's name as a literal, quoted as SQLAlchemy's dialect does.
    # The same lock as migration 0019's thidua_opening takes.
    quoted = _quoter(conn.dialect)(hold)
    return f"BEGIN READ WRITE; SELECT pg_advisory_xact_lock(hashtextextended({quoted}, 0))"


@functools.cache
def _quoter(dialect: Dialect) -> Callable[[str], str]:
    # The dialect's own quoting of a text literal (quotes doubled; backslashes too where the server wants).
    quote = sa.Text().literal_processor(dialect)  # type: ignore[no-untyped-call]
    assert quote is not None
    return cast(Callable[[str], str], quote)


async def _send(driver: Any, sql: str) -> None:
    try:
        await driver.execute(sql)
    except Exception as error:
        raise as_sqlalchemy_error(sql, [], error) from error


def as_sqlalchemy_error(sql: str, values: list[Any], error: Exception) -> DBAPIError:
    """asyncpg's ``error`` as SQLAlchemy raises a driver's, by its SQLSTATE's class (as PEP 249 drivers
    sort them): a violated constraint an ``IntegrityError``, bad data a ``DataError``, and so on."""
    state = getattr(error, "sqlstate", None)
    kind = _KINDS.get(state[:2], DBAPIError) if isinstance(state, str) else DBAPIError
    return kind(sql, values, error)


async def _roll_back(conn: AsyncConnection, driver: Any) -> None:
    # Whatever the transaction's state, the connection goes back to the pool outside one, or not at all: one
    # that cannot roll back (lost, or left mid-statement by a cancellation) is closed and never lent again.
    try:
        if driver.is_in_transaction():
            await driver.execute("ROLLBACK")
    except BaseException:
        driver.terminate()
        await conn.invalidate()


def _refused_write(error: BaseException) -> bool:
    # The server refused a write because the session reads only (SQLSTATE 25006), in the error or one it
    # was raised from.
    seen: BaseException | None = error
    for _ in range(8):
        if seen is None:
            return False
        if getattr(seen, "sqlstate", None) == _READ_ONLY_REFUSED:
            return True
        seen = getattr(seen, "orig", None) or seen.__cause__ or seen.__context__
    return False


def _lost(error: BaseException) -> bool:
    # The error, or one it was raised from, says the connection is gone or unusable: SQLAlchemy saw a
    # disconnect, asyncpg's connection is closed or stuck mid-operation, the server is shutting down
    # (SQLSTATE 08xxx, 57P0x), or it could not be reached at all.
    seen: BaseException | None = error
    for _ in range(8):  # a short chain: the driver's error, SQLAlchemy's, a rollback's
        if seen is None:
            return False
        if getattr(seen, "connection_invalidated", False) or isinstance(seen, ConnectionError):
            return True
        state = getattr(seen, "sqlstate", None)
        if isinstance(state, str) and (state.startswith("08") or state in _SHUTTING_DOWN):
            return True
        if type(seen).__name__ in {"ConnectionDoesNotExistError", "InterfaceError"} and "closed" in str(seen):
            return True
        if type(seen).__name__ == "InternalClientError":  # "another operation is in progress": the server's
            return True  # farewell read, its end of the connection not yet (asyncpg is between the two)
        seen = getattr(seen, "orig", None) or seen.__cause__ or seen.__context__
    return False
