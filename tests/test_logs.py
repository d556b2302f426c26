"""Logs that do not cry wolf: one line per event at the right level, never a traceback for what the bot
handles (a 429, another process polling the same token, an outage of the Bot API)."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable

import pytest
import sqlalchemy as sa
from sqlalchemy import make_url
from telegram.error import Conflict

from bot.channels.telegram.polling import PollingMonitor
from bot.engine import outages
from bot.sandbox import TelegramSandbox
from messages import plain, text
from tests.conftest import BotHolder
from tests.helpers.chat import Chat
from tests.helpers.flows import linked
from tests.helpers.roster import MAI

POLLING = "bot.channels.telegram.polling"


async def _until(condition: Callable[[], bool], seconds: float = 15.0) -> None:
    """Wait, bounded, for a condition nothing signals (how many polls the sandbox has seen)."""
    for _ in range(int(seconds / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the condition never held")


def _polls(sandbox: TelegramSandbox) -> int:
    return sum(1 for method, _ in sandbox.calls if method.lower() == "getupdates")


def _warnings_and_worse(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.levelno >= logging.WARNING]


@pytest.mark.sandbox
async def test_a_429_on_a_direct_reply_is_one_warning_with_the_wait(
    chat: Callable[..., Chat], sandbox: TelegramSandbox, caplog: pytest.LogCaptureFixture
) -> None:
    mai = await linked(chat, MAI)
    caplog.set_level(logging.INFO)
    sandbox.fail_next("sendMessage", retry_after=1)
    await mai.send("/huongdan")
    assert "/help (/huongdan)" in mai.last_text  # answered after the wait, no apology
    [line] = _warnings_and_worse(caplog)
    assert line.levelno == logging.WARNING and line.exc_info is None and line.exc_text is None
    assert "wait 1 s (429)" in line.getMessage()


@pytest.mark.sandbox
async def test_another_process_polling_the_token_is_said_once(
    chat: Callable[..., Chat], sandbox: TelegramSandbox, bot: BotHolder, caplog: pytest.LogCaptureFixture
) -> None:
    mai = await linked(chat, MAI)
    caplog.set_level(logging.INFO)
    before = _polls(sandbox)
    sandbox.poll_elsewhere(3)
    await _until(lambda: _polls(sandbox) >= before + 4)  # three conflicts, then a poll that went through
    await mai.send("/huongdan")
    assert "/help (/huongdan)" in mai.last_text
    [line] = _warnings_and_worse(caplog)
    assert "409 Conflict" in line.getMessage() and line.exc_info is None


def test_conflicts_are_said_at_most_once_a_minute(caplog: pytest.LogCaptureFixture) -> None:
    now = [0.0]
    monitor = PollingMonitor(clock=lambda: now[0])
    for moment in (0, 1, 10, 59.9, 60, 61, 119, 125):
        now[0] = moment
        monitor.failed(Conflict("Conflict: terminated by other getUpdates request"))
    assert len(_warnings_and_worse(caplog)) == 3  # at 0, 60 and 125 s


def test_a_webhook_set_elsewhere_is_named_as_such(caplog: pytest.LogCaptureFixture) -> None:
    # Telegram's 409 for a token with a webhook is not another poller: the operator must delete it.
    PollingMonitor().failed(
        Conflict(
            "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete "
            "the webhook first"
        )
    )
    [line] = _warnings_and_worse(caplog)
    assert "a webhook is set for this bot's token" in line.getMessage()
    assert "another process is polling" not in line.getMessage()


@pytest.mark.sandbox
async def test_an_outage_of_polling_is_one_line_when_it_starts_and_one_when_it_ends(
    chat: Callable[..., Chat], sandbox: TelegramSandbox, bot: BotHolder, caplog: pytest.LogCaptureFixture
) -> None:
    mai = await linked(chat, MAI)
    caplog.set_level(logging.INFO)
    sandbox.break_next("getUpdates", times=2)  # 502 Bad Gateway for the next two polls
    telegram = bot.runtime.telegram
    assert telegram is not None
    await _until(lambda: telegram.polling.in_outage)
    await mai.send("/huongdan")  # sent during the outage, answered once it ends
    assert "/help (/huongdan)" in mai.last_text
    started, ended = _warnings_and_worse(caplog)
    assert started.name == ended.name == POLLING
    assert "outage started" in started.getMessage() and "Bad Gateway" in started.getMessage()
    assert "outage ended (" in ended.getMessage() and "2 failed polls" in ended.getMessage()
    assert started.exc_info is None and ended.exc_info is None


def test_polls_after_failures_wait_half_a_second_doubling_to_five() -> None:
    assert [outages.pause_after(n) for n in range(1, 7)] == [0.5, 1.0, 2.0, 4.0, 5.0, 5.0]
    assert outages.pause_after(50_000) == 5.0  # a day-long outage: still five seconds, no overflow


@pytest.mark.sandbox
async def test_a_long_polling_outage_is_polled_again_after_the_capped_pause_not_the_librarys(
    chat: Callable[..., Chat], sandbox: TelegramSandbox, bot: BotHolder, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The pauses scaled down a hundredfold (0.005 s doubling to 0.05 s): nine failed polls then take well
    # under a second, where python-telegram-bot's own pauses (1 s growing by half to 30 s) took ~57 s.
    monkeypatch.setattr(outages, "FIRST_PAUSE", 0.005)
    monkeypatch.setattr(outages, "LONGEST_PAUSE", 0.05)
    mai = await linked(chat, MAI)
    sandbox.break_next("getUpdates", times=9)
    telegram = bot.runtime.telegram
    assert telegram is not None
    await _until(lambda: telegram.polling.in_outage)
    await mai.send("/huongdan")  # sent during the outage, answered once it ends
    assert "/help (/huongdan)" in mai.last_text
    assert not telegram.polling.in_outage


@pytest.mark.sandbox
async def test_stopping_while_the_bot_api_is_down_is_one_warning_without_a_traceback(
    chat: Callable[..., Chat], sandbox: TelegramSandbox, bot: BotHolder, caplog: pytest.LogCaptureFixture
) -> None:
    mai = await linked(chat, MAI)
    await mai.send("/huongdan")  # polling has fetched updates, so stopping confirms them
    caplog.set_level(logging.INFO)
    await sandbox.go_down()
    await bot.runtime.stop()  # SIGTERM during an outage
    await sandbox.go_up()
    [stopping] = [r for r in caplog.records if "could not be confirmed" in r.getMessage()]
    assert stopping.levelno == logging.WARNING and stopping.exc_info is None
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]
    await bot.restart()
    assert "/help (/huongdan)" in (await mai.send("/huongdan"))[-1].plain_text


@pytest.mark.sandbox
@pytest.mark.sqlite_only("SQLite's one write lock, held by another program")
async def test_a_database_locked_by_another_program_is_a_warning_without_a_traceback(
    bot: BotHolder, db_url: str, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("storage.sqlite_inloop.LOCK_WAIT_SECONDS", 0.2)  # 30 s as shipped
    caplog.set_level(logging.INFO)
    renewal = "could not renew the outbox claims"
    shell = sqlite3.connect(make_url(db_url).database or "", isolation_level=None)  # a sqlite3 shell
    try:
        shell.execute("BEGIN IMMEDIATE")
        await _until(lambda: any(renewal in record.getMessage() for record in caplog.records))
        await bot.runtime.reminders.renewal()  # as the scheduler's clock runs it every 20 s
    finally:
        shell.close()
    for said in (
        f"{renewal}; retrying in a second (database is locked)",
        "could not renew the scheduler lease; the next renewal will (database is locked)",
    ):
        line = next(record for record in caplog.records if record.getMessage() == said)
        assert (line.levelno, line.exc_info) == (logging.WARNING, None)


@pytest.mark.sandbox
async def test_when_the_database_fails_outright_the_person_still_gets_the_apology(
    chat: Callable[..., Chat],
    bot: BotHolder,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    mai = await linked(chat, MAI)
    failing = sa.exc.OperationalError("BEGIN", {}, Exception("database or disk is full"))

    def full_disk(**_: object) -> object:
        raise failing

    monkeypatch.setattr(bot.runtime.store, "begin", full_disk)
    await mai.send("/help")
    assert mai.last_text == plain(text("vi", "fallback.error"))  # in the default language: none other known
    assert not any("could not apologise" in record.getMessage() for record in caplog.records)
