"""``thidua run`` as an operator runs it, in its own process: stopped by a signal, it stops cleanly (the
updates in hand answered, its leases handed back) and exits 0; on a database it may not write, it stops
with one line, every connection closed."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
from pathlib import Path

import pytest

from bot.sandbox import TelegramSandbox
from storage.migrate import upgrade_async
from tests.helpers.processes import thidua_run

pytestmark = [
    pytest.mark.sandbox,
    pytest.mark.sqlite_only("the bot's own SQLite file, as `thidua run` starts"),
]


async def _thidua_run(tmp_path: Path, sandbox: TelegramSandbox, *settings: str) -> asyncio.subprocess.Process:
    """`python -m bot run` in ``tmp_path`` against the sandbox, with ``settings`` (``NAME=value``) more."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("THIDUA_")}
    env |= {"THIDUA_TELEGRAM_TOKEN": sandbox.token, "THIDUA_TELEGRAM_API_URL": sandbox.api_url}
    env |= dict(setting.split("=", 1) for setting in settings)
    return await thidua_run(tmp_path, env)


async def _ended(process: asyncio.subprocess.Process) -> tuple[str, str]:
    """Its standard output and error once it has exited (killed if it does not within a minute)."""
    try:
        out, err = await asyncio.wait_for(process.communicate(), 60)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    return out.decode(), err.decode()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP], ids=lambda s: s.name)
async def test_a_signal_stops_the_bot_cleanly(
    tmp_path: Path, sandbox: TelegramSandbox, signum: signal.Signals
) -> None:
    process = await _thidua_run(tmp_path, sandbox)
    try:
        someone = sandbox.user(4242, "Lan")
        await someone.send("/start")
        async with asyncio.timeout(60):
            await sandbox.wait_delivered(1)  # running, and answering
        process.send_signal(signum)
    finally:
        out, err = await _ended(process)
    assert process.returncode == 0, err
    assert out == "stopped\n"
    assert "Traceback" not in err
    # Stopped, not killed: the leases are handed back (a new instance needs not wait for them to lapse).
    with sqlite3.connect(tmp_path / "thidua.db") as db:
        assert db.execute("SELECT name, holder FROM leases").fetchall() == []


async def test_a_database_it_may_not_write_stops_it_with_one_line(
    tmp_path: Path, sandbox: TelegramSandbox
) -> None:
    path = tmp_path / "thidua.db"
    await upgrade_async(f"sqlite:///{path}")
    read_only = f"sqlite:///file:{path}?mode=ro&uri=true"  # as a file the service's user may only read
    process = await _thidua_run(tmp_path, sandbox, f"THIDUA_DATABASE_URL={read_only}")
    out, err = await _ended(process)
    assert process.returncode == 2
    assert out == ""
    assert err.splitlines()[-1] == (
        f"thidua: THIDUA_DATABASE_URL {path}: attempt to write a readonly database"
        " (may this user write the file and its folder?)"
    )
    for fault in ("Traceback", "ERROR", "Unclosed"):  # every connection closed on the way out
        assert fault not in err, err


def _children(pid: int) -> list[str]:
    """The command lines of the processes whose parent is ``pid``."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            if parent == pid:
                found.append((stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode())
        except (OSError, ValueError, IndexError):
            continue  # ended meanwhile
    return found


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the processes from /proc")
async def test_the_forkserver_of_the_export_workbooks_starts_with_the_bot(
    tmp_path: Path, sandbox: TelegramSandbox
) -> None:
    """So an officer's first /export does not wait for it and its imports (docs/performance.md)."""
    process = await _thidua_run(tmp_path, sandbox)
    try:
        await sandbox.user(4242, "Lan").send("/start")
        async with asyncio.timeout(60):
            await sandbox.wait_delivered(1)  # started and answering; nobody has asked for an export
        children = _children(process.pid)
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        await _ended(process)
    assert any("multiprocessing.forkserver" in line for line in children)
    assert process.returncode == 0
