"""Log hygiene: every test ends by reading its log records for the bot tokens and the roster's phones
(tests/conftest.py ``collect_logs``, tests/helpers/log_collector.py). Here: the finder itself, and the paths
where phones and the token pass (linking by contact, a join request, an unreadable update carrying a
contact), walked so that the check sees them.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bot.sandbox import TelegramSandbox
from tests.conftest import BotHolder
from tests.helpers.chat import Chat
from tests.helpers.flows import join_as_stranger, linked
from tests.helpers.log_collector import SESSION_LOGS, leaks, phones_in, roster_phones
from tests.helpers.roster import HUNG, MAI, STRANGER

pytestmark = pytest.mark.sandbox


def test_the_phone_forms_are_recognised() -> None:
    phones = roster_phones()
    assert "+84912345678" in phones and len(phones) >= 5
    for written in ("0912345678", "+84912345678", "84912345678", "0912 345 678", "tel 0912.345.678 ok"):
        assert phones_in(f"INFO x: {written}", phones) == {"+84912345678"}
    assert not phones_in("INFO x: update 4000000000001 at 1795786583", phones)


async def test_the_paths_phones_and_the_token_take(
    chat: Callable[..., Chat], sandbox: TelegramSandbox, bot: BotHolder
) -> None:
    await linked(chat, HUNG)  # the officer who receives the join request
    mai = await linked(chat, MAI)
    await join_as_stranger(chat(*STRANGER))
    contact = {"phone_number": "+84912345678"}  # no first_name: python-telegram-bot cannot read it
    message = {"message_id": 9, "date": 0, "chat": mai.user.chat_json(), "contact": contact}
    unreadable = sandbox.inject_raw({"message": message})
    await mai.send("/start")
    assert bot.runtime.telegram is not None
    await bot.runtime.telegram.wait_processed(unreadable)
    assert any(f"update {unreadable} " in line for line in SESSION_LOGS.lines)


def test_a_leaking_line_is_found() -> None:
    assert leaks(["INFO x: fine", "WARNING y: chat 0912 345 678 failed"]) == [
        "WARNING y: chat 0912 345 678 failed"
    ]
    assert leaks([f"ERROR z: POST /bot{TelegramSandbox().token}/sendMessage"])
