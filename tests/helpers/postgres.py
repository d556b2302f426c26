"""A throwaway PostgreSQL server for ``pytest --db=postgres``, and the databases each test gets on it.

The server is Debian's (``initdb`` and ``pg_ctl`` from ``/usr/lib/postgresql/*/bin``), started once a run
in a temporary folder on a free port of 127.0.0.1, with durability off (a test's data need not survive a
crash), and stopped at the end. PostgreSQL refuses to run as root, so as root it runs as the system user
``thidua-test`` (made when missing). ``THIDUA_TEST_POSTGRES_URL`` names an existing server instead.
"""

from __future__ import annotations

import asyncio
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.helpers.ports import free_port

URL_VARIABLE = "THIDUA_TEST_POSTGRES_URL"
USER = "thidua-test"
SUPERUSER = "thidua"
START_TIMEOUT_SECONDS = 60
# A test server only: nothing is written to disk for durability's sake, so each CREATE DATABASE is cheap.
FAST_SETTINGS = ("fsync=off", "synchronous_commit=off", "full_page_writes=off", "max_connections=200")


class NoServer(Exception):
    """No PostgreSQL server can be had here; the message says why."""


def _binary(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}")) or [
        path for path in [shutil.which(name)] if path
    ]
    if not found:
        raise NoServer(f"{name} not found (apt-get install postgresql, or set {URL_VARIABLE})")
    return found[-1]  # the newest major version


def _as_server_user() -> list[str]:
    """The command prefix that runs a program as an unprivileged user (none is needed unless root)."""
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam(USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", USER],
            check=True,
            capture_output=True,
        )
    return ["runuser", "-u", USER, "--"]


def _run(command: Sequence[str]) -> None:
    result = subprocess.run(command, capture_output=True, text=True, timeout=START_TIMEOUT_SECONDS)
    if result.returncode != 0:
        raise NoServer(f"{Path(command[0]).name} failed: {(result.stderr or result.stdout).strip()[-500:]}")


@dataclass
class PostgresServer:
    """A PostgreSQL server this run started in ``folder``; ``url`` reaches its ``postgres`` database."""

    folder: Path
    url: str

    @classmethod
    def start(cls) -> PostgresServer:
        """initdb into a new temporary folder and start the server there on a free port of 127.0.0.1."""
        initdb, pg_ctl = _binary("initdb"), _binary("pg_ctl")
        folder = Path(tempfile.mkdtemp(prefix="thidua-pg-"))
        data = folder / "data"
        port = free_port()
        try:
            prefix = _as_server_user()
            if prefix:
                shutil.chown(folder, USER)
            # No locale: text sorts by code point, as SQLite's does, whatever the machine's LANG.
            setup = ["-U", SUPERUSER, "--auth=trust", "-E", "UTF8", "--no-locale", "--no-sync"]
            _run([*prefix, initdb, "-D", str(data), *setup])
            options = " ".join(
                ["-c listen_addresses=127.0.0.1", f"-p {port}", f"-k {folder}"]
                + [f"-c {setting}" for setting in FAST_SETTINGS]
            )
            log = folder / "server.log"
            _run([*prefix, pg_ctl, "-D", str(data), "-l", str(log), "-o", options, "-w", "start"])
        except (NoServer, OSError, subprocess.SubprocessError) as error:
            shutil.rmtree(folder, ignore_errors=True)
            raise NoServer(f"cannot start PostgreSQL: {error}") from error
        return cls(folder, f"postgresql+asyncpg://{SUPERUSER}@127.0.0.1:{port}/postgres")

    def stop(self) -> None:
        """Stop the server at once and remove its folder."""
        pg_ctl = _binary("pg_ctl")
        subprocess.run(
            [*_as_server_user(), pg_ctl, "-D", str(self.folder / "data"), "-m", "immediate", "stop"],
            capture_output=True,
            timeout=START_TIMEOUT_SECONDS,
            check=False,
        )
        shutil.rmtree(self.folder, ignore_errors=True)


def database_url(server_url: str, name: str) -> str:
    """The URL of database ``name`` on the server that ``server_url`` reaches."""
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def asyncpg_dsn(url: str) -> str:
    """``url`` as asyncpg's own connect() takes it (no SQLAlchemy driver name)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def create_database(server_url: str, name: str, template: str | None = None) -> str:
    """A new database ``name`` (a copy of the database ``template`` when given), replacing any left over
    by an earlier run; returns its URL."""
    connection = await asyncpg.connect(asyncpg_dsn(server_url))
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        copy = f' TEMPLATE "{template}"' if template else ""
        await connection.execute(f'CREATE DATABASE "{name}"{copy}')
    finally:
        await connection.close()
    return database_url(server_url, name)


async def drop_database(server_url: str, name: str) -> None:
    """Drop database ``name``, closing whatever connections are still open to it."""
    connection = await asyncpg.connect(asyncpg_dsn(server_url))
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


WAITING = sa.text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")


async def until_one_waits_on_a_chat(engine: AsyncEngine, timeout: float = 30.0) -> None:
    """Return once one transaction waits for a chat's lock (an advisory lock not yet granted)."""
    async with asyncio.timeout(timeout):
        while True:
            async with engine.connect() as conn:
                if (await conn.execute(WAITING)).scalar_one() == 1:
                    return
            await asyncio.sleep(0.02)
