"""``thidua run`` that cannot start says why in one line on stderr: the setting or the address, never the
token, no traceback, every connection closed."""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path

import pytest

from bot.app import Runtime
from bot.engine.channel import ChannelStartError
from bot.engine.clock import ManualClock
from bot.engine.config import Settings, load_settings
from bot.sandbox import TelegramSandbox
from storage.database import Store
from tests.helpers.chat import Chat
from tests.helpers.ports import free_port
from tests.helpers.processes import thidua_run
from tests.helpers.roster import MAI

pytestmark = pytest.mark.sandbox

WRONG_TOKEN = "999:WRONG"


async def _run_the_cli(tmp_path: Path, api_url: str) -> tuple[int, str]:
    """`python -m bot run` as an admin starts it; its exit status and stderr."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("THIDUA_")}
    env |= {
        "THIDUA_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'run.db'}",
        "THIDUA_TELEGRAM_TOKEN": WRONG_TOKEN,
        "THIDUA_TELEGRAM_API_URL": api_url,
        "PYTHONWARNINGS": "default",  # let "Unclosed client session" and friends show if they happen
    }
    process = await thidua_run(tmp_path, env)
    _, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode is not None
    return process.returncode, err.decode()


def _assert_one_clean_line(err: str) -> str:
    assert len(err.splitlines()) == 1, err
    for leak in (WRONG_TOKEN, "WRONG", "Traceback", "Unclosed", "Error:"):
        assert leak not in err, err
    return err


async def test_a_wrong_token_is_named_without_printing_it(tmp_path: Path, sandbox: TelegramSandbox) -> None:
    status, err = await _run_the_cli(tmp_path, sandbox.api_url)
    assert status != 0
    assert _assert_one_clean_line(err) == (
        f"thidua: THIDUA_TELEGRAM_TOKEN was rejected by {sandbox.api_url} (Unauthorized)\n"
    )


async def test_an_unreachable_api_url_is_one_line_naming_the_address(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    status, err = await _run_the_cli(tmp_path, url)
    assert status != 0
    assert _assert_one_clean_line(err) == (
        f"thidua: cannot reach THIDUA_TELEGRAM_API_URL {url}: connection refused\n"
    )


async def test_a_bot_api_busy_for_a_moment_at_start_is_waited_out(
    store: Store,
    settings: Settings,
    clock: ManualClock,
    sandbox: TelegramSandbox,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Telegram answers 502 now and then; a start at that moment used to exit with status 2.
    sandbox.break_next("getMe", times=2)
    runtime = Runtime(settings, clock, poll_timeout=1)
    await runtime.start()
    try:
        tries = [r for r in caplog.records if "trying again" in r.getMessage()]
        assert len(tries) == 2 and all(r.levelno == logging.WARNING and r.exc_info is None for r in tries)
        assert "Bad Gateway" in tries[0].getMessage()
        mai = Chat(sandbox.user(MAI[0], MAI[1]), lambda: runtime)
        assert "/help (/huongdan)" in (await mai.send("/huongdan"))[-1].plain_text
    finally:
        await runtime.stop()


async def test_a_webhook_address_telegram_refuses_is_named_as_thidua_webhook_url(
    store: Store, clock: ManualClock, sandbox: TelegramSandbox, db_url: str
) -> None:
    # Real Telegram takes only https webhooks: the refusal named the Bot API, not the setting to mend.
    sandbox.https_webhooks_only = True
    settings = load_settings(
        _env_file=None,
        database_url=db_url,
        telegram_token=sandbox.token,
        telegram_api_url=sandbox.api_url,
        webhook_url="http://bot.example.vn",
        webhook_secret="s3cret-enough",
        listen=f"127.0.0.1:{free_port()}",
    )
    runtime = Runtime(settings, clock, poll_timeout=1)
    with pytest.raises(ChannelStartError) as refused:
        await runtime.start()
    assert str(refused.value).startswith("THIDUA_WEBHOOK_URL http://bot.example.vn")
    assert "https url must be provided" in str(refused.value).lower()
