"""The real `thidua run` as a child process against a test's database and Telegram sandbox."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bot.engine.config import Settings

ROOT = Path(__file__).resolve().parent.parent.parent


@contextmanager
def bot_process(settings: Settings, workdir: Path, **variables: str) -> Iterator[subprocess.Popen[bytes]]:
    """``python -m bot run`` on ``settings``' database and sandbox, with more ``THIDUA_*`` ``variables``
    (``OUTBOX_CONCURRENCY="8"`` sets THIDUA_OUTBOX_CONCURRENCY); sends at 100 msg/s unless told otherwise.
    Killed at the end if still alive."""
    assert settings.telegram_token is not None
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "PTB_TIMEDELTA": "1",
        "THIDUA_DATABASE_URL": settings.database_url,
        "THIDUA_TELEGRAM_TOKEN": settings.telegram_token.get_secret_value(),
        "THIDUA_TELEGRAM_API_URL": settings.telegram_api_url,
        "THIDUA_TELEGRAM_RATE": "100",
        **{f"THIDUA_{name}": value for name, value in variables.items()},
    }
    workdir.mkdir(exist_ok=True)
    command = [sys.executable, "-m", "bot", "run"]
    child = subprocess.Popen(command, cwd=workdir, env=env, stderr=subprocess.DEVNULL)
    try:
        yield child
    finally:
        if child.poll() is None:
            child.kill()
        child.wait(timeout=10)


async def thidua_run(workdir: Path, env: dict[str, str]) -> asyncio.subprocess.Process:
    """``python -m bot run`` in ``workdir`` with exactly ``env``, its output and errors piped to the test."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        cwd=workdir,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
