"""``thidua run`` as an operator runs it, in its own process: stopped by a signal, it stops cleanly (the
updates in hand answered, its outbox claims and leases handed back) and exits 0."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import sys
from pathlib import Path

import pytest

from bot.sandbox import TelegramSandbox

pytestmark = [
    pytest.mark.sandbox,
    pytest.mark.sqlite_only("the bot's own SQLite file, as `thidua run` starts"),
]


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP], ids=lambda s: s.name)
async def test_a_signal_stops_the_bot_cleanly(
    tmp_path: Path, sandbox: TelegramSandbox, signum: signal.Signals
) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("THIDUA_")}
    env |= {"THIDUA_TELEGRAM_TOKEN": sandbox.token, "THIDUA_TELEGRAM_API_URL": sandbox.api_url}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        someone = sandbox.user(4242, "Lan")
        await someone.send("/start")
        async with asyncio.timeout(60):
            await sandbox.wait_delivered(1)  # running, and answering
        process.send_signal(signum)
        out, err = await asyncio.wait_for(process.communicate(), 60)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0, err.decode()
    assert out.decode() == "stopped\n"
    assert "Traceback" not in err.decode()
    # Stopped, not killed: the leases are handed back (a new instance needs not wait for them to lapse).
    with sqlite3.connect(tmp_path / "thidua.db") as db:
        assert db.execute("SELECT name, holder FROM leases").fetchall() == []
