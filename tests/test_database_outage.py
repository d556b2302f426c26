"""PostgreSQL away for a few seconds (a restart, a network cut) costs nobody an answer: an update that finds
it unreachable waits for it, its chat's turn held, and the outage is two log lines. Run with
``--db=postgres``."""

from __future__ import annotations

import asyncio
import logging

import pytest
from sqlalchemy.engine import make_url

from bot.app import Runtime
from bot.engine.clock import ManualClock
from bot.engine.config import Settings
from bot.sandbox import TelegramSandbox
from messages import text
from messages.catalog import plain
from storage.database import Store
from tests.helpers.chat import Chat
from tests.helpers.roster import MAI
from tests.helpers.tcp_proxy import TcpProxy

pytestmark = pytest.mark.postgres_only("a database server to take away")

WAIT = 10.0  # seconds: a bound on every wait, never reached when all is well


async def test_an_update_sent_while_the_database_is_away_is_answered_once_it_is_back(
    store: Store,
    settings: Settings,
    clock: ManualClock,
    sandbox: TelegramSandbox,
    caplog: pytest.LogCaptureFixture,
) -> None:
    server = make_url(store.url)
    assert server.host is not None and server.port is not None
    proxy = TcpProxy(server.host, server.port)
    await proxy.up()
    through_proxy = server.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    runtime = Runtime(settings.model_copy(update={"database_url": through_proxy}), clock, poll_timeout=1)
    await runtime.start()
    try:
        mai = Chat(sandbox.user(MAI[0], MAI[1]), lambda: runtime)
        assert "/help (/huongdan)" in (await mai.send("/huongdan"))[-1].plain_text
        caplog.set_level(logging.INFO)
        await proxy.down()
        answered = asyncio.create_task(mai.send("/huongdan"))
        for _ in range(int(WAIT / 0.02)):  # bounded: until the update has found the database away
            if "database: outage started" in caplog.text:
                break
            await asyncio.sleep(0.02)
        assert not answered.done()
        await proxy.up()
        replies = await answered
        assert [plain(text("vi", "fallback.error")) in reply.plain_text for reply in replies] == [False]
        assert "/help (/huongdan)" in replies[-1].plain_text
        assert "database: outage ended" in caplog.text
    finally:
        await runtime.stop()
        await proxy.down()
