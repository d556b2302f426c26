"""The databases tests run on: SQLite files by default, PostgreSQL databases with ``--db=postgres``.

Each is new: empty, or a copy of a template database made once (a file copy, or PostgreSQL's
``CREATE DATABASE … TEMPLATE``), named by the pytest-xdist worker so workers never share one.
"""

from __future__ import annotations

import itertools
import os
import shutil
from pathlib import Path

from sqlalchemy.engine import make_url

from tests.helpers.postgres import create_database
from tests.helpers.postgres import drop_database as drop_postgres_database

_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")
_numbers = itertools.count()


def sqlite_url(path: Path) -> str:
    """The database URL of the SQLite file at ``path``."""
    return f"sqlite+aiosqlite:///{path}"


async def new_database(postgres_url: str | None, folder: Path, template: str | None = None) -> str:
    """A new database, empty or a copy of the database at ``template`` (whose connections are all closed):
    a SQLite file in ``folder``, or a database of its own on the PostgreSQL server at ``postgres_url``."""
    if postgres_url is None:
        path = folder / f"thidua-{next(_numbers)}.db"
        if template is not None:
            shutil.copyfile(make_url(template).database or "", path)
        return sqlite_url(path)
    name = f"thidua_{_WORKER}_{os.getpid()}_{next(_numbers)}"
    return await create_database(postgres_url, name, make_url(template).database if template else None)


async def drop_database(postgres_url: str | None, url: str) -> None:
    """Drop a database ``new_database`` made on PostgreSQL (a SQLite file goes with its folder)."""
    if postgres_url is not None:
        await drop_postgres_database(postgres_url, str(make_url(url).database))
