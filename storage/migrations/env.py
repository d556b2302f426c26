"""Alembic environment: runs the migrations on the URL handed over by ``storage.migrate``."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from storage.database import create_engine
from storage.tables import metadata

config = context.config


def _run(connection: Connection) -> None:
    if connection.dialect.name == "sqlite":
        # Batch mode rebuilds a SQLite table by copy, drop and rename; with foreign keys on, dropping a table
        # that other rows refer to fails (SQLite's documented way to change a table is with keys off). The
        # pragma is ignored inside a transaction, so it goes straight to the driver before BEGIN.
        connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")  # type: ignore[union-attr]
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


async def _run_async(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
            await connection.commit()
    finally:
        await engine.dispose()


if context.is_offline_mode():
    context.configure(
        url=config.get_main_option("sqlalchemy.url"), target_metadata=metadata, literal_binds=True
    )
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_run_async(str(config.get_main_option("sqlalchemy.url"))))
