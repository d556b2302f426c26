"""Storage: the migrations build exactly the schema of storage/tables.py; SQLite is tuned; writers queue."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from bot.app import prepare_database
from storage.database import Store
from storage.migrate import current_revision, head_revision, upgrade_async
from storage.tables import metadata

NOW = datetime(2026, 5, 1, 1, 0, tzinfo=UTC)


async def test_migrations_match_the_tables_exactly(db_url: str) -> None:
    await upgrade_async(db_url)
    store = Store(db_url)
    async with store.engine.connect() as conn:
        diff = await conn.run_sync(lambda sync: compare_metadata(MigrationContext.configure(sync), metadata))
    assert diff == []
    assert await current_revision(store.engine) == head_revision()
    await store.close()


@pytest.mark.sqlite_only("SQLite's pragmas")
async def test_sqlite_runs_in_wal_mode_with_foreign_keys(db_url: str) -> None:
    store = Store(db_url)
    await prepare_database(store)
    async with store.engine.connect() as conn:
        assert (await conn.exec_driver_sql("PRAGMA journal_mode")).scalar_one() == "wal"
        assert (await conn.exec_driver_sql("PRAGMA foreign_keys")).scalar_one() == 1
    await store.close()


async def test_concurrent_writers_wait_for_each_other_instead_of_failing(db_url: str) -> None:
    await upgrade_async(db_url)
    store = Store(db_url)

    async def write(number: int) -> None:
        async with store.begin() as repos:
            await repos.audit.recent(1)  # read first: a deferred transaction would now fail to upgrade
            await asyncio.sleep(0)
            await repos.audit.record("test", "concurrency", f"writer:{number}", {}, NOW)

    await asyncio.gather(*(write(number) for number in range(20)))
    async with store.begin() as repos:
        assert len(await repos.audit.recent(100)) == 20
    await store.close()


async def test_times_come_back_as_aware_utc(db_url: str) -> None:
    await upgrade_async(db_url)
    store = Store(db_url)
    local = datetime(2026, 5, 1, 8, 0).astimezone()  # any aware time
    async with store.begin() as repos:
        await repos.audit.record("test", "time", "x", {}, local)
    async with store.engine.connect() as conn:
        (stored,) = (await conn.exec_driver_sql("SELECT at FROM audit_log")).one()
    assert str(stored).startswith(local.astimezone(UTC).strftime("%Y-%m-%d %H:%M"))
    await store.close()
