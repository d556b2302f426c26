"""Tests of the Telegram Bot API sandbox, driven by python-telegram-bot's own Bot and by plain aiohttp.

They check that the sandbox answers like Telegram: the JSON shapes, long polling, buttons, files and errors.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

import aiohttp
import pytest
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, InvalidToken, RetryAfter
from telegram.ext import Application, CommandHandler, ContextTypes
from telegram.request import HTTPXRequest

from bot.sandbox import SandboxUser, TelegramSandbox

ALICE_PHONE = "+84901234567"
# httpx builds a TLS context per client (~50 ms); the sandbox is plain HTTP, so one shared context will do.
SHARED_TLS_CONTEXT = ssl.create_default_context()


@pytest.fixture
async def sandbox() -> AsyncIterator[TelegramSandbox]:
    sandbox = TelegramSandbox()
    await sandbox.start()
    yield sandbox
    await sandbox.stop()


@pytest.fixture
async def bot(sandbox: TelegramSandbox) -> AsyncIterator[Bot]:
    async with make_bot(sandbox) as bot:
        yield bot


@pytest.fixture
def alice(sandbox: TelegramSandbox) -> SandboxUser:
    return sandbox.user(1001, "Lan", "Nguyễn", phone=ALICE_PHONE, username="lan_nguyen")


def make_bot(sandbox: TelegramSandbox, token: str | None = None) -> Bot:
    """A python-telegram-bot Bot that talks to the sandbox."""
    return Bot(
        token or sandbox.token,
        base_url=f"{sandbox.api_url}/bot",
        base_file_url=f"{sandbox.api_url}/file/bot",
        request=HTTPXRequest(httpx_kwargs={"verify": SHARED_TLS_CONTEXT}),
        get_updates_request=HTTPXRequest(httpx_kwargs={"verify": SHARED_TLS_CONTEXT}),
    )


async def receive(bot: Bot) -> Update:
    """Fetch the one pending update and confirm it, as a polling bot would."""
    updates = await bot.get_updates(timeout=1)
    assert len(updates) == 1, updates
    await bot.get_updates(offset=updates[0].update_id + 1)
    return updates[0]


async def until(condition: Callable[[], bool], seconds: float = 2.0) -> None:
    """Yield to the event loop until `condition` holds (bounded)."""
    async with asyncio.timeout(seconds):
        while not condition():  # noqa: ASYNC110 - the condition reads the sandbox's call log; no event exists
            await asyncio.sleep(0)


async def raw_call(sandbox: TelegramSandbox, method: str, **kwargs: Any) -> tuple[int, dict[str, Any]]:
    """Call the sandbox over plain HTTP; kwargs go to aiohttp (json=, params=, data=)."""
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{sandbox.api_url}/bot{sandbox.token}/{method}", **kwargs) as response,
    ):
        return response.status, await response.json()


# ---------------------------------------------------------------- updates


async def test_get_me_describes_the_bot(bot: Bot, sandbox: TelegramSandbox) -> None:
    me = await bot.get_me()
    assert me.is_bot
    assert me.username == "thidua_bot"
    assert me.id == int(sandbox.token.split(":")[0])


async def test_user_text_arrives_and_offset_confirms_it(bot: Bot, alice: SandboxUser) -> None:
    update_id = await alice.send("Xin chào")
    updates = await bot.get_updates()
    assert [update.update_id for update in updates] == [update_id]
    message = updates[0].message
    assert message is not None
    assert message.text == "Xin chào"
    assert message.chat.type == "private"
    assert message.chat.id == alice.chat_id
    assert message.from_user is not None
    assert (message.from_user.first_name, message.from_user.last_name) == ("Lan", "Nguyễn")
    assert message.from_user.language_code == "vi"
    assert await bot.get_updates() == updates
    assert await bot.get_updates(offset=update_id + 1) == ()


async def test_long_poll_returns_as_soon_as_a_message_arrives(
    bot: Bot, sandbox: TelegramSandbox, alice: SandboxUser
) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await until(lambda: any(method == "getUpdates" for method, _ in sandbox.calls))
    started = asyncio.get_running_loop().time()
    await alice.send("ping")
    updates = await asyncio.wait_for(poll, 2)
    assert asyncio.get_running_loop().time() - started < 1
    assert updates[0].message is not None
    assert updates[0].message.text == "ping"


async def test_stop_ends_a_pending_long_poll(bot: Bot, sandbox: TelegramSandbox) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=10))
    await until(lambda: any(method == "getUpdates" for method, _ in sandbox.calls))
    await asyncio.wait_for(sandbox.stop(), 2)
    assert await asyncio.wait_for(poll, 1) == ()


async def test_a_second_poll_terminates_the_first_with_conflict(bot: Bot, sandbox: TelegramSandbox) -> None:
    status, body = await raw_call(sandbox, "getUpdates", json={"timeout": 0})
    assert (status, body) == (200, {"ok": True, "result": []})
    first = asyncio.create_task(raw_call(sandbox, "getUpdates", json={"timeout": 5}))
    await until(lambda: len(sandbox.calls) == 2)
    await bot.get_updates(timeout=0)
    status, body = await asyncio.wait_for(first, 1)
    assert status == 409
    assert body["description"].startswith("Conflict: terminated by other getUpdates request")


@pytest.mark.parametrize(
    ("text", "command"),
    [("/start", "/start"), ("/start ma-moi-42", "/start"), ("/diem@thidua_bot 5", "/diem@thidua_bot")],
)
async def test_commands_get_a_bot_command_entity(
    bot: Bot, alice: SandboxUser, text: str, command: str
) -> None:
    await alice.send(text)
    message = (await receive(bot)).message
    assert message is not None
    assert list(message.parse_entities(["bot_command"]).values()) == [command]


async def test_plain_text_has_no_entities(bot: Bot, alice: SandboxUser) -> None:
    await alice.send("điểm: 5/10")
    message = (await receive(bot)).message
    assert message is not None
    assert message.entities == ()


async def test_group_photo_sticker_and_edit_updates_parse(bot: Bot, alice: SandboxUser) -> None:
    await alice.send_in_group("/bangxephang@thidua_bot", group_id=-100777)
    group_message = (await receive(bot)).message
    assert group_message is not None
    assert (group_message.chat.type, group_message.chat.id) == ("supergroup", -100777)
    assert group_message.chat.title

    await alice.send_photo(b"\xff\xd8jpeg")
    photo_message = (await receive(bot)).message
    assert photo_message is not None
    photo_file = await photo_message.photo[-1].get_file()
    assert bytes(await photo_file.download_as_bytearray()) == b"\xff\xd8jpeg"

    await alice.send_sticker()
    sticker_message = (await receive(bot)).message
    assert sticker_message is not None
    assert sticker_message.sticker is not None
    assert sticker_message.sticker.type == "regular"

    await alice.send("Tôi đạt 8 điểm")
    original = (await receive(bot)).message
    await alice.edit_last_message("Tôi đạt 9 điểm")
    edited = (await receive(bot)).edited_message
    assert original is not None
    assert edited is not None
    assert (edited.message_id, edited.text) == (original.message_id, "Tôi đạt 9 điểm")
    assert edited.edit_date is not None


# ---------------------------------------------------------------- buttons


async def test_pressing_an_inline_button_sends_a_callback_query(bot: Bot, alice: SandboxUser) -> None:
    keyboard = InlineKeyboardMarkup(
        [
            [InlineKeyboardButton("Đồng ý", callback_data="vote:yes")],
            [InlineKeyboardButton("Đồng ý một phần", callback_data="vote:partly")],
            [InlineKeyboardButton("Điều lệ", url="https://example.org/dieu-le")],
        ]
    )
    sent = await bot.send_message(
        alice.chat_id, "Bạn <b>đồng ý</b>?", parse_mode=ParseMode.HTML, reply_markup=keyboard
    )
    assert sent.reply_markup == keyboard
    assert alice.last().inline_keyboard[0] == [{"text": "Đồng ý", "callback_data": "vote:yes"}]

    await alice.press("Đồng ý")
    query = (await receive(bot)).callback_query
    assert query is not None
    assert query.data == "vote:yes"
    assert query.from_user.id == alice.user_id
    assert isinstance(query.message, Message)
    assert query.message.message_id == sent.message_id
    assert query.message.text_html == "Bạn <b>đồng ý</b>?"
    assert query.message.from_user is not None
    assert query.message.from_user.is_bot
    assert await query.answer("Đã ghi nhận")
    with pytest.raises(BadRequest, match=r"(?i)query is too old and response timeout expired"):
        await query.answer()

    await alice.press("một phần")
    assert ((await receive(bot)).callback_query or pytest.fail("no query")).data == "vote:partly"
    with pytest.raises(ValueError, match="sends no update"):
        await alice.press("Điều lệ")
    with pytest.raises(LookupError, match="Đồng ý một phần"):
        await alice.press("Từ chối")


async def test_press_in_reaches_buttons_of_an_older_message(bot: Bot, alice: SandboxUser) -> None:
    await bot.send_message(
        alice.chat_id,
        "Cũ",
        reply_markup=InlineKeyboardMarkup.from_button(InlineKeyboardButton("Chọn", callback_data="old")),
    )
    older = alice.last()
    await bot.send_message(
        alice.chat_id,
        "Mới",
        reply_markup=InlineKeyboardMarkup.from_button(InlineKeyboardButton("Chọn", callback_data="new")),
    )
    await alice.press_in(older, "Chọn")
    assert ((await receive(bot)).callback_query or pytest.fail("no query")).data == "old"
    await alice.press("Chọn")
    assert ((await receive(bot)).callback_query or pytest.fail("no query")).data == "new"


async def test_request_contact_button_shares_the_users_own_phone(bot: Bot, alice: SandboxUser) -> None:
    keyboard = ReplyKeyboardMarkup(
        [[KeyboardButton("📱 Gửi số điện thoại", request_contact=True)], ["Để sau"]], one_time_keyboard=True
    )
    await bot.send_message(alice.chat_id, "Vui lòng xác minh số điện thoại", reply_markup=keyboard)
    assert alice.last().reply_keyboard == [
        [{"text": "📱 Gửi số điện thoại", "request_contact": True}],
        [{"text": "Để sau"}],
    ]
    await alice.press("Gửi số")
    message = (await receive(bot)).message
    assert message is not None
    assert message.contact is not None
    assert (message.contact.phone_number, message.contact.user_id) == (ALICE_PHONE, alice.user_id)

    await alice.press("Để sau")
    assert ((await receive(bot)).message or pytest.fail("no message")).text == "Để sau"

    await bot.send_message(alice.chat_id, "Cảm ơn", reply_markup=ReplyKeyboardRemove())
    assert alice.last().remove_keyboard
    with pytest.raises(LookupError):
        await alice.press("Để sau")


async def test_sharing_someone_elses_contact(bot: Bot, sandbox: TelegramSandbox, alice: SandboxUser) -> None:
    bob = sandbox.user(1002, "Bình", phone="+84907654321")
    await alice.share_contact(contact_user_id=bob.user_id)
    contact = ((await receive(bot)).message or pytest.fail("no message")).contact
    assert contact is not None
    assert (contact.phone_number, contact.user_id, contact.first_name) == ("+84907654321", 1002, "Bình")


# ---------------------------------------------------------------- files


async def test_sent_document_is_stored_and_downloadable(
    bot: Bot, sandbox: TelegramSandbox, alice: SandboxUser
) -> None:
    sent = await bot.send_document(
        alice.chat_id,
        b"ten,diem\nLan,9\n",
        filename="bao-cao.csv",
        caption="<b>Báo cáo</b>",
        parse_mode="HTML",
    )
    stored = alice.last()
    assert (stored.kind, stored.file_name, stored.file_bytes) == (
        "document",
        "bao-cao.csv",
        b"ten,diem\nLan,9\n",
    )
    assert (stored.mime_type, stored.plain_text, stored.text) == ("text/csv", "Báo cáo", "<b>Báo cáo</b>")
    assert sent.document is not None
    assert sent.caption == "Báo cáo"
    downloaded = await (await bot.get_file(sent.document.file_id)).download_as_bytearray()
    assert bytes(downloaded) == b"ten,diem\nLan,9\n"

    await bot.send_document(alice.chat_id, b"raw")
    assert (alice.last().file_name, alice.last().mime_type) == (
        "application.octet-stream",
        "application/octet-stream",
    )
    await bot.send_photo(alice.chat_id, b"\x89PNG", caption="Ảnh")
    assert (alice.last().kind, alice.last().file_bytes, alice.last().plain_text) == (
        "photo",
        b"\x89PNG",
        "Ảnh",
    )
    assert [message.kind for message in sandbox.messages(alice.chat_id)] == ["document", "document", "photo"]


async def test_users_document_can_be_downloaded_by_the_bot(bot: Bot, alice: SandboxUser) -> None:
    content = b"PK\x03\x04 danh sach"
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    await alice.send_document("danh-sach.xlsx", content, xlsx)
    document = ((await receive(bot)).message or pytest.fail("no message")).document
    assert document is not None
    assert (document.file_name, document.mime_type, document.file_size) == (
        "danh-sach.xlsx",
        xlsx,
        len(content),
    )
    file = await document.get_file()
    assert file.file_path is not None
    assert file.file_path.endswith(".xlsx")
    assert bytes(await file.download_as_bytearray()) == content


# ---------------------------------------------------------------- editing, deleting, commands


async def test_edits_update_the_message_in_place(bot: Bot, alice: SandboxUser) -> None:
    keyboard = InlineKeyboardMarkup.from_button(InlineKeyboardButton("Tiếp", callback_data="next"))
    sent = await bot.send_message(alice.chat_id, "Bước 1", reply_markup=keyboard)
    edited = await bot.edit_message_text("Bước <i>2</i>", alice.chat_id, sent.message_id, parse_mode="HTML")
    assert not isinstance(edited, bool)
    assert edited.text == "Bước 2"
    assert edited.reply_markup is None
    assert (alice.last().plain_text, alice.last().edits, alice.last().inline_keyboard) == ("Bước 2", 1, [])
    await bot.edit_message_reply_markup(alice.chat_id, sent.message_id, reply_markup=keyboard)
    assert (alice.last().edits, len(alice.messages())) == (2, 1)
    assert await bot.delete_message(alice.chat_id, sent.message_id)
    assert alice.messages() == []
    with pytest.raises(BadRequest, match="Message to delete not found"):
        await bot.delete_message(alice.chat_id, sent.message_id)


async def test_bot_commands_are_kept_per_scope_and_language(bot: Bot, sandbox: TelegramSandbox) -> None:
    await bot.set_my_commands([BotCommand("start", "Bắt đầu")])
    await bot.set_my_commands(
        [BotCommand("diem", "Xem điểm")], scope=BotCommandScopeChat(123), language_code="vi"
    )
    assert sandbox.commands == {
        ("default", ""): [{"command": "start", "description": "Bắt đầu"}],
        ("chat:123", "vi"): [{"command": "diem", "description": "Xem điểm"}],
    }
    commands = await bot.get_my_commands(scope=BotCommandScopeChat(123), language_code="vi")
    assert [command.command for command in commands] == ["diem"]
    assert await bot.delete_my_commands(scope=BotCommandScopeChat(123), language_code="vi")
    assert list(sandbox.commands) == [("default", "")]
    with pytest.raises(BadRequest, match="Bot_command_invalid"):
        await bot.set_my_commands([BotCommand("Start", "Bắt đầu")])


async def test_chat_action_and_webhook_housekeeping(bot: Bot, alice: SandboxUser) -> None:
    assert await bot.send_chat_action(alice.chat_id, "typing")
    assert await bot.set_webhook("https://example.org/hook")
    assert (await bot.get_webhook_info()).url == "https://example.org/hook"
    assert await bot.delete_webhook(drop_pending_updates=True)
    assert (await bot.get_webhook_info()).url == ""


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("text", "parse_mode", "error"),
    [
        ("   ", None, "Message text is empty"),
        ("<b></b>", "HTML", "Message text is empty"),
        ("a" * 4097, None, "Message is too long"),
        ("😀" * 2049, None, "Message is too long"),
        ("<b>x</b>" * 1000 + "y" * 3000, "HTML", None),
        ("a < b", "HTML", 'Can\'t parse entities: unsupported start tag "" at byte offset 2'),
        ("Tổ <foo>x</foo>", "HTML", 'Can\'t parse entities: unsupported start tag "foo" at byte offset 5'),
        ("<b>x", "HTML", "Can't parse entities: can't find end tag corresponding to start tag \"b\""),
        ("<b>x</i>", "HTML", "Can't parse entities: unmatched end tag at byte offset 4"),
        ("<span>x</span>", "HTML", 'Can\'t parse entities: tag "span" must have class "tg-spoiler"'),
        ("1<2", "HTML", "Can't parse entities: unclosed start tag at byte offset 1"),
        ("a < b &nbsp; <foo>", None, None),
        ("<b>Đạt</b> &lt;3 &amp; <a href='https://x.org'>xem</a> <tg-spoiler>?</tg-spoiler>", "HTML", None),
    ],
)
async def test_message_text_is_validated_like_telegram(
    bot: Bot, alice: SandboxUser, text: str, parse_mode: str | None, error: str | None
) -> None:
    if error is None:
        await bot.send_message(alice.chat_id, text, parse_mode=parse_mode)
        return
    with pytest.raises(BadRequest) as raised:
        await bot.send_message(alice.chat_id, text, parse_mode=parse_mode)
    assert raised.value.message.startswith(error)


async def test_html_is_stored_raw_and_plain(bot: Bot, alice: SandboxUser) -> None:
    sent = await bot.send_message(alice.chat_id, "  <b>Đạt</b> &lt;3 &#65;  ", parse_mode="HTML")
    assert sent.text == "Đạt <3 A"
    assert sent.text_html == "<b>Đạt</b> &lt;3 A"
    assert (alice.last().text, alice.last().plain_text) == ("  <b>Đạt</b> &lt;3 &#65;  ", "Đạt <3 A")


async def test_caption_limit(bot: Bot, alice: SandboxUser) -> None:
    with pytest.raises(BadRequest, match="Message caption is too long"):
        await bot.send_document(alice.chat_id, b"x", filename="x.txt", caption="c" * 1025)
    await bot.send_document(alice.chat_id, b"x", filename="x.txt", caption="c" * 1024)


@pytest.mark.parametrize(
    ("button", "error"),
    [
        (InlineKeyboardButton("Quá dài", callback_data="x" * 65), "Button_data_invalid"),
        (InlineKeyboardButton("Quá dài", callback_data="đ" * 33), "Button_data_invalid"),
        (InlineKeyboardButton("Trống", callback_data=""), "Button_data_invalid"),
        (InlineKeyboardButton("Chỉ chữ"), "Can't parse inline keyboard button: text buttons are unallowed"),
    ],
)
async def test_invalid_inline_buttons_are_rejected(
    bot: Bot, alice: SandboxUser, button: InlineKeyboardButton, error: str
) -> None:
    with pytest.raises(BadRequest) as raised:
        await bot.send_message(alice.chat_id, "x", reply_markup=InlineKeyboardMarkup([[button]]))
    assert raised.value.message.startswith(error)
    await bot.send_message(
        alice.chat_id,
        "x",
        reply_markup=InlineKeyboardMarkup.from_button(InlineKeyboardButton("Vừa đủ", callback_data="đ" * 32)),
    )


async def test_blocked_and_unknown_chats(bot: Bot, sandbox: TelegramSandbox, alice: SandboxUser) -> None:
    sent = await bot.send_message(alice.chat_id, "trước")
    sandbox.block(alice.user_id)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(alice.chat_id, "x")
    with pytest.raises(Forbidden):
        await bot.edit_message_text("y", alice.chat_id, sent.message_id)
    sandbox.unblock(alice.user_id)
    await bot.send_message(alice.chat_id, "sau")
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_message(424242, "x")


async def test_edit_errors(bot: Bot, alice: SandboxUser) -> None:
    sent = await bot.send_message(alice.chat_id, "<b>Giữ</b> nguyên", parse_mode="HTML")
    with pytest.raises(BadRequest, match="Message is not modified: specified new message content"):
        await bot.edit_message_text("<b>Giữ</b> nguyên", alice.chat_id, sent.message_id, parse_mode="HTML")
    await bot.edit_message_text("Giữ nguyên", alice.chat_id, sent.message_id)
    with pytest.raises(BadRequest, match="Message to edit not found"):
        await bot.edit_message_text("z", alice.chat_id, 9999)


async def test_injected_flood_control(bot: Bot, sandbox: TelegramSandbox, alice: SandboxUser) -> None:
    sandbox.fail_next("sendMessage", retry_after=7, times=2)
    for _ in range(2):
        with pytest.raises(RetryAfter) as raised:
            await bot.send_message(alice.chat_id, "x")
        assert raised.value.retry_after == timedelta(seconds=7)  # PTB_TIMEDELTA is on, as the CLI sets it
    await bot.send_message(alice.chat_id, "x")
    status, body = await raw_call(sandbox, "getMe")
    assert status == 200
    sandbox.fail_next("getMe", retry_after=3)
    status, body = await raw_call(sandbox, "getMe")
    assert (status, body) == (
        429,
        {
            "ok": False,
            "error_code": 429,
            "description": "Too Many Requests: retry after 3",
            "parameters": {"retry_after": 3},
        },
    )


async def test_wrong_token_is_unauthorized(sandbox: TelegramSandbox) -> None:
    with pytest.raises(InvalidToken, match="was rejected by the server"):
        async with make_bot(sandbox, token="999:WRONG"):
            pass


# ---------------------------------------------------------------- plain HTTP


async def test_json_query_and_error_bodies(sandbox: TelegramSandbox, alice: SandboxUser) -> None:
    markup = {"inline_keyboard": [[{"text": "OK", "callback_data": "ok"}]]}
    status, body = await raw_call(
        sandbox, "sendMessage", json={"chat_id": alice.chat_id, "text": "hi", "reply_markup": markup}
    )
    assert status == 200
    assert body["result"]["reply_markup"] == markup
    assert body["result"]["from"]["is_bot"] is True
    status, body = await raw_call(
        sandbox, "sendMessage", params={"chat_id": str(alice.chat_id), "text": "qua query"}
    )
    assert (status, body["result"]["text"]) == (200, "qua query")
    assert await raw_call(sandbox, "sendMessage", data={"chat_id": alice.chat_id, "text": ""}) == (
        400,
        {"ok": False, "error_code": 400, "description": "Bad Request: message text is empty"},
    )
    assert await raw_call(sandbox, "frobnicate") == (
        404,
        {"ok": False, "error_code": 404, "description": "Not Found: method not found"},
    )
    assert sandbox.calls[0] == (
        "sendMessage",
        {"chat_id": alice.chat_id, "text": "hi", "reply_markup": markup},
    )
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{sandbox.api_url}/bot{sandbox.token}/getMe") as response:
            assert (await response.json())["result"]["username"] == "thidua_bot"
        async with session.get(f"{sandbox.api_url}/botWRONG/getMe") as response:
            assert (response.status, await response.json()) == (
                401,
                {"ok": False, "error_code": 401, "description": "Unauthorized"},
            )
        async with session.get(f"{sandbox.api_url}/file/bot{sandbox.token}/documents/none.pdf") as response:
            assert response.status == 404


# ---------------------------------------------------------------- the real Application


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
