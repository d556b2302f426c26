"""The engine and the unit of work: ``Store.begin()`` yields every repository bound to one transaction.

SQLite gets WAL, foreign keys and a busy timeout on every connection; PostgreSQL needs nothing special.
A transaction takes SQLite's single write lock at BEGIN (known writers: the outbox, the scheduler, the
CLI) unless it is begun ``deferred``: then reading never waits, and the first write takes the lock or fails
at once with "database is locked" (``is_busy``), which the caller answers by running it again (the router).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from storage.repos.accounts import AccountRepo
from storage.repos.audit import AuditRepo
from storage.repos.broadcasts import BroadcastRepo
from storage.repos.campaigns import CampaignRepo
from storage.repos.counters import CounterRepo
from storage.repos.dialogs import DialogRepo
from storage.repos.initiatives import InitiativeRepo
from storage.repos.invites import InviteRepo
from storage.repos.join_requests import JoinRequestRepo
from storage.repos.leases import LeaseRepo
from storage.repos.link_codes import LinkCodeRepo
from storage.repos.members import MemberRepo
from storage.repos.menus import MenuRepo
from storage.repos.outbox import OutboxRepo
from storage.repos.payloads import PayloadRepo
from storage.repos.registrations import RegistrationRepo
from storage.repos.reminders import ReminderRepo
from storage.repos.roles import RoleRepo
from storage.repos.stats import StatsRepo
from storage.repos.units import UnitRepo
from storage.sqlite_inloop import begin_immediate, inloop_url, is_busy

__all__ = ["Repos", "Store", "create_engine", "is_busy"]


class Repos:
    """Every repository, sharing one connection and so one transaction."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn
        self.units = UnitRepo(conn)
        self.members = MemberRepo(conn)
        self.accounts = AccountRepo(conn)
        self.roles = RoleRepo(conn)
        self.dialogs = DialogRepo(conn)
        self.menus = MenuRepo(conn)
        self.invites = InviteRepo(conn)
        self.join_requests = JoinRequestRepo(conn)
        self.link_codes = LinkCodeRepo(conn)
        self.audit = AuditRepo(conn)
        self.payloads = PayloadRepo(conn)
        self.outbox = OutboxRepo(conn)
        self.campaigns = CampaignRepo(conn)
        self.registrations = RegistrationRepo(conn)
        self.broadcasts = BroadcastRepo(conn)
        self.reminders = ReminderRepo(conn)
        self.leases = LeaseRepo(conn)
        self.initiatives = InitiativeRepo(conn)
        self.stats = StatsRepo(conn)
        self.counters = CounterRepo(conn)


def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # The driver must not open transactions by itself: _begin does (see docs/architecture.md). No
    # connection waits inside SQLite for the write lock (busy_timeout 0): that wait would block the event
    # loop, so begin_immediate waits with asyncio sleeps instead.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=0")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


_DEFERRED = "thidua_deferred"  # an execution option: begin this connection's transaction without the lock


def _begin(conn: Connection) -> None:
    # BEGIN IMMEDIATE takes the write lock at once: writers queue for it instead of failing when a deferred
    # transaction upgrades from reading to writing. Deferred transactions read without it.
    if conn.get_execution_options().get(_DEFERRED, False):
        conn.exec_driver_sql("BEGIN")
    else:
        begin_immediate(conn)


# Every update being answered holds a connection for its whole transaction (up to 256 at once, see
# bot/channels/telegram/channel.py), but on SQLite a transaction runs on the event loop from BEGIN to
# COMMIT without letting another start (storage/sqlite_inloop.py), so few connections are ever checked out
# at once; waiting for one is a fair queue, and it must never time out under a burst: an update waits
# rather than fails.
SQLITE_POOL_SIZE = 16
POOL_TIMEOUT_SECONDS = 600


def create_engine(url: str) -> AsyncEngine:
    """An async engine for ``url``, tuned for SQLite when that is what it points at."""
    if not url.startswith("sqlite"):
        return create_async_engine(url, pool_pre_ping=True)
    file_based = ":memory:" not in url and "mode=memory" not in url
    pool: dict[str, Any] = (
        {"pool_size": SQLITE_POOL_SIZE, "max_overflow": 0, "pool_timeout": POOL_TIMEOUT_SECONDS}
        if file_based
        else {}
    )
    engine = create_async_engine(inloop_url(url), **pool)
    event.listen(engine.sync_engine, "connect", _tune_sqlite)
    event.listen(engine.sync_engine, "begin", _begin)
    return engine


class Store:
    """The application's handle on its database."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = create_engine(url)
        self._deferred_engine = self.engine.execution_options(**{_DEFERRED: True})
        # This process's writers take turns here, first come first served, before asking SQLite for its
        # lock: SQLite's busy handler polls with sleeps of up to 100 ms and serves no one in order, so
        # under a burst the lock sat idle between polls and an unlucky writer waited out the busy timeout.
        self._writers = asyncio.Lock() if self.engine.dialect.name == "sqlite" else None

    @asynccontextmanager
    async def begin(self, *, deferred: bool = False) -> AsyncIterator[Repos]:
        """One transaction: committed when the block ends, rolled back if it raises.

        On SQLite it holds the write lock from the start (waiting its turn behind this process's other
        writers), unless ``deferred``: then it reads alongside the others and its first write may raise an
        error for which ``is_busy`` is true; the caller runs it again. PostgreSQL locks rows, not the
        database, and ignores ``deferred``.
        """
        if deferred or self._writers is None:
            async with (self._deferred_engine if deferred else self.engine).begin() as conn:
                yield Repos(conn)
            return
        async with self._writers, self.engine.begin() as conn:
            yield Repos(conn)

    async def close(self) -> None:
        """Release every pooled connection."""
        await self.engine.dispose()
