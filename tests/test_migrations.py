"""Migrations: every revision goes up to head, all the way down to base and up again, on SQLite and (with
``--db=postgres``) on PostgreSQL, leaving exactly the schema of storage/tables.py."""

from __future__ import annotations

import asyncio

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from storage.database import Store
from storage.migrate import alembic_config, current_revision, head_revision, upgrade_async
from storage.tables import metadata


async def _tables(store: Store) -> set[str]:
    async with store.engine.connect() as conn:
        return set(await conn.run_sync(lambda sync: sa.inspect(sync).get_table_names()))


async def _schema_differences(store: Store) -> list[object]:
    async with store.engine.connect() as conn:
        return list(
            await conn.run_sync(lambda sync: compare_metadata(MigrationContext.configure(sync), metadata))
        )


async def test_migrations_go_up_down_to_base_and_up_again(db_url: str) -> None:
    store = Store(db_url)
    try:
        await upgrade_async(db_url)
        assert await current_revision(store.engine) == head_revision()
        assert set(metadata.tables) <= await _tables(store)

        await asyncio.to_thread(command.downgrade, alembic_config(db_url), "base")
        assert await current_revision(store.engine) is None
        assert await _tables(store) <= {"alembic_version"}

        await upgrade_async(db_url)
        assert await current_revision(store.engine) == head_revision()
        assert await _schema_differences(store) == []
    finally:
        await store.close()


async def test_a_database_holding_the_roster_goes_down_and_up_again(store: Store) -> None:
    await asyncio.to_thread(command.downgrade, alembic_config(store.url), "base")
    assert await _tables(store) <= {"alembic_version"}
    await upgrade_async(store.url)
    assert await current_revision(store.engine) == head_revision()
