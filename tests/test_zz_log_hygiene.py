"""Runs last (by name): reads every log record of the test session, tracebacks included, for the bot
tokens (Telegram's and Zalo's) and for any roster phone number in any usual form. Phones are never logged;
the tokens never are either (bot/engine/logs.py scrubs them from what the libraries write, but the suite
runs without that filter, so this reads what the code itself lets through).

Run alone, it first walks the paths where phones and the token pass (linking by contact, a join request,
an unreadable update carrying a contact) so that it checks something.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from bot.domain.vn.phones import normalize_phone
from bot.sandbox import TelegramSandbox
from bot.sandbox.zalo import ZaloSandbox
from tests.conftest import BotHolder
from tests.helpers.chat import Chat
from tests.helpers.flows import join_as_stranger, linked
from tests.helpers.log_collector import SESSION_LOGS
from tests.helpers.roster import HOA, HUNG, MAI, MEMBERS_CSV, STRANGER

pytestmark = pytest.mark.sandbox

# Runs of digits as people write phone numbers: "+84 912 345 678", "0912.345.678", "84912345678".
DIGIT_RUN = re.compile(r"\+?\d[\d .\-()]{7,16}\d")


def roster_phones() -> set[str]:
    """Every phone of the test roster and the sandbox people, in E.164."""
    written = [line.split(",")[2] for line in MEMBERS_CSV.strip().splitlines()[1:]]
    written += [person[3] for person in (MAI, HUNG, HOA, STRANGER)]
    return {phone for phone in map(normalize_phone, written) if phone is not None}


def usual_forms(e164: str) -> set[str]:
    """+84912345678 → {"+84912345678", "84912345678", "0912345678", "0912 345 678", "912345678"}."""
    national = "0" + e164[3:]
    return {e164, e164[1:], national, f"{national[:4]} {national[4:7]} {national[7:]}", e164[3:]}


def phones_in(line: str, phones: set[str]) -> set[str]:
    """The roster phones a log line contains, however they are written."""
    found = {phone for phone in phones if any(form in line for form in usual_forms(phone))}
    for run in DIGIT_RUN.findall(line):
        normalized = normalize_phone(run)
        if normalized in phones:
            found.add(normalized)
    return found


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


def test_no_log_line_of_the_session_holds_the_token_or_a_phone() -> None:
    secrets = {
        part
        for token in (TelegramSandbox().token, ZaloSandbox().token)
        for part in (token, token.split(":", 1)[1])
    }
    phones = roster_phones()
    leaks = [
        line[:300]
        for line in SESSION_LOGS.lines
        if any(secret in line for secret in secrets) or phones_in(line, phones)
    ]
    assert SESSION_LOGS.lines  # the collector did collect
    assert leaks == []
