"""Applies the Alembic migrations to a database URL (``thidua db upgrade``, and at start for SQLite).

Alembic's environment runs its own event loop, so from async code call ``upgrade_async`` (a worker thread).
"""

from __future__ import annotations

import asyncio
import functools
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    """An Alembic configuration for this project's migrations on ``url``, with no ini file."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database up to ``revision`` (the newest by default)."""
    command.upgrade(alembic_config(url), revision)


async def upgrade_async(url: str) -> None:
    """``upgrade`` from inside a running event loop."""
    await asyncio.to_thread(upgrade, url)


@functools.cache
def head_revision() -> str:
    """The newest migration's id (the scripts are read once a process)."""
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None
    return head


async def current_revision(engine: AsyncEngine) -> str | None:
    """The revision the database is at, or None before any migration."""
    async with engine.connect() as conn:
        return await conn.run_sync(lambda sync: MigrationContext.configure(sync).get_current_revision())
