"""The bot on Zalo in webhook mode: it registers /zalo/webhook with its secret, the Zalo sandbox POSTs each
update there with ``X-Bot-Api-Secret-Token`` (in order, again until 2xx), and a conversation is answered as
when polled. Tests post to the server themselves too: right, wrong and missing secrets, both update shapes,
one chat's order kept while the webhook answers at once. (The shared webhook checks are in test_web.py.)
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
import pytest
import sqlalchemy as sa

from bot.app import Runtime
from bot.engine.clock import ManualClock
from bot.engine.config import load_settings
from bot.sandbox.zalo import ZaloSandbox
from messages import plain, text
from storage.database import Store
from storage.tables import channel_accounts
from tests.helpers.ports import free_port
from tests.helpers.roster import MAI, STRANGER
from tests.helpers.zalo_chat import ZaloChat, link_in_database
from tests.test_web import SECRET, url
from tests.test_zalo_channel import until

pytestmark = pytest.mark.sandbox

HEADER = "X-Bot-Api-Secret-Token"
PATH = "/zalo/webhook"


@asynccontextmanager
async def zalo_service(db_url: str, zalo_sandbox: ZaloSandbox, clock: ManualClock) -> AsyncIterator[Runtime]:
    """The real bot with only Zalo, as ``thidua run`` starts it with THIDUA_WEBHOOK_URL."""
    port = free_port()
    settings = load_settings(
        _env_file=None,
        database_url=db_url,
        zalo_token=zalo_sandbox.token,
        zalo_api_url=zalo_sandbox.api_url,
        webhook_url=f"http://127.0.0.1:{port}",
        webhook_secret=SECRET,
        listen=f"127.0.0.1:{port}",
    )
    runtime = Runtime(settings, clock, poll_timeout=1)
    await runtime.start()
    try:
        yield runtime
    finally:
        await runtime.stop()


@pytest.fixture
async def service(
    store: Store, db_url: str, zalo_sandbox: ZaloSandbox, clock: ManualClock
) -> AsyncIterator[Runtime]:
    """The bot on Zalo in webhook mode, on the test roster."""
    async with zalo_service(db_url, zalo_sandbox, clock) as runtime:
        yield runtime


def zalo_update(sandbox: ZaloSandbox, message_id: str, command: str = "/start") -> dict[str, object]:
    """A private text from Nam, a person the sandbox knows and the bot has never seen."""
    sandbox.user("z1999", "Nam")
    return {
        "event_name": "message.text.received",
        "message": {
            "message_id": message_id,
            "from": {"id": "z1999", "display_name": "Nam", "is_bot": False},
            "chat": {"id": "z1999", "chat_type": "PRIVATE"},
            "date": 1772413200000,
            "text": command,
        },
    }


async def accounts(store: Store) -> int:
    """How many channel accounts the bot has stored."""
    async with store.begin() as repos:
        count = sa.select(sa.func.count()).select_from(channel_accounts)
        return int((await repos.conn.execute(count)).scalar() or 0)


async def test_the_bot_registers_its_webhook_and_answers_a_conversation_zalo_posts(
    service: Runtime, zalo_sandbox: ZaloSandbox, store: Store, http: aiohttp.ClientSession
) -> None:
    assert zalo_sandbox.webhook == (url(service, PATH), SECRET)
    mai = ZaloChat(zalo_sandbox, lambda: service, *MAI)
    await link_in_database(store, mai, "DV001", service.clock.now())
    await mai.send("/start")
    zalo_sandbox.wrap_next(1)  # Zalo sometimes wraps an update as {ok, result}: the same answer
    await mai.send("/huongdan")
    assert "/help (/huongdan)" in mai.last_text
    await mai.send("/ngonngu")
    await mai.press("English")
    assert mai.last_text == plain(text("en", "language.set"))
    assert not any(method == "getupdates" for method, _ in zalo_sandbox.calls)  # no polling
    assert zalo_sandbox.webhook_answers and set(zalo_sandbox.webhook_answers) == {200}
    # getUpdates is refused while the webhook is set, as on Zalo.
    api = f"{zalo_sandbox.api_url}/bot{zalo_sandbox.token}/getUpdates"
    async with http.post(api, json={"timeout": "0"}) as answer:
        refused = await answer.json()
    assert refused["ok"] is False and refused["error_code"] == 400


async def test_a_missing_or_wrong_secret_is_refused_and_handles_nothing(
    service: Runtime, zalo_sandbox: ZaloSandbox, store: Store, http: aiohttp.ClientSession
) -> None:
    for headers in ({}, {HEADER: "wrong-secret-0123456789"}, {HEADER: SECRET.upper()}, {HEADER: ""}):
        update = zalo_update(zalo_sandbox, "zw1")
        async with http.post(url(service, PATH), json=update, headers=headers) as answer:
            assert answer.status == 403
    # Telegram's header does not open Zalo's door.
    telegram_header = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    async with http.post(
        url(service, PATH), json=zalo_update(zalo_sandbox, "zw1"), headers=telegram_header
    ) as a:
        assert a.status == 403
    assert await accounts(store) == 0 and zalo_sandbox.delivered == 0
    wrapped = {"ok": True, "result": zalo_update(zalo_sandbox, "zw2")}
    async with http.post(url(service, PATH), json=wrapped, headers={HEADER: SECRET}) as answer:
        assert answer.status == 200
    assert service.zalo is not None
    await service.zalo.wait_processed("zw2")
    assert await accounts(store) == 1
    [welcome] = zalo_sandbox.messages("z1999")
    assert "Xin chào" in welcome.text  # the newcomer's welcome, once


async def test_the_webhook_answers_at_once_and_one_chat_is_answered_in_order(
    service: Runtime, zalo_sandbox: ZaloSandbox, http: aiohttp.ClientSession
) -> None:
    commands = ["/start", "/huongdan", "/ngonngu"]
    async with service.router.in_order("zalo", "z1999"):  # Nam's chat is busy: every call still gets 200
        for number, command in enumerate(commands, start=1):
            update = zalo_update(zalo_sandbox, f"zo{number}", command)
            async with http.post(url(service, PATH), json=update, headers={HEADER: SECRET}) as answer:
                assert answer.status == 200
        assert zalo_sandbox.delivered == 0
    assert service.zalo is not None
    for number in range(1, len(commands) + 1):
        await service.zalo.wait_processed(f"zo{number}")
    replies = [message.text for message in zalo_sandbox.messages("z1999")]
    help_at = next(i for i, reply in enumerate(replies) if "/help (/huongdan)" in reply)
    language_at = next(i for i, reply in enumerate(replies) if plain(text("vi", "language.choose")) in reply)
    assert 0 < help_at < language_at


async def test_an_update_the_bot_does_not_take_is_posted_again_until_it_does(
    service: Runtime, zalo_sandbox: ZaloSandbox
) -> None:
    assert service.web is not None and service.zalo is not None
    await service.web.stop()  # the service is away for a moment: Zalo keeps the update and tries again
    nam = ZaloChat(zalo_sandbox, lambda: service, *STRANGER)
    sent = await nam.user.send_text("/start")
    await until(lambda: len(zalo_sandbox.webhook_answers) >= 2)
    assert set(zalo_sandbox.webhook_answers) == {0} and nam.messages == []
    await service.web.start()  # the same THIDUA_LISTEN address
    await service.zalo.wait_processed(sent)
    assert zalo_sandbox.webhook_answers[-1] == 200
    assert len(nam.messages) == 1 and "Xin chào" in nam.last_text


async def test_polling_again_deletes_the_zalo_webhook_and_answers(
    service: Runtime, zalo_sandbox: ZaloSandbox, clock: ManualClock
) -> None:
    assert zalo_sandbox.webhook is not None
    await service.stop()
    settings = service.settings.model_copy(update={"webhook_url": None, "webhook_secret": None})
    polling = Runtime(settings, clock, poll_timeout=1)
    await polling.start()
    try:
        assert polling.web is None and zalo_sandbox.webhook is None
        nam = ZaloChat(zalo_sandbox, lambda: polling, *STRANGER)
        await nam.send("/start")
        assert "Xin chào" in nam.last_text
        assert any(method == "getupdates" for method, _ in zalo_sandbox.calls)
    finally:
        await polling.stop()


async def test_an_event_the_bot_does_not_know_and_a_repeated_call_are_taken_once_without_a_retry_loop(
    service: Runtime, zalo_sandbox: ZaloSandbox, store: Store, http: aiohttp.ClientSession
) -> None:
    # Zalo posts a call again until it gets a 2xx: a well-formed event the bot has no use for is taken (200)
    # and skipped, else Zalo would post it for ever; a call posted again is answered once.
    unknown = zalo_update(zalo_sandbox, "zw3")
    unknown["event_name"] = "message.reaction.received"
    async with http.post(url(service, PATH), json=unknown, headers={HEADER: SECRET}) as answer:
        assert answer.status == 200
    again = zalo_update(zalo_sandbox, "zw4")
    for _ in range(2):
        async with http.post(url(service, PATH), json=again, headers={HEADER: SECRET}) as answer:
            assert answer.status == 200
    assert service.zalo is not None
    await service.zalo.wait_processed("zw4")
    await service.outbox.wait_idle()
    [welcome] = zalo_sandbox.messages("z1999")
    assert "Xin chào" in welcome.text and await accounts(store) == 1
