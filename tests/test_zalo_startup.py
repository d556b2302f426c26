"""``thidua run`` with only a Zalo token: it runs and answers on Zalo; a wrong token or an unreachable API
URL is one line on stderr naming the setting, never the token (exit 2); and no token at all names both."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
from pathlib import Path

import pytest

from bot.engine.config import load_settings
from bot.engine.logs import RedactSecrets
from bot.sandbox.zalo import ZaloSandbox
from tests.helpers.processes import thidua_run

pytestmark = pytest.mark.sandbox

WRONG_TOKEN = "999:WRONG-ZALO"


def _env(tmp_path: Path, token: str, api_url: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("THIDUA_")}
    return env | {
        "THIDUA_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'run.db'}",
        "THIDUA_ZALO_TOKEN": token,
        "THIDUA_ZALO_API_URL": api_url,
        "PYTHONWARNINGS": "default",  # let "Unclosed client session" and friends show if they happen
    }


async def _failed_start(tmp_path: Path, token: str, api_url: str) -> tuple[int, str]:
    process = await thidua_run(tmp_path, _env(tmp_path, token, api_url))
    _, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode is not None
    return process.returncode, err.decode()


def _one_clean_line(err: str) -> str:
    assert len(err.splitlines()) == 1, err
    for leak in (WRONG_TOKEN, "WRONG", "Traceback", "Unclosed", "Error:"):
        assert leak not in err, err
    return err


async def test_a_wrong_zalo_token_is_named_without_printing_it(
    tmp_path: Path, zalo_sandbox: ZaloSandbox
) -> None:
    status, err = await _failed_start(tmp_path, WRONG_TOKEN, zalo_sandbox.api_url)
    assert status == 2
    assert (
        _one_clean_line(err)
        == f"thidua: THIDUA_ZALO_TOKEN was rejected by {zalo_sandbox.api_url} (Unauthorized)\n"
    )


async def test_an_unreachable_zalo_api_url_is_one_line_naming_the_address(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nothing listens on once the probe is closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    status, err = await _failed_start(tmp_path, WRONG_TOKEN, url)
    assert status == 2
    assert _one_clean_line(err) == f"thidua: cannot reach THIDUA_ZALO_API_URL {url}: connection refused\n"


async def test_run_with_only_a_zalo_token_answers_on_zalo_and_stops_on_sigterm(
    tmp_path: Path, zalo_sandbox: ZaloSandbox
) -> None:
    nam = zalo_sandbox.user("znam", "Nam")
    process = await thidua_run(tmp_path, _env(tmp_path, zalo_sandbox.token, zalo_sandbox.api_url))
    try:
        await nam.send_text("/start")
        await asyncio.wait_for(zalo_sandbox.wait_delivered(1), 60)
        assert "trợ lý thi đua" in nam.last().text
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, err.decode()
    assert out.decode() == "stopped\n"
    assert zalo_sandbox.token not in err.decode()


def test_the_zalo_token_is_among_the_secrets_the_logs_scrub(db_url: str) -> None:
    settings = load_settings(_env_file=None, database_url=db_url, zalo_token="4321:ZALO-SECRET")
    assert "4321:ZALO-SECRET" in settings.secrets()
    record = logging.LogRecord(
        "x", logging.WARNING, __file__, 1, "calling %s", ("/bot4321:ZALO-SECRET/getMe",), None
    )
    RedactSecrets(settings.secrets()).filter(record)
    assert record.getMessage() == "calling /bot[redacted]/getMe"


async def test_a_listen_address_already_taken_is_one_line_naming_it(
    tmp_path: Path, zalo_sandbox: ZaloSandbox
) -> None:
    # Webhook mode on a THIDUA_LISTEN another process holds (an instance still running): it was a
    # traceback and status 1.
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        listen = f"127.0.0.1:{taken.getsockname()[1]}"
        env = _env(tmp_path, zalo_sandbox.token, zalo_sandbox.api_url) | {
            "THIDUA_WEBHOOK_URL": "https://bot.example.vn",
            "THIDUA_WEBHOOK_SECRET": "s3cret-webhook",
            "THIDUA_LISTEN": listen,
        }
        process = await thidua_run(tmp_path, env)
        _, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == 2
    said = f"thidua: cannot listen on THIDUA_LISTEN {listen}: address in use\n"
    assert _one_clean_line(err.decode()) == said
    assert zalo_sandbox.webhook is None  # no webhook left pointing at an address that is not this one
