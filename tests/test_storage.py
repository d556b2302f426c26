"""Storage: the migrations build exactly the schema of storage/tables.py; SQLite is tuned; writers queue."""

from __future__ import annotations

import asyncio
import sqlite3
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.exc import DBAPIError

from bot.app import prepare_database
from storage.database import Repos, Store
from storage.migrate import alembic_config, current_revision, head_revision, upgrade_async
from storage.tables import metadata

NOW = datetime(2026, 5, 1, 1, 0, tzinfo=UTC)
ROOT = Path(__file__).resolve().parent.parent
WAIT_BOUND = 30.0  # seconds: a bound on waits between threads, never reached when all is well


async def test_migrations_match_the_tables_exactly(db_url: str) -> None:
    await upgrade_async(db_url)
    store = Store(db_url)
    async with store.engine.connect() as conn:
        diff = await conn.run_sync(lambda sync: compare_metadata(MigrationContext.configure(sync), metadata))
    assert diff == []
    assert await current_revision(store.engine) == head_revision()
    await store.close()


def test_the_head_read_off_the_scripts_is_alembics() -> None:
    # head_revision reads the scripts' revision lines itself, so that the check at start loads no Alembic.
    assert head_revision() == ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


@pytest.mark.sqlite_only("SQLite's pragmas")
async def test_sqlite_runs_in_wal_mode_with_foreign_keys(db_url: str) -> None:
    store = Store(db_url)
    await prepare_database(store)
    async with store.engine.connect() as conn:
        assert (await conn.exec_driver_sql("PRAGMA journal_mode")).scalar_one() == "wal"
        assert (await conn.exec_driver_sql("PRAGMA foreign_keys")).scalar_one() == 1
    await store.close()


_FIRST_START = """
import asyncio, sys
from bot.app import prepare_database
from storage.database import Store
from storage.migrate import current_revision, head_revision

async def first_start(url):
    store = Store(url)
    await prepare_database(store)
    print(await current_revision(store.engine) == head_revision(), "alembic" in sys.modules)
    await store.close()

asyncio.run(first_start(sys.argv[1]))
"""


@pytest.mark.sqlite_only("the embedded SQLite migrates itself at start")
async def test_a_new_sqlite_file_is_migrated_at_start_without_alembic_in_the_bots_process(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}"
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _FIRST_START, url, stdout=asyncio.subprocess.PIPE, cwd=ROOT
    )
    async with asyncio.timeout(WAIT_BOUND):
        out, _ = await child.communicate()
    assert child.returncode == 0
    at_head, alembic_loaded = out.decode().split()
    assert (at_head, alembic_loaded) == ("True", "False")  # migrated, in a child of its own


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


async def test_a_heavy_read_runs_on_its_own_thread_and_connection_and_never_blocks_a_writer(
    store: Store,
) -> None:
    """While a read apart holds its snapshot, a writer commits; the read still sees the rows as they were."""
    async with store.begin() as repos:
        await repos.audit.record("test", "before", "x", {}, NOW)
    reading, written = threading.Event(), threading.Event()

    async def read(repos: Repos) -> tuple[str, int, int]:
        first = len(await repos.audit.recent(100))
        reading.set()
        assert written.wait(WAIT_BOUND)  # the writer commits while this snapshot is open
        return threading.current_thread().name, first, len(await repos.audit.recent(100))

    heavy = asyncio.create_task(store.read_apart(read))
    assert await asyncio.to_thread(reading.wait, WAIT_BOUND)
    async with store.begin() as repos:  # would wait on the read if it held the lock or the loop
        await repos.audit.record("test", "during", "x", {}, NOW)
    written.set()
    thread, first, later = await heavy
    assert thread.startswith("thidua-read") and thread != threading.current_thread().name
    assert later == first  # the row written meanwhile is not in the read's snapshot
    async with store.begin() as repos:
        assert len(await repos.audit.recent(100)) == first + 1


async def test_a_heavy_read_cannot_write(store: Store) -> None:
    async def write(repos: Repos) -> None:
        await repos.audit.record("test", "apart", "x", {}, NOW)

    with pytest.raises(DBAPIError, match=r"read.?only"):  # SQLite: readonly; PostgreSQL: read-only
        await store.read_apart(write)


@pytest.mark.sqlite_only("SQLite's write lock held by another process")
async def test_a_writer_waits_for_another_process_lock_without_blocking_the_loop(store: Store) -> None:
    other = sqlite3.connect(store.url.partition(":///")[2], isolation_level=None)  # another process's
    other.execute("BEGIN IMMEDIATE")
    turns = 0

    async def write() -> None:
        async with store.begin() as repos:
            await repos.audit.record("test", "after the lock", "x", {}, NOW)

    writer = asyncio.create_task(write())
    while turns < 20:  # the loop goes on turning while the writer waits for SQLite's lock
        await asyncio.sleep(0.005)
        turns += 1
    assert not writer.done()
    other.execute("COMMIT")
    other.close()
    async with asyncio.timeout(WAIT_BOUND):
        await writer
    async with store.begin() as repos:
        assert "after the lock" in [action for _, action, _, _ in await repos.audit.recent(5)]


@pytest.mark.sqlite_only("SQLite's own rollback of a COMMIT that met a full disk")
async def test_a_commit_refused_by_a_full_disk_spoils_no_later_transaction(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    insert = sa.text(
        "INSERT INTO audit_log (at, actor, action, subject, details) VALUES (:at, 'test', 'disk', :n, '{}')"
    )
    assert store.loop_engine is not None
    dialect = store.loop_engine.dialect

    def disk_full_once(dbapi_connection: sqlite3.Connection) -> None:
        monkeypatch.undo()
        dbapi_connection.rollback()  # as SQLite does when the journal cannot grow at COMMIT
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(dialect, "do_commit", disk_full_once)
    with pytest.raises(DBAPIError, match="database or disk is full"):
        async with store.begin() as repos:
            await repos.conn.execute(insert, {"at": NOW, "n": "lost"})
    for n in ("after-1", "after-2"):  # the disk has room again: the same pooled connection serves
        async with store.begin() as repos:
            await repos.conn.execute(insert, {"at": NOW, "n": n})
    async with store.begin() as repos:
        written = (
            await repos.conn.execute(sa.text("SELECT subject FROM audit_log WHERE action = 'disk'"))
        ).all()
    assert [row.subject for row in written] == ["after-1", "after-2"]
