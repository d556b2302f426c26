"""On PostgreSQL an update is first answered outside a transaction, the chat's lock taken with its first read
(``Repos.opening``): it still waits for the chat's write in flight on another connection and reads what that
wrote; the first write of such an update is stopped before anything is written, and the update is answered
again inside a transaction, once. Run with ``--db=postgres``."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from bot.engine.clock import ManualClock
from messages import plain, text
from storage.database import Store, WriteNeeded
from storage.prepared import Prepared, run
from storage.records import DialogState
from storage.tables import channel_accounts, dialog_states, generations
from tests.helpers.campaigns import campaign_running
from tests.helpers.chat import Chat
from tests.helpers.flows import linked
from tests.helpers.postgres import WAITING, until_one_waits_on_a_chat
from tests.helpers.roster import MAI, STRANGER
from tests.helpers.statements import counted

pytestmark = pytest.mark.postgres_only("the chat's lock taken by the first read, outside a transaction")

WAIT = 10.0  # seconds: a bound on every wait, never reached when all is well
DRAFT = DialogState("register", "titles", {"campaign": 7}, [], datetime(2026, 5, 1, tzinfo=UTC))
LOCKED_OPENING = "thidua_opening"


async def test_a_read_only_update_waits_for_the_chats_write_in_flight_and_then_sees_it(store: Store) -> None:
    writer_store, reader_store = store, Store(store.url)  # two instances' connections
    holding, release = asyncio.Event(), asyncio.Event()

    async def write() -> None:
        async with writer_store.begin(hold="telegram:42") as repos:
            await repos.dialogs.save("telegram", "42", DRAFT)
            holding.set()
            await release.wait()

    async def read() -> DialogState | None:
        async with reader_store.begin(deferred=True, hold="telegram:42") as repos:
            opening = await repos.opening("telegram", "42")
            # Outside a transaction: the lock was the opening's only, and is given back already.
            assert (await repos.conn.execute(WAITING)).scalar_one() == 0
            return opening.dialog

    try:
        async with asyncio.timeout(WAIT):
            writer = asyncio.create_task(write())
            await asyncio.wait(
                [writer, asyncio.create_task(holding.wait())], return_when=asyncio.FIRST_COMPLETED
            )
            assert holding.is_set(), writer.exception()
            reader = asyncio.create_task(read())
            await until_one_waits_on_a_chat(store.engine)  # the reader, on the chat's lock
            assert not reader.done()
            release.set()
            await writer
            seen = await reader
    finally:
        await reader_store.close()
    assert seen == DRAFT


async def test_a_write_outside_a_transaction_is_stopped_before_anything_is_written(store: Store) -> None:
    account = {"channel": "telegram", "user_id": "77", "chat_id": "77", "display_name": "Nam"}
    now = datetime(2026, 5, 1, tzinfo=UTC)
    writes = {
        "a statement": lambda repos: repos.conn.execute(
            channel_accounts.insert().values(**account, created_at=now, reachable=True)
        ),
        "a prepared statement": lambda repos: run(
            repos.conn, Prepared(generations.update().values(value=generations.c.value + 1)), {}
        ),
        # Text SQL is not looked into: the server refuses it, the session being read-only.
        "text SQL": lambda repos: repos.conn.execute(
            sa.text("DELETE FROM dialog_states WHERE chat_id = '42'")
        ),
    }
    async with store.begin() as repos:
        await repos.dialogs.save("telegram", "42", DRAFT)
        before = (await repos.conn.execute(sa.select(generations.c.value))).all()
    for kind, write in writes.items():
        with pytest.raises(WriteNeeded):
            async with store.begin(deferred=True) as repos:
                await write(repos)
        async with store.begin() as repos:  # and the pool's connection writes again inside a transaction
            assert await repos.accounts.get("telegram", "77") is None, kind
            assert (await repos.conn.execute(sa.select(generations.c.value))).all() == before, kind
            assert await repos.dialogs.get("telegram", "42") == DRAFT, kind


async def test_a_read_only_unit_that_never_takes_the_chats_lock_is_refused(store: Store) -> None:
    with pytest.raises(RuntimeError, match="lock was never taken"):
        async with store.begin(deferred=True, hold="telegram:42") as repos:
            await repos.dialogs.get("telegram", "42")


async def test_an_update_that_turns_out_to_write_is_answered_once_in_a_transaction(
    chat: Callable[..., Chat], store: Store
) -> None:
    nam = chat(*STRANGER)  # first contact: his account is made
    async with counted(nam.runtime.store) as seen:
        replies = await nam.send("/start")
    assert len(replies) == 1 and len(nam.messages) == 1
    assert plain(text("vi", "onboarding.welcome")).split("\n")[1] in nam.last_text
    statements = [" ".join(statement.split()) for statement in seen.seen]
    assert sum(LOCKED_OPENING in statement for statement in statements) == 1  # the first attempt
    assert sum(statement.startswith("INSERT INTO channel_accounts") for statement in statements) == 1
    async with store.begin() as repos:
        made = await repos.conn.execute(
            sa.select(sa.func.count()).where(channel_accounts.c.user_id == str(STRANGER[0]))
        )
        assert made.scalar_one() == 1

    _, mai = await campaign_running(chat)
    before = len(mai.messages)
    async with counted(mai.runtime.store) as seen:
        await mai.send("/dangky LDG-2026")  # opens the registration's form: a write
    assert [plain(message.text) for message in mai.messages[before:]] == [
        plain(text("vi", "register.intro", title="Lao động giỏi, lao động sáng tạo 2026")),
        plain(text("vi", "register.ask_titles")),
    ]  # each once
    assert sum(LOCKED_OPENING in statement for statement in seen.seen) == 1
    async with store.begin() as repos:
        forms = await repos.conn.execute(
            sa.select(dialog_states.c.flow).where(dialog_states.c.chat_id == str(mai.user_id))
        )
        assert forms.scalars().all() == ["register"]


async def test_a_member_due_to_be_marked_seen_is_answered_in_a_transaction_at_once(
    chat: Callable[..., Chat], store: Store, clock: ManualClock
) -> None:
    mai = await linked(chat, MAI)
    await mai.send("/help")  # her identity kept, marked seen now
    async with counted(mai.runtime.store) as seen:
        await mai.send("/help")
    statements = [" ".join(statement.split()) for statement in seen.seen]  # the workers' too
    assert sum(LOCKED_OPENING in statement for statement in statements) == 1  # a read, as it began
    assert not any(statement.startswith("UPDATE channel_accounts") for statement in statements)

    clock.advance(timedelta(minutes=2))  # her last-seen minute has passed: this update writes
    async with counted(mai.runtime.store) as seen:
        await mai.send("/help")
    statements = [" ".join(statement.split()) for statement in seen.seen]
    assert not any(LOCKED_OPENING in statement for statement in statements)  # no attempt stopped
    assert sum(statement.startswith("UPDATE channel_accounts") for statement in statements) == 1
    assert "/campaigns" in mai.last_text
    async with store.begin() as repos:
        account = await repos.accounts.get("telegram", str(MAI[0]))
        marked = await repos.conn.execute(
            sa.select(channel_accounts.c.last_seen_at).where(channel_accounts.c.user_id == str(MAI[0]))
        )
    assert account is not None and marked.scalar_one() == clock.now()
