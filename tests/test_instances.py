"""Several instances on one PostgreSQL database: `thidua run` twice in webhook mode behind one address.

Run with ``--db=postgres`` (skipped on SQLite, which serves one instance). The instances are real
processes; a round-robin proxy in the test stands for the load balancer in front of them, so consecutive
updates of one chat go to different instances.
"""

from __future__ import annotations

import asyncio
import itertools
import signal
from collections.abc import AsyncIterator
from contextlib import AbstractContextManager as ContextManager
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from subprocess import Popen

import aiohttp
import pytest
from aiohttp import web

from bot.engine.config import Settings
from bot.sandbox import SandboxUser, TelegramSandbox
from messages import text
from messages.catalog import plain
from storage.database import Store
from storage.records import DialogState
from tests.helpers.crowd import copies, crowd, queue_broadcast
from tests.helpers.ports import free_port
from tests.helpers.postgres import until_one_waits_on_a_chat
from tests.helpers.processes import bot_process
from tests.helpers.roster import MAI

pytestmark = pytest.mark.postgres_only("several instances share a PostgreSQL database")

SECRET = "instances-test-secret"
WAIT = 30.0  # seconds: a bound on every wait, never reached when all is well
NEWS = "Tin mới của công đoàn cho hai máy"


@asynccontextmanager
async def round_robin(ports: list[int]) -> AsyncIterator[str]:
    """A proxy handing each webhook call to the next instance in turn (the next one if that one is down),
    as a load balancer would; yields its address."""
    turn = itertools.cycle(range(len(ports)))

    async def forward(request: web.Request) -> web.Response:
        body = await request.read()
        headers = {name: value for name, value in request.headers.items() if name.lower().startswith("x-")}
        headers["Content-Type"] = request.content_type
        first = next(turn)
        for offset in range(len(ports)):
            port = ports[(first + offset) % len(ports)]
            try:
                async with session.post(
                    f"http://127.0.0.1:{port}{request.path}", data=body, headers=headers
                ) as answer:
                    return web.Response(status=answer.status, body=await answer.read())
            except aiohttp.ClientConnectionError:
                continue
        return web.Response(status=502)

    app = web.Application()
    app.router.add_post("/{path:.*}", forward)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    async with aiohttp.ClientSession() as session:
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            await runner.cleanup()


def instance(settings: Settings, public_url: str, port: int, workdir: Path) -> ContextManager[Popen[bytes]]:
    """``thidua run`` in webhook mode on ``port``, registered at ``public_url``; killed at the end."""
    return bot_process(
        settings,
        workdir,
        OUTBOX_CONCURRENCY="8",
        WEBHOOK_URL=public_url,
        WEBHOOK_SECRET=SECRET,
        LISTEN=f"127.0.0.1:{port}",
    )


async def until_up(port: int) -> None:
    """Wait for an instance's /healthz to answer."""
    async with aiohttp.ClientSession() as session, asyncio.timeout(WAIT):
        while True:
            try:
                async with session.get(f"http://127.0.0.1:{port}/healthz") as answer:
                    if answer.status == 200:
                        return
            except aiohttp.ClientConnectionError:
                pass
            await asyncio.sleep(0.1)


async def told(user: SandboxUser, said: str) -> None:
    """Wait until the bot has told the user something containing ``said``."""
    async with asyncio.timeout(WAIT):
        while not any(said in message.plain_text for message in user.messages()):
            await user.sandbox.wait_delivered(user.sandbox.delivered + 1)


async def test_a_chats_updates_wait_for_each_other_whichever_instance_takes_them(store: Store) -> None:
    first, second = store, Store(store.url)  # two instances' connections
    holding, release = asyncio.Event(), asyncio.Event()
    state = DialogState("register", "titles", {"campaign": 7}, [], datetime(2026, 5, 1, tzinfo=UTC))

    async def on_first() -> None:
        async with first.begin(hold="telegram:42") as repos:
            await repos.dialogs.save("telegram", "42", state)
            holding.set()
            await release.wait()

    async def on_second() -> DialogState | None:
        async with second.begin(hold="telegram:42") as repos:
            return await repos.dialogs.get("telegram", "42")

    async with asyncio.timeout(WAIT):
        writer = asyncio.create_task(on_first())
        await asyncio.wait([writer, asyncio.create_task(holding.wait())], return_when=asyncio.FIRST_COMPLETED)
        assert holding.is_set(), writer.exception()
        reader = asyncio.create_task(on_second())
        async with first.begin(hold="telegram:43") as repos:  # another chat is not held up
            assert await repos.dialogs.get("telegram", "43") is None
        await until_one_waits_on_a_chat(first.engine)  # the second instance's update, on the chat's lock
        assert not reader.done()
        release.set()
        await writer
        seen = await reader
    assert seen is not None and (seen.flow, seen.step, seen.data) == ("register", "titles", {"campaign": 7})
    await second.close()


async def test_two_instances_behind_one_address_share_the_dialog_and_survive_one_killed(
    store: Store, sandbox: TelegramSandbox, settings: Settings, tmp_path: Path
) -> None:
    ports = [free_port(), free_port()]
    async with round_robin(ports) as public_url:
        with (
            instance(settings, public_url, ports[0], tmp_path / "a") as first,
            instance(settings, public_url, ports[1], tmp_path / "b"),
        ):
            await until_up(ports[0])
            await until_up(ports[1])
            # A newcomer's /start goes to one instance, the shared contact to the other: the second finds
            # the first's dialog and identity in the database and links the account.
            mai = sandbox.user(MAI[0], MAI[1], MAI[2], phone=MAI[3])
            await mai.send("/start")
            async with asyncio.timeout(WAIT):
                await sandbox.wait_delivered(1)
            await mai.share_contact()
            await told(mai, plain(text("vi", "onboarding.linked")))
            async with store.begin() as repos:
                account = await repos.accounts.get("telegram", str(MAI[0]))
            assert account is not None and account.member_id is not None

            # A broadcast shared by both outboxes; one instance killed in the middle of it.
            users = await crowd(store, sandbox, 200, quiet_hours=False)
            await queue_broadcast(store, sandbox, NEWS)
            async with asyncio.timeout(60):
                await sandbox.wait_delivered(sandbox.delivered + 60)
                first.send_signal(signal.SIGKILL)
                while sum(min(copies(user, NEWS), 1) for user in users) < len(users):
                    await sandbox.wait_delivered(sandbox.delivered + 1)
    received = [copies(user, NEWS) for user in users]
    assert min(received) == 1, "somebody was skipped"
    assert sum(received) - len(users) <= 8, "more repeats than the killed instance's sends in flight"
