"""The engine and the unit of work: ``Store.begin()`` yields every repository bound to one transaction.

SQLite gets WAL, foreign keys and a busy timeout on every connection; PostgreSQL needs nothing special.
"""

from __future__ import annotations

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
from storage.repos.dialogs import DialogRepo
from storage.repos.initiatives import InitiativeRepo
from storage.repos.invites import InviteRepo
from storage.repos.join_requests import JoinRequestRepo
from storage.repos.leases import LeaseRepo
from storage.repos.members import MemberRepo
from storage.repos.outbox import OutboxRepo
from storage.repos.payloads import PayloadRepo
from storage.repos.registrations import RegistrationRepo
from storage.repos.reminders import ReminderRepo
from storage.repos.roles import RoleRepo
from storage.repos.stats import StatsRepo
from storage.repos.units import UnitRepo


class Repos:
    """Every repository, sharing one connection and so one transaction."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn
        self.units = UnitRepo(conn)
        self.members = MemberRepo(conn)
        self.accounts = AccountRepo(conn)
        self.roles = RoleRepo(conn)
        self.dialogs = DialogRepo(conn)
        self.invites = InviteRepo(conn)
        self.join_requests = JoinRequestRepo(conn)
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


def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # The driver must not open transactions by itself: _begin_immediate does (see docs/architecture.md).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _begin_immediate(conn: Connection) -> None:
    # Take the write lock at BEGIN: concurrent writers then wait on busy_timeout instead of failing with
    # "database is locked" when a deferred transaction tries to upgrade from reading to writing.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def create_engine(url: str) -> AsyncEngine:
    """An async engine for ``url``, tuned for SQLite when that is what it points at."""
    engine = create_async_engine(url, pool_pre_ping=not url.startswith("sqlite"))
    if engine.dialect.name == "sqlite":
        event.listen(engine.sync_engine, "connect", _tune_sqlite)
        event.listen(engine.sync_engine, "begin", _begin_immediate)
    return engine


class Store:
    """The application's handle on its database."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = create_engine(url)

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[Repos]:
        """One transaction: committed when the block ends, rolled back if it raises."""
        async with self.engine.begin() as conn:
            yield Repos(conn)

    async def close(self) -> None:
        """Release every pooled connection."""
        await self.engine.dispose()
