"""Idle memory benchmark: the resident memory of `thidua run` waiting for messages.

    python bench/idle.py               # waits 10 s after each start
    python bench/idle.py --small       # waits 5 s, for CI

Starts the real `thidua run` (a child process, as an operator would) against the Bot API sandbox of
bench/load.py, twice on the same new SQLite file: the first start creates and migrates the database, the
restart finds it current (and so never loads Alembic). Prints each start's resident memory (VmRSS) once it
has been polling for a while. Never asserts (issue 13's target: idle RSS <= 100 MB).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.load import start_sandbox

THIDUA = Path(sys.executable).parent / "thidua"


def resident_mb(pid: int) -> float:
    """The process's VmRSS in MB."""
    status = Path(f"/proc/{pid}/status").read_text()
    return int(status.split("VmRSS:")[1].split()[0]) / 1024


def measure(env: dict[str, str], folder: str, wait: float) -> float:
    """One start of `thidua run`: its resident memory after ``wait`` seconds."""
    bot = subprocess.Popen(
        [str(THIDUA), "run"], env=env, cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        time.sleep(wait)
        if bot.poll() is not None:
            raise SystemExit(f"thidua run stopped with code {bot.returncode}")
        return resident_mb(bot.pid)
    finally:
        bot.terminate()
        bot.wait(timeout=30)


def main() -> None:
    """Two starts, their figures printed."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--small", action="store_true", help="wait 5 s instead of 10, for CI")
    wait = 5.0 if parser.parse_args().small else 10.0
    child, api_url, token, _control = start_sandbox(1)
    try:
        with tempfile.TemporaryDirectory(prefix="thidua-idle-") as folder:
            env = dict(
                os.environ,
                THIDUA_TELEGRAM_TOKEN=token,
                THIDUA_TELEGRAM_API_URL=api_url,
                THIDUA_DATABASE_URL=f"sqlite+aiosqlite:///{folder}/idle.db",
            )
            print(f"thidua run, idle {wait:.0f} s after start (target <= 100 MB)")
            for label in ("first start (creates the database)", "restart (database current)"):
                rss = measure(env, folder, wait)
                print(f"  {label:38s} {rss:6.1f} MB")
    finally:
        assert child.stdin is not None
        child.stdin.close()
        child.wait(timeout=30)


if __name__ == "__main__":
    main()
