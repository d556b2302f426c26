"""Direct replies when the network to Telegram fails: the person gets the answer once, never an apology
for a request the bot did handle, and the log says what happened in one line without a traceback.

Found by driving ``thidua run`` against an independent Bot API stand-in: a 502 on a reply, or an answer
that came after the send timeout, got the person "Xin lỗi, đã có lỗi..." (after the answer itself, in the
second case), and a press whose acknowledgement failed was not handled at all.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest

from bot.engine.config import Settings
from bot.sandbox import TelegramSandbox
from messages import plain, text
from tests.helpers.chat import Chat
from tests.helpers.flows import linked
from tests.helpers.roster import MAI

pytestmark = pytest.mark.sandbox

HELP = "/help (/huongdan)"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """A send timeout short enough for a slow answer to outlast it quickly."""
    return settings.model_copy(update={"send_timeout": 1.0})


def apologies(person: Chat) -> int:
    """How many apologies this person has received."""
    apology = plain(text("vi", "fallback.error"))
    return sum(message.plain_text == apology for message in person.user.messages())


def errors(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """The records at ERROR or above."""
    return [record for record in caplog.records if record.levelno >= logging.ERROR]


async def test_a_reply_telegram_answers_with_a_5xx_is_sent_again_and_arrives(
    chat: Callable[..., Chat], sandbox: TelegramSandbox, caplog: pytest.LogCaptureFixture
) -> None:
    mai = await linked(chat, MAI)
    fault = sandbox.add_fault("5xx", chat_id=mai.user.user_id, status=502, times=1)
    replies = await mai.send("/huongdan")
    assert fault.hits == 1
    assert [HELP in reply.plain_text for reply in replies] == [True]
    assert apologies(mai) == 0 and not errors(caplog)


async def test_a_reply_answered_too_late_is_neither_repeated_nor_apologised_for(
    chat: Callable[..., Chat], sandbox: TelegramSandbox, caplog: pytest.LogCaptureFixture
) -> None:
    mai = await linked(chat, MAI)
    sandbox.add_fault("slow", chat_id=mai.user.user_id, delay=2.0, times=1)  # delivered, answered after 1 s
    await mai.send("/huongdan")
    assert [HELP in message.plain_text for message in mai.user.messages()].count(True) == 1
    assert apologies(mai) == 0 and not errors(caplog)
    [uncertain] = [r for r in caplog.records if "may have arrived" in r.getMessage()]
    assert uncertain.levelno == logging.WARNING and uncertain.exc_info is None


async def test_a_press_telegram_will_not_acknowledge_is_handled_all_the_same(
    chat: Callable[..., Chat], sandbox: TelegramSandbox, caplog: pytest.LogCaptureFixture
) -> None:
    mai = await linked(chat, MAI)
    # As for a press made while the bot was down: "query is too old" when the bot acknowledges it.
    sandbox.add_fault("400", method="answerCallbackQuery", times=1)
    replies = await mai.press("Hướng dẫn")
    assert any(HELP in reply.plain_text for reply in replies)
    assert apologies(mai) == 0 and not errors(caplog)


async def test_the_replies_after_one_answered_too_late_are_still_sent(
    chat: Callable[..., Chat], sandbox: TelegramSandbox, caplog: pytest.LogCaptureFixture
) -> None:
    mai = chat(*MAI)
    await mai.send("/start")
    sandbox.add_fault("slow", chat_id=mai.user.user_id, delay=2.0, times=1)  # the first of two replies
    replies = await mai.share_contact()
    assert len(replies) == 2  # the main menu still came after it
    assert replies[0].plain_text == plain(text("vi", "onboarding.linked"))
    assert apologies(mai) == 0 and not errors(caplog)
