"""The Zalo sandbox is as strict as Zalo: JSON POSTs, one update per poll, 408 when idle, 2,000 characters,
no markup, dates in milliseconds, webhooks that shut getUpdates out; and the client names each failure
without ever carrying the token."""

from __future__ import annotations

import asyncio
import signal
import socket
import sys
import time
import traceback
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from bot.channels.zalo.channel import classify
from bot.channels.zalo.client import (
    AnswerTimedOut,
    ConnectionDropped,
    NotSent,
    ZaloApiError,
    ZaloClient,
    ZaloError,
)
from bot.engine.outbox import Outcome
from bot.sandbox.zalo import ZaloSandbox

pytestmark = pytest.mark.sandbox


@pytest.fixture
async def client(zalo_sandbox: ZaloSandbox) -> AsyncIterator[ZaloClient]:
    """The bot's own client, pointed at the sandbox, with a short read timeout."""
    opened = ZaloClient(zalo_sandbox.token, zalo_sandbox.api_url, read_timeout=1.0)
    await opened.open()
    yield opened
    await opened.close()


async def raw_post(
    sandbox: ZaloSandbox, method: str, body: object, token: str | None = None
) -> tuple[int, Any]:
    """A POST as any HTTP client would make it; the status and the parsed answer."""
    url = f"{sandbox.api_url}/bot{token or sandbox.token}/{method}"
    async with aiohttp.ClientSession() as session, session.post(url, json=body) as response:
        return response.status, await response.json()


async def test_get_updates_hands_out_one_update_per_call_and_408_when_idle(
    zalo_sandbox: ZaloSandbox, client: ZaloClient
) -> None:
    mai = zalo_sandbox.user("u1", "Mai")
    before = int(time.time() * 1000)
    first, second = await mai.send_text("một"), await mai.send_text("hai")
    update = await client.call("getUpdates", {"timeout": "1"}, wait=1)
    assert update["event_name"] == "message.text.received"
    message = update["message"]
    assert (message["message_id"], message["text"]) == (first, "một")  # one update, not a list
    assert message["from"] == {"id": "u1", "display_name": "Mai", "is_bot": False}
    assert message["chat"] == {"id": "u1", "chat_type": "PRIVATE"}
    assert before <= message["date"] <= int(time.time() * 1000)  # milliseconds, not seconds
    assert (await client.call("getUpdates", {"timeout": "1"}, wait=1))["message"]["message_id"] == second
    with pytest.raises(ZaloApiError) as idle:
        await client.call("getUpdates", {"timeout": "0"})
    assert idle.value.error_code == 408
    status, answer = await raw_post(zalo_sandbox, "getUpdates", {"timeout": 1})  # a number, not a string
    assert status == 400 and answer["ok"] is False and "string" in answer["description"]


async def test_a_long_poll_waits_for_the_next_update(zalo_sandbox: ZaloSandbox, client: ZaloClient) -> None:
    mai = zalo_sandbox.user("u1", "Mai")
    poll = asyncio.create_task(client.call("getUpdates", {"timeout": "5"}, wait=5))
    await asyncio.sleep(0)
    sent = await mai.send_text("đây")
    update = await asyncio.wait_for(poll, 5)
    assert update["message"]["message_id"] == sent


async def test_texts_are_plain_and_at_most_2000_characters(
    zalo_sandbox: ZaloSandbox, client: ZaloClient
) -> None:
    mai = zalo_sandbox.user("u1", "Mai")
    sent = await client.call("sendMessage", {"chat_id": "u1", "text": "<b>đậm</b> &amp; " + "x" * 1983})
    assert set(sent) == {"message_id", "date"} and sent["date"] > 10**12
    assert mai.last().text.startswith("<b>đậm</b> &amp; ")  # no markup: the tags arrive as written
    assert len(mai.last().text) == 2000
    with pytest.raises(ZaloApiError) as refused:
        await client.call("sendMessage", {"chat_id": "u1", "text": "x" * 2001})
    assert refused.value.error_code == 400 and "2000" in refused.value.description
    assert len(mai.messages()) == 1
    with pytest.raises(ZaloApiError) as unknown:
        await client.call("sendMessage", {"chat_id": "nobody", "text": "xin chào"})
    assert unknown.value.error_code == 404


async def test_photos_stickers_and_chat_actions(zalo_sandbox: ZaloSandbox, client: ZaloClient) -> None:
    mai = zalo_sandbox.user("u1", "Mai")
    await client.call(
        "sendPhoto", {"chat_id": "u1", "photo": "https://bot.example/chart.png", "caption": "Biểu đồ"}
    )
    assert (mai.last().kind, mai.last().photo_url, mai.last().text) == (
        "photo",
        "https://bot.example/chart.png",
        "Biểu đồ",
    )
    with pytest.raises(ZaloApiError):
        await client.call("sendPhoto", {"chat_id": "u1", "photo": "chart.png"})  # a URL, never an upload
    await client.call("sendSticker", {"chat_id": "u1", "sticker": "abc"})
    assert mai.last().kind == "sticker"
    assert await client.call("sendChatAction", {"chat_id": "u1", "action": "typing"}) is True
    with pytest.raises(ZaloApiError):
        await client.call("sendChatAction", {"chat_id": "u1", "action": "dancing"})


