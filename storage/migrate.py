"""Applies the Alembic migrations to a database URL (``thidua db upgrade``, and at start for SQLite).

Alembic's environment runs its own event loop, so from async code call ``upgrade_async`` (a worker thread).
Alembic is never imported by the running bot: loaded, it adds 11 MB to the resident memory, so the check at
start (``current_revision`` against ``head_revision``) reads the version table and the migration scripts' own
``revision``/``down_revision`` lines directly, and a SQLite file that needs migrating is migrated in a child
process (``upgrade_apart``).
"""

from __future__ import annotations

import asyncio
import functools
import os
import re
import socket
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.sqlite_inloop import is_busy

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
_REVISION_LINE = re.compile(r'^(revision|down_revision)\s*(?::[^=]*)?=\s*"?([\w]+)"?', re.MULTILINE)


def alembic_config(url: str) -> Config:
    """An Alembic configuration for this project's migrations on ``url``, with no ini file."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database up to ``revision`` (the newest by default)."""
    from alembic import command

    command.upgrade(alembic_config(url), revision)


async def upgrade_async(url: str) -> None:
    """``upgrade`` from inside a running event loop."""
    await asyncio.to_thread(upgrade, url)


class MigrationFailed(Exception):
    """The migrations' child process did not finish (its own error went to the log, as it happened)."""


async def upgrade_apart(url: str) -> None:
    """``upgrade`` in a child process of its own, so this process never loads Alembic: the bot's first start,
    which migrates its new SQLite file, then runs as lean as a restart (Alembic kept 11 MB resident). The
    child is ``python -m storage.migrate`` with this process's import path; the URL goes on its standard
    input, never on a command line where a password would show. Where there is no interpreter to start (an
    embedded Python), in this process."""
    if not sys.executable:
        await upgrade_async(url)
        return
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "storage.migrate",
        stdin=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(path for path in sys.path if path)},
    )
    await child.communicate(url.encode())
    if child.returncode != 0:
        raise MigrationFailed(f"the migrations' process exited with code {child.returncode}")


@functools.cache
def _revisions() -> tuple[frozenset[str], str]:
    """Every migration's id, and the newest one: the one no other migration names as its ``down_revision``."""
    revisions, parents = set(), set()
    for script in (MIGRATIONS / "versions").glob("*.py"):
        fields = dict(_REVISION_LINE.findall(script.read_text(encoding="utf-8")))
        revisions.add(fields["revision"])
        parents.add(fields.get("down_revision", "None"))
    (head,) = revisions - parents
    return frozenset(revisions), str(head)


def head_revision() -> str:
    """The newest migration's id."""
    return _revisions()[1]


class SchemaTooNew(Exception):
    """The database was migrated by a newer version of the code than this one: nothing here can bring it
    back, and running on it would misread its tables."""


def refuse_unknown(current: str | None) -> None:
    """``SchemaTooNew`` when ``current`` is a revision none of this code's migrations has."""
    if current is not None and current not in _revisions()[0]:
        raise SchemaTooNew(
            f"the database is at revision {current}, which this version of thidua does not know (its newest"
            f" is {head_revision()}): a newer version upgraded it, so run that version or a later one"
        )


class DatabaseUnavailable(Exception):
    """The database could not be opened, or refused a command's work: where (a SQLite file's full path, or
    the server's URL with its password hidden) and why, in one line."""

    def __init__(self, where: str, reason: str) -> None:
        super().__init__(f"{where}: {reason}")
        self.where = where
        self.reason = reason

    @classmethod
    def explained(cls, url: str | URL, error: BaseException) -> DatabaseUnavailable:
        """The driver's ``error`` on ``url``, in a few words an operator can act on."""
        url = make_url(url)
        return cls(_where(url), _why(error, sqlite=url.get_backend_name() == "sqlite"))


def _where(url: URL) -> str:
    if url.get_backend_name() == "sqlite":
        path = url.database or ":memory:"
        if url.query.get("uri") == "true":  # sqlite:///file:/var/lib/thidua.db?mode=ro&uri=true
            path = path.removeprefix("file:")
        return path if path == ":memory:" else os.path.abspath(path)
    return url.render_as_string(hide_password=True)


# What SQLite says, and what it means on an operator's machine.
_SQLITE_HINTS = {
    "unable to open database file": "does its folder exist, and may this user write there?",
    "attempt to write a readonly database": "may this user write the file and its folder?",
    "database is locked": "another program held its write lock too long: a sqlite3 shell in a transaction?",
}


def _why(error: BaseException, sqlite: bool) -> str:
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, socket.gaierror):
        return "unknown host"
    if isinstance(error, TimeoutError):
        return "no answer in time"
    if isinstance(error, DBAPIError):
        reason = str(error.orig).strip() or type(error.orig).__name__
        hint = _SQLITE_HINTS.get(reason) if sqlite else None
        return f"{reason} ({hint})" if hint else reason
    return getattr(error, "strerror", None) or str(error)


async def current_revision(engine: AsyncEngine) -> str | None:
    """The revision the database is at, or None before any migration; the first contact with the database,
    so ``DatabaseUnavailable`` when it cannot be opened (no server, a wrong password, not a database file)."""
    try:
        async with engine.connect() as conn:
            has_version = await conn.run_sync(lambda sync: sa.inspect(sync).has_table("alembic_version"))
            if not has_version:
                return None
            return (await conn.execute(sa.text("SELECT version_num FROM alembic_version"))).scalar()
    except (DBAPIError, OSError, TimeoutError) as error:
        if is_busy(error):
            raise  # opened, but another program holds the write lock: not a reason to say it cannot open
        raise DatabaseUnavailable.explained(engine.url, error) from error


if __name__ == "__main__":  # upgrade_apart's child: the URL on standard input
    upgrade(sys.stdin.read())
