"""Prepared statements (storage/prepared.py): on SQLite's own cursor they give the rows, the conversions and
the errors SQLAlchemy gives for the same statement; elsewhere they go through SQLAlchemy."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.database import Store
from storage.prepared import Prepared, _asyncpg_inside_transaction, fetch, run
from storage.sqlite_inloop import is_busy
from storage.tables import channel_accounts, units
from tests.helpers.statements import counted

NOW = datetime(2026, 5, 1, 1, 0, tzinfo=UTC)

_ACCOUNT = Prepared(
    sa.select(
        channel_accounts.c.id,
        channel_accounts.c.reachable,
        channel_accounts.c.last_seen_at,
        channel_accounts.c.display_name,
    ).where(channel_accounts.c.user_id.in_(sa.bindparam("user_ids", expanding=True)))
)
_UNREACHABLE = Prepared(
    channel_accounts.update()
    .where(channel_accounts.c.user_id == sa.bindparam("who"))
    .values(reachable=False, last_seen_at=sa.bindparam("at", type_=channel_accounts.c.last_seen_at.type))
)
_UNITS = Prepared(sa.select(units.c.id).where(units.c.id.in_(sa.bindparam("ids", expanding=True))))
_RENAME_UNIT = Prepared(
    units.update().where(units.c.id == sa.bindparam("unit")).values(code=sa.bindparam("new_code"))
)


async def _accounts(store: Store, count: int) -> None:
    async with store.begin() as repos:
        for number in range(count):
            await repos.accounts.touch(
                "telegram", str(number), str(number), f"Người {number}", NOW + timedelta(minutes=number)
            )


async def test_rows_and_conversions_are_sqlalchemys(store: Store) -> None:
    await _accounts(store, 3)
    key = {"user_ids": ["0", "2"]}
    async with store.begin() as repos:
        quick = await fetch(repos.conn, _ACCOUNT, key)
    async with counted(store) as statements, store.begin() as repos:  # listened to: through SQLAlchemy
        through = await fetch(repos.conn, _ACCOUNT, key)
    assert len(statements) == 1
    assert sorted(quick) == sorted(through)
    assert {row[3] for row in quick} == {"Người 0", "Người 2"}
    for _id, reachable, last_seen, _name in quick:
        assert reachable is True  # a bool, not SQLite's 1
        assert isinstance(last_seen, datetime) and last_seen.tzinfo is not None  # UTCDateTime's conversion


async def test_an_update_writes_with_its_converted_parameters(store: Store) -> None:
    await _accounts(store, 2)
    later = NOW + timedelta(days=2)
    async with store.begin() as repos:
        await run(repos.conn, _UNREACHABLE, {"who": "1", "at": later})
    async with store.begin() as repos:
        rows = await fetch(repos.conn, _ACCOUNT, {"user_ids": ["0", "1"]})
    assert {row[1] for row in rows} == {True, False}
    assert max(row[2] for row in rows) == later


async def test_the_drivers_errors_come_as_sqlalchemys(store: Store) -> None:
    async with store.begin() as repos:
        first, second = (await repos.conn.execute(sa.select(units.c.id, units.c.code).limit(2))).all()
    with pytest.raises(IntegrityError):
        async with store.begin() as repos:  # two units with one code: the unique index refuses
            await run(repos.conn, _RENAME_UNIT, {"unit": second.id, "new_code": first.code})
    async with store.begin() as repos:
        assert await fetch(
            repos.conn, Prepared(sa.select(units.c.code).where(units.c.id == second.id)), {}
        ) == [(second.code,)]


@pytest.mark.sqlite_only("SQLite's write lock")
async def test_a_refused_write_lock_is_busy_for_the_caller(store: Store, db_url: str) -> None:
    await _accounts(store, 1)
    holder = sqlite3.connect(db_url.split(":///", 1)[1], isolation_level=None)
    try:
        async with store.begin(deferred=True) as repos:
            await fetch(repos.conn, _ACCOUNT, {"user_ids": ["0"]})  # reading first: the snapshot is taken
            holder.execute("BEGIN IMMEDIATE")
            holder.execute("UPDATE channel_accounts SET display_name = 'khác'")
            holder.execute("COMMIT")
            with pytest.raises(OperationalError) as refused:
                await run(repos.conn, _UNREACHABLE, {"who": "0", "at": NOW})
            assert is_busy(refused.value)
            raise _Undo
    except _Undo:
        pass
    finally:
        holder.close()


class _Undo(Exception):
    """Leaves a transaction that cannot commit."""


_ONE_ACCOUNT = Prepared(
    sa.select(
        channel_accounts.c.id,
        channel_accounts.c.reachable,
        channel_accounts.c.last_seen_at,
        channel_accounts.c.display_name,
    ).where(channel_accounts.c.user_id == sa.bindparam("who"))
)


@pytest.mark.postgres_only("asyncpg's own connection")
async def test_inside_a_transaction_asyncpg_gives_what_sqlalchemy_gives(store: Store) -> None:
    await _accounts(store, 2)
    later = NOW + timedelta(days=3)
    async with store.begin() as repos:
        conn = repos.conn
        assert isinstance(conn, AsyncConnection)
        assert _asyncpg_inside_transaction(conn, _ONE_ACCOUNT) is not None  # begun on asyncpg at once
        await run(conn, _UNREACHABLE, {"who": "1", "at": later})
        quick = await fetch(conn, _ONE_ACCOUNT, {"who": "1"})
        through = [tuple(row) for row in await conn.execute(_ONE_ACCOUNT.statement, {"who": "1"})]
    assert quick == through
    assert quick[0][1] is False and quick[0][2] == later and quick[0][3] == "Người 1"
    async with store.begin() as repos:  # committed with the transaction, not on its own
        assert (await fetch(repos.conn, _ONE_ACCOUNT, {"who": "1"}))[0][2] == later
    with pytest.raises(_Undo):
        async with store.begin() as repos:
            await repos.conn.execute(sa.select(1))
            await run(repos.conn, _UNREACHABLE, {"who": "0", "at": later})
            raise _Undo
    async with store.begin() as repos:  # rolled back with the transaction
        assert (await fetch(repos.conn, _ONE_ACCOUNT, {"who": "0"}))[0][1] is True


@pytest.mark.postgres_only("asyncpg's type lookups")
async def test_a_list_needs_no_lookup_of_its_type_on_a_new_connection(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _accounts(store, 3)
    looked_up: list[object] = []
    lookup = asyncpg.Connection._introspect_types

    async def counted_lookup(self: asyncpg.Connection, *args: Any) -> Any:
        looked_up.append(args[0])  # the types asked about: a round trip and a query for the server
        return await lookup(self, *args)

    monkeypatch.setattr(asyncpg.Connection, "_introspect_types", counted_lookup)
    mine = Store(store.url)  # new connections, which know only asyncpg's own types
    try:
        async with mine.begin() as repos:
            rows = await fetch(repos.conn, _ACCOUNT, {"user_ids": ["0", "2"]})
            units_found = await fetch(repos.conn, _UNITS, {"ids": [1, 2, 999]})
    finally:
        await mine.close()
    assert sorted(row[3] for row in rows) == ["Người 0", "Người 2"]
    assert sorted(row[0] for row in units_found) == [1, 2]
    assert looked_up == []
