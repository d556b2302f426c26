"""Buttons nobody drew: a payload carrying any data, as a forger, a garbling client or an old message would
send it: on Telegram a callback query on the person's newest bot message, in process a button event."""

from __future__ import annotations

import pytest

from bot.channels.memory import Sent
from bot.sandbox import SentMessage, TelegramSandbox
from bot.sandbox.telegram import JsonDict
from tests.helpers.chat import Chat
from tests.helpers.memory_chat import MemoryChat
from tests.helpers.zalo_chat import ZaloChat


async def press_data(person: Chat, sandbox: TelegramSandbox, data: str) -> list[SentMessage]:
    """Press a button carrying ``data``; returns what the bot sent, or the pressed message if edited."""
    user = person.user
    message = sandbox.chat(user.chat_id).newest_bot_message(lambda _: True)
    assert message is not None, "the bot has sent this person nothing to press a button on"
    query: JsonDict = {
        "id": sandbox.open_callback_query(),
        "from": user.user_json(),
        "chat_instance": str(user.chat_id),
        "data": data,
        "message": sandbox.message_json(message),
    }

    async def inject() -> int:
        return sandbox.inject("callback_query", query)

    edits = message.edits
    sent = await person.act(inject())
    return sent or ([message] if message.edits > edits else [])  # an answer may edit the pressed message


async def forge(person: Chat | MemoryChat | ZaloChat, data: str) -> list[SentMessage] | list[Sent]:
    """Press a button carrying ``data`` on whatever channel the person talks through; on Zalo, which
    carries no button payloads (only typed text), there is nothing to forge and the test is skipped."""
    if isinstance(person, ZaloChat):
        pytest.skip("Zalo carries no button payloads: a forged button cannot reach the bot there")
    if isinstance(person, MemoryChat):
        return await person.press_payload(data)
    return await press_data(person, person.user.sandbox, data)