async def test_a_webhook_shuts_get_updates_out_until_deleted(
    zalo_sandbox: ZaloSandbox, client: ZaloClient
) -> None:
    for secret in ("short", "s" * 257):
        with pytest.raises(ZaloApiError) as refused:
            await client.call("setWebhook", {"url": "https://bot.example/zalo", "secret_token": secret})
        assert "8 to 256" in refused.value.description
    with pytest.raises(ZaloApiError):
        await client.call("setWebhook", {"url": "http://bot.example/zalo", "secret_token": "s" * 8})
    await client.call("setWebhook", {"url": "https://bot.example/zalo", "secret_token": "s" * 8})
    assert (await client.call("getWebhookInfo"))["url"] == "https://bot.example/zalo"
    with pytest.raises(ZaloApiError) as refused:
        await client.call("getUpdates", {"timeout": "0"})
    assert refused.value.error_code == 400 and "webhook" in refused.value.description
    await client.call("deleteWebhook")
    assert (await client.call("getWebhookInfo"))["url"] == ""
    with pytest.raises(ZaloApiError) as idle:
        await client.call("getUpdates", {"timeout": "0"})
    assert idle.value.error_code == 408


async def test_requests_must_be_json_posts_with_the_right_token(zalo_sandbox: ZaloSandbox) -> None:
    status, answer = await raw_post(zalo_sandbox, "getMe", {}, token="1:WRONG")
    assert (status, answer["ok"], answer["error_code"]) == (401, False, 401)
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{zalo_sandbox.api_url}/bot{zalo_sandbox.token}/getMe") as response:
            assert response.status == 405
        async with session.post(
            f"{zalo_sandbox.api_url}/bot{zalo_sandbox.token}/getMe", data="a=1"
        ) as response:
            assert response.status == 400
    status, answer = await raw_post(zalo_sandbox, "getMe", {})
    assert status == 200 and answer["ok"] is True and answer["result"]["id"]


async def test_updates_can_come_wrapped_and_raw(zalo_sandbox: ZaloSandbox, client: ZaloClient) -> None:
    mai = zalo_sandbox.user("u1", "Mai")
    zalo_sandbox.wrap_next(1)
    await mai.send_text("bọc")
    zalo_sandbox.inject_raw(["rác"])
    wrapped = await client.call("getUpdates", {"timeout": "0"})
    assert wrapped["ok"] is True and wrapped["result"]["message"]["text"] == "bọc"
    assert await client.call("getUpdates", {"timeout": "0"}) == ["rác"]


def _never_the_token(error: BaseException, token: str) -> None:
    written = "".join(traceback.format_exception(error))
    assert token not in written and token.split(":", 1)[1] not in written


async def test_each_failure_is_named_for_what_may_have_been_sent_and_never_holds_the_token(
    zalo_sandbox: ZaloSandbox, client: ZaloClient
) -> None:
    zalo_sandbox.user("u1", "Mai")
    token = zalo_sandbox.token
    sending = {"chat_id": "u1", "text": "tin"}
    expected: list[tuple[str, dict[str, Any], type[ZaloError], Outcome]] = [
        ("429", {}, ZaloApiError, Outcome.RETRY),
        ("5xx", {"status": 503}, ZaloApiError, Outcome.RETRY),
        ("403", {}, ZaloApiError, Outcome.UNREACHABLE),
        ("404", {}, ZaloApiError, Outcome.UNREACHABLE),
        ("slow", {"delay": 2.0}, AnswerTimedOut, Outcome.UNCERTAIN),
        ("drop", {"delivered": True}, ConnectionDropped, Outcome.UNCERTAIN),
    ]
    for kind, options, error_type, outcome in expected:
        zalo_sandbox.add_fault(kind, times=1, **options)  # type: ignore[arg-type]
        with pytest.raises(error_type) as failed:
            await client.call("sendMessage", sending)
        assert classify(failed.value).outcome is outcome, kind
        _never_the_token(failed.value, token)
    with pytest.raises(ZaloApiError) as too_long:
        await client.call("sendMessage", {"chat_id": "u1", "text": "x" * 2001})
    assert classify(too_long.value).outcome is Outcome.FAILED
    await zalo_sandbox.go_down()
    with pytest.raises(NotSent) as refused:
        await client.call("sendMessage", sending)
    assert refused.value.reason == "connection refused"
    assert classify(refused.value).outcome is Outcome.RETRY
    _never_the_token(refused.value, token)
    await zalo_sandbox.go_up()
    await client.call("sendMessage", sending)


async def test_a_closed_port_is_said_without_the_token() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = ZaloClient("7:SECRET-ZALO", f"http://127.0.0.1:{port}")
    await client.open()
    try:
        with pytest.raises(NotSent) as refused:
            await client.call("getMe")
    finally:
        await client.close()
    assert str(refused.value) == "getMe: connection refused"
    _never_the_token(refused.value, "7:SECRET-ZALO")


async def test_python_m_bot_sandbox_serves_zalo_with_users() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.sandbox", "--zalo", "--users", "7000:2", stdout=asyncio.subprocess.PIPE
    )
    try:
        assert process.stdout is not None
        ready, api_url, token = (await asyncio.wait_for(process.stdout.readline(), 60)).decode().split()
        assert ready == "READY"
        client = ZaloClient(token, api_url)
        await client.open()
        try:
            sent = await client.call("sendMessage", {"chat_id": "7001", "text": "xin chào"})
        finally:
            await client.close()
        assert sent["message_id"]
    finally:
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), 30)
    assert process.returncode == 0
