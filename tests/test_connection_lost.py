"""A lost connection to PostgreSQL (the server restarted, or ended the bot's sessions) costs nobody an answer:
the update that finds its connection gone runs again on a new one, and the pool's other lost connections
are replaced with it. Run with ``--db=postgres``."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from messages import text
from messages.catalog import plain
from storage.database import ConnectionLost, Store
from storage.records import DialogState
from tests.helpers.chat import Chat
from tests.helpers.flows import linked
from tests.helpers.roster import MAI

pytestmark = pytest.mark.postgres_only("a server that ends the bot's connections")

APOLOGY = plain(text("vi", "fallback.error"))
WAIT = 10.0  # seconds: a bound on every wait, never reached when all is well
DRAFT = DialogState("register", "titles", {"campaign": 7}, [], datetime(2026, 5, 1, tzinfo=UTC))


async def _count_other_sessions(url: str, which: str) -> int:
    """How many sessions on the bot's database, this one aside, meet ``which`` (a FILTER condition)."""
    engine = create_async_engine(url, poolclass=sa.pool.NullPool)
    try:
        async with engine.connect() as conn:
            counted = await conn.execute(
                sa.text(
                    f"SELECT count(*) FILTER (WHERE {which}) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
            return int(counted.scalar_one())
    finally:
        await engine.dispose()


async def end_every_other_session(url: str) -> int:
    """End every other session on the bot's database, as a server restart does; how many were ended."""
    return await _count_other_sessions(url, "pg_terminate_backend(pid)")


async def other_sessions(url: str) -> int:
    """The sessions open on the bot's database, this one aside."""
    return await _count_other_sessions(url, "true")


async def test_members_are_answered_after_the_server_ends_the_bots_connections(
    chat: Callable[..., Chat], store: Store
) -> None:
    mai = await linked(chat, MAI)
    await mai.send("/campaigns")
    assert await end_every_other_session(store.url) >= 1  # the bot's pooled connections

    await mai.send("/help")
    assert APOLOGY not in mai.last_text
    assert "/campaigns" in mai.last_text  # the member's help, with its commands

    await mai.send("/cuatoi")  # and again, on the new connections
    assert mai.last_text == plain(text("vi", "my.none"))


async def test_a_transaction_whose_connection_is_ended_midway_raises_connection_lost_and_keeps_nothing(
    store: Store,
) -> None:
    with pytest.raises(ConnectionLost):
        async with store.begin(hold="telegram:1001") as repos:
            await repos.dialogs.save("telegram", "1001", DRAFT)
            await end_every_other_session(store.url)  # the server ends it while the transaction is open
            await repos.dialogs.get("telegram", "1001")
    async with store.begin(hold="telegram:1001") as repos:  # a new connection; the draft was not committed
        assert await repos.dialogs.get("telegram", "1001") is None
        await repos.dialogs.save("telegram", "1001", DRAFT)
    async with store.begin() as repos:
        saved = await repos.dialogs.get("telegram", "1001")
    assert saved is not None and saved.step == DRAFT.step


async def test_a_transaction_cancelled_midway_leaves_no_connection_behind_in_it(store: Store) -> None:
    mine = Store(store.url)  # a pool of its own, one connection so far
    try:
        started = asyncio.Event()

        async def slow() -> None:
            async with mine.begin(hold="telegram:1001") as repos:
                await repos.dialogs.save("telegram", "1001", DRAFT)
                started.set()
                await repos.conn.execute(sa.text("SELECT pg_sleep(60)"))

        task = asyncio.create_task(slow())
        async with asyncio.timeout(WAIT):
            await started.wait()
        await asyncio.sleep(0.1)  # inside pg_sleep
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        async with asyncio.timeout(WAIT), mine.begin(hold="telegram:1001") as repos:
            assert await repos.dialogs.get("telegram", "1001") is None  # rolled back, and the chat not held
    finally:
        await mine.close()


async def test_connections_are_kept_between_transactions_and_closed_with_the_store(store: Store) -> None:
    before = await other_sessions(store.url)
    mine = Store(store.url)
    try:
        both = asyncio.Barrier(2)

        async def reads(chat_id: str) -> int:
            async with mine.begin(hold=f"telegram:{chat_id}") as repos:
                await both.wait()  # the two transactions at once: two connections
                pid = await repos.conn.execute(sa.text("SELECT pg_backend_pid()"))
                return int(pid.scalar_one())

        async with asyncio.timeout(WAIT):
            first = set(await asyncio.gather(reads("1001"), reads("1002")))
            again = set(await asyncio.gather(reads("1001"), reads("1002")))
        assert len(first) == 2 and again == first  # the same two sessions, kept open in between
        assert await other_sessions(store.url) == before + 2
    finally:
        await mine.close()
    assert await other_sessions(store.url) == before
