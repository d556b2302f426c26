"""Where a benchmark's database lives: ``--db sqlite`` (the default) a file in the bench's folder, ``--db
postgres`` a database of its own on a throwaway PostgreSQL server, started as the tests start theirs
(tests/helpers/postgres.py: initdb and pg_ctl as an unprivileged user, on 127.0.0.1) and removed after, or
on the server at THIDUA_TEST_POSTGRES_URL when that is set. That server runs with fsync off and
synchronous_commit off (the tests' settings): commits cost what SQLite's do in WAL mode with
synchronous=NORMAL, not what a disk's flush costs.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from storage.migrate import upgrade_async
from tests.helpers.postgres import URL_VARIABLE, PostgresServer, create_database, drop_database

KINDS = ("sqlite", "postgres")


@asynccontextmanager
async def bench_database(kind: str, folder: Path, name: str) -> AsyncIterator[str]:
    """The URL of a migrated, empty database named ``name`` of this kind, for the length of the block."""
    if kind == "sqlite":
        yield f"sqlite:///{folder / name}.db"
        return
    given = os.environ.get(URL_VARIABLE)
    server = None if given else PostgresServer.start()
    server_url = given or (server.url if server else "")
    try:
        url = await create_database(server_url, f"bench_{name}")
        await upgrade_async(url)  # a server's database is migrated by `thidua db upgrade`, not at start
        yield url
        await drop_database(server_url, f"bench_{name}")
    finally:
        if server is not None:
            server.stop()
