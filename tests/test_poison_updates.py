"""Updates the bot cannot read or cannot handle: each logged once by its id (never its content) and
skipped, while polling and every other chat go on."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest

from bot.engine.events import Incoming
from bot.sandbox import TelegramSandbox
from messages import plain, text
from tests.conftest import BotHolder
from tests.helpers.chat import Chat
from tests.helpers.flows import linked
from tests.helpers.roster import HOA, HUNG, MAI

pytestmark = pytest.mark.sandbox

SECRET_QUESTION = "Câu hỏi riêng của Mai"


def _mentioning(caplog: pytest.LogCaptureFixture, needle: str) -> list[logging.LogRecord]:
    return [record for record in caplog.records if needle in record.getMessage()]


async def test_an_update_the_library_cannot_parse_is_skipped_and_the_next_is_answered(
    chat: Callable[..., Chat], sandbox: TelegramSandbox, bot: BotHolder, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    mai = chat(*MAI)
    # A poll lacking the fields python-telegram-bot 22 requires, as an older Bot API server sends it.
    poll = {"id": "poll-1", "question": SECRET_QUESTION}
    message = {
        "message_id": 1,
        "date": 0,
        "chat": mai.user.chat_json(),
        "from": mai.user.user_json(),
        "poll": poll,
    }
    bad = sandbox.inject_raw({"message": message})
    replies = await mai.send("/start")
    assert [reply.plain_text for reply in replies] == [plain(text("vi", "onboarding.welcome"))]
    assert bot.runtime.telegram is not None
    await bot.runtime.telegram.wait_processed(bad)  # the bare update went through and was ignored
    lines = _mentioning(caplog, f"update {bad} ")
    assert len(lines) == 1
    assert lines[0].levelno == logging.WARNING and lines[0].exc_info is None
    assert "(message)" in lines[0].getMessage() and "TypeError" in lines[0].getMessage()
    assert not _mentioning(caplog, SECRET_QUESTION)
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]


async def test_an_update_whose_handling_raises_gets_the_apology_and_others_go_on(
    chat: Callable[..., Chat],
    sandbox: TelegramSandbox,
    bot: BotHolder,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hoa, hung = await linked(chat, HOA), await linked(chat, HUNG)
    router = bot.runtime.router
    handle = router.handle

    async def broken_for_hoa(event: Incoming, channel: object) -> object:
        if event.user_id == str(HOA[0]):
            raise RuntimeError("a bug in a handler")
        return await handle(event, channel)  # type: ignore[arg-type]

    monkeypatch.setattr(router, "handle", broken_for_hoa)
    caplog.set_level(logging.INFO)
    await hoa.send("/cuatoi mật khẩu của Hoa")
    assert hoa.last_text == plain(text("vi", "fallback.error"))
    await hung.send("/huongdan")
    assert "/help (/huongdan)" in hung.last_text
    failed = [record for record in caplog.records if record.levelno >= logging.ERROR]
    assert len(failed) == 1
    assert f"update {sandbox.last_update_id - 1} failed (RuntimeError)" in failed[0].getMessage()
    assert not _mentioning(caplog, "mật khẩu")
