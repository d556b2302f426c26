"""Tests of AiohttpRequest: python-telegram-bot's Bot and Application driven through it against the sandbox.

Also a tiny stalling server for timeouts and a closed port for connection errors.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from datetime import timedelta
from urllib.parse import parse_qs, urlencode

import pytest
from aiohttp import web
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.ext import Application, CommandHandler, ContextTypes
from telegram.request import RequestData
from telegram.request._requestparameter import RequestParameter

from bot.channels.telegram.aiohttp_request import AiohttpRequest, form_encoded, html5_filename
from bot.sandbox import SandboxUser, TelegramSandbox


def make_bot(token: str, api_url: str) -> Bot:
    """A Bot whose both transports are AiohttpRequest."""
    return Bot(
        token,
        base_url=f"{api_url}/bot",
        base_file_url=f"{api_url}/file/bot",
        request=AiohttpRequest(),
        get_updates_request=AiohttpRequest(),
    )


@pytest.fixture
async def bot(sandbox: TelegramSandbox) -> AsyncIterator[Bot]:
    async with make_bot(sandbox.token, sandbox.api_url) as bot:
        yield bot


@pytest.fixture
def alice(sandbox: TelegramSandbox) -> SandboxUser:
    return sandbox.user(1001, "Lan", "Nguyễn")


@pytest.fixture
async def stalling_server() -> AsyncIterator[tuple[str, asyncio.Event]]:
    """A Bot API stand-in that answers getMe at once and holds every other call until released."""
    release = asyncio.Event()

    async def handle(request: web.Request) -> web.Response:
        if request.match_info["method"] != "getMe":
            async with asyncio.timeout(5):
                await release.wait()
        return web.json_response({"ok": True, "result": {"id": 1, "is_bot": True, "first_name": "Stall"}})

    app = web.Application()
    app.router.add_route("*", "/bot{token}/{method}", handle)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    yield f"http://{host}:{port}", release
    release.set()
    await runner.cleanup()


async def test_get_me(bot: Bot, sandbox: TelegramSandbox) -> None:
    me = await bot.get_me()
    assert (me.id, me.username, me.is_bot) == (int(sandbox.token.split(":")[0]), "thidua_bot", True)


async def test_html_message_with_inline_keyboard_arrives(bot: Bot, alice: SandboxUser) -> None:
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Đồng ý", callback_data="vote:yes")]])
    sent = await bot.send_message(
        alice.chat_id, "Bạn <b>đồng ý</b> &amp; ký?", parse_mode=ParseMode.HTML, reply_markup=keyboard
    )
    assert (sent.text, sent.reply_markup) == ("Bạn đồng ý & ký?", keyboard)
    [stored] = alice.messages()
    assert (stored.text, stored.plain_text) == ("Bạn <b>đồng ý</b> &amp; ký?", "Bạn đồng ý & ký?")
    assert stored.inline_keyboard == [[{"text": "Đồng ý", "callback_data": "vote:yes"}]]


async def test_document_and_photo_go_as_multipart(
    bot: Bot, sandbox: TelegramSandbox, alice: SandboxUser
) -> None:
    content = b"ten,diem\nLan,9\n\x00\xff"
    sent = await bot.send_document(
        alice.chat_id, content, filename="báo cáo.csv", caption="<i>Quý 1</i>", parse_mode="HTML"
    )
    stored = alice.last()
    assert (stored.kind, stored.file_name, stored.file_bytes, stored.mime_type, stored.plain_text) == (
        "document",
        "báo cáo.csv",
        content,
        "text/csv",
        "Quý 1",
    )
    assert sent.document is not None
    downloaded = await (await bot.get_file(sent.document.file_id)).download_as_bytearray()
    assert bytes(downloaded) == content

    await bot.send_photo(alice.chat_id, b"\x89PNG\r\n", caption="Ảnh")
    assert (alice.last().kind, alice.last().file_bytes, alice.last().plain_text) == (
        "photo",
        b"\x89PNG\r\n",
        "Ảnh",
    )
    assert [message.kind for message in sandbox.messages(alice.chat_id)] == ["document", "photo"]


def test_form_bodies_read_back_as_urlencode_writes_them() -> None:
    tricky = "Đăng ký 100% + thêm & bớt = ?#;/, \"ngoặc\" 'đơn'\n<b>đậm</b> — 🎉"
    parameters = {"chat_id": "-1001", "text": tricky, "reply_markup": '{"inline_keyboard": [[]]}', "e": ""}
    body = form_encoded(parameters).decode()
    assert parse_qs(body, keep_blank_values=True) == parse_qs(urlencode(parameters), keep_blank_values=True)


def test_file_names_are_written_like_httpx() -> None:
    assert html5_filename('báo "cáo"\r\n.csv') == "báo %22cáo%22%0D%0A.csv"
    assert html5_filename("a\\b.txt") == "a\\b.txt"  # aiohttp escapes the backslash itself, as httpx does


async def test_long_poll_returns_a_users_message(
    bot: Bot, sandbox: TelegramSandbox, alice: SandboxUser
) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    async with asyncio.timeout(2):
        while not any(method == "getUpdates" for method, _ in sandbox.calls):  # noqa: ASYNC110 - no event
            await asyncio.sleep(0)
    update_id = await alice.send("Xin chào")
    updates = await asyncio.wait_for(poll, 2)
    assert [update.update_id for update in updates] == [update_id]
    assert updates[0].message is not None
    assert updates[0].message.text == "Xin chào"


async def test_api_errors_surface_as_ptb_exceptions(
    bot: Bot, sandbox: TelegramSandbox, alice: SandboxUser
) -> None:
    with pytest.raises(BadRequest, match="Message is too long"):
        await bot.send_message(alice.chat_id, "a" * 4097)
    sandbox.fail_next("sendMessage", retry_after=7)
    with pytest.raises(RetryAfter) as raised:
        await bot.send_message(alice.chat_id, "x")
    assert raised.value.retry_after == timedelta(seconds=7)  # conftest sets PTB_TIMEDELTA, as the CLI does
    sandbox.block(alice.user_id)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(alice.chat_id, "x")


async def test_a_post_whose_answer_nobody_reads_arrives_and_fails_as_post_does(
    sandbox: TelegramSandbox, alice: SandboxUser
) -> None:
    # A reply's sendMessage skips parsing Telegram's answer (issue 13), never the errors in it.
    request = AiohttpRequest()
    await request.initialize()
    url = f"{sandbox.api_url}/bot{sandbox.token}/sendMessage"

    def message(text: str) -> RequestData:
        return RequestData(
            [RequestParameter("chat_id", str(alice.chat_id), None), RequestParameter("text", text, None)]
        )

    try:
        assert await request.post_unread(url, message("Chào Lan")) is None
        assert [m.text for m in sandbox.messages(alice.chat_id)] == ["Chào Lan"]
        with pytest.raises(BadRequest, match="Message is too long"):
            await request.post_unread(url, message("a" * 4097))
        sandbox.fail_next("sendMessage", retry_after=7)
        with pytest.raises(RetryAfter):
            await request.post_unread(url, message("x"))
        sandbox.block(alice.user_id)
        with pytest.raises(Forbidden, match="bot was blocked by the user"):
            await request.post_unread(url, message("x"))
    finally:
        await request.shutdown()
    assert [m.text for m in sandbox.messages(alice.chat_id)] == ["Chào Lan"]  # nothing else went out


async def test_a_closed_port_is_a_network_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    bot = make_bot("123:SECRET", f"http://127.0.0.1:{port}")
    with pytest.raises(NetworkError) as raised:
        async with bot:
            pass
    assert not isinstance(raised.value, TimedOut)
    assert f"Cannot connect to host 127.0.0.1:{port}" in raised.value.message
    assert "SECRET" not in raised.value.message


async def test_read_timeouts_become_timed_out(stalling_server: tuple[str, asyncio.Event]) -> None:
    url, _ = stalling_server
    async with make_bot("123:SECRET", url) as bot:
        loop = asyncio.get_running_loop()
        started = loop.time()
        with pytest.raises(TimedOut, match=r"Timed out waiting 0\.2s"):
            await bot.get_updates(timeout=0, read_timeout=0.2)  # a per-call override of the 5 s default
        assert loop.time() - started < 1
    request = AiohttpRequest(read_timeout=0.2)  # the instance default applies when the caller passes none
    async with request:
        with pytest.raises(TimedOut):
            await request.post(f"{url}/bot123:SECRET/sendMessage", RequestData())


async def test_requests_need_initialize_and_shutdown_is_idempotent() -> None:
    request = AiohttpRequest(connection_pool_size=4)
    assert (request.connection_pool_size, request.read_timeout, request.http_version) == (4, 5.0, "1.1")
    with pytest.raises(RuntimeError, match="not initialized"):
        await request.do_request("http://127.0.0.1:9/", "GET")
    await request.shutdown()
    await request.initialize()
    await request.initialize()
    await request.shutdown()
    await request.shutdown()
    with pytest.raises(ValueError, match="connection_pool_size"):
        AiohttpRequest(connection_pool_size=0)


async def test_a_polling_application_answers_a_command(sandbox: TelegramSandbox, alice: SandboxUser) -> None:
    answered = asyncio.Event()

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text(f"Chào {context.args}")
        answered.set()

    application = (
        Application.builder()
        .token(sandbox.token)
        .base_url(f"{sandbox.api_url}/bot")
        .base_file_url(f"{sandbox.api_url}/file/bot")
        .request(AiohttpRequest())
        .get_updates_request(AiohttpRequest())
        .build()
    )
    application.add_handler(CommandHandler("start", start))
    async with application:
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling()
        await alice.send("/start ma-42")
        await asyncio.wait_for(answered.wait(), 3)
        await application.updater.stop()
        await application.stop()
    assert alice.last().plain_text == "Chào ['ma-42']"
