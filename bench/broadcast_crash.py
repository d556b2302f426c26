"""Crash benchmark: `kill -9` the bot halfway through a broadcast, start it again, count what was lost and
what was sent twice.

    python bench/broadcast_crash.py            # 5,000 members at 1,000 msg/s
    python bench/broadcast_crash.py --small    # 1,000 members, for CI

The bot runs as `python -m bot run` in a child process (so it can really be killed) against the Bot API
sandbox served from this process. Prints lost, repeated (against the configured concurrency, the bound the
design promises) and the seconds from the restart to the first new delivery. Never asserts.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.broadcast import FIRST_USER, seed
from bot.domain.broadcasts import send_to_subtree
from bot.engine.events import Outgoing
from bot.sandbox import TelegramSandbox
from storage.database import Store

ROOT = Path(__file__).resolve().parent.parent
TEXT = "Thông báo khẩn của công đoàn"
CONCURRENCY = 32


def start_bot(db_url: str, sandbox: TelegramSandbox, rate: float, folder: Path) -> subprocess.Popen[bytes]:
    """``python -m bot run`` on the benchmark's database and sandbox."""
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "PTB_TIMEDELTA": "1",
        "THIDUA_DATABASE_URL": db_url,
        "THIDUA_TELEGRAM_TOKEN": sandbox.token,
        "THIDUA_TELEGRAM_API_URL": sandbox.api_url,
        "THIDUA_TELEGRAM_RATE": str(rate),
        "THIDUA_OUTBOX_CONCURRENCY": str(CONCURRENCY),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        cwd=folder,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def queue(store: Store, now: datetime) -> int:
    """One broadcast to every member of the seeded federation; returns its id."""
    async with store.begin() as repos:
        root = await repos.units.by_code("BENCH")
        assert root is not None
        message = Outgoing(TEXT).to_json()
        sent = await send_to_subtree(
            repos,
            kind="broadcast",
            title=TEXT,
            unit=root,
            campaign_id=None,
            requested_by=None,
            messages={"vi": message, "en": message},
            default_language="vi",
            now=now,
        )
    return sent.broadcast_id


async def finished(store: Store, broadcast_id: int) -> bool:
    """True once no row of the broadcast is pending."""
    async with store.begin() as repos:
        [progress] = await repos.broadcasts.progress([broadcast_id])
    return progress.finished_at is not None


async def run(count: int, rate: float) -> None:
    """Seed, start, kill halfway, restart, wait for the end, print the figures."""
    sandbox = TelegramSandbox()
    for user_id in range(FIRST_USER, FIRST_USER + count):
        sandbox.user(user_id, f"User {user_id}")
    await sandbox.start()
    scratch = tempfile.TemporaryDirectory(prefix="thidua-crash-")
    folder = Path(scratch.name)
    db_url = f"sqlite+aiosqlite:///{folder / 'bench.db'}"
    store = Store(db_url)
    try:
        now = datetime.now(UTC)
        await seed(store, count, now)
        broadcast_id = await queue(store, now)
        first = start_bot(db_url, sandbox, rate, folder)
        await sandbox.wait_delivered(count // 2)
        first.send_signal(signal.SIGKILL)
        killed_at = time.monotonic()
        await asyncio.to_thread(first.wait)
        at_kill = sandbox.delivered
        second = start_bot(db_url, sandbox, rate, folder)
        started = time.monotonic()
        await sandbox.wait_delivered(at_kill + 1)
        resumed = time.monotonic()
        while not await finished(store, broadcast_id):
            with contextlib.suppress(TimeoutError):  # the last may have come before we looked
                await asyncio.wait_for(sandbox.wait_delivered(sandbox.delivered + 1), 0.5)
        done = time.monotonic()
        second.send_signal(signal.SIGTERM)
        await asyncio.to_thread(second.wait)
        received = [
            sum(TEXT in message.plain_text for message in sandbox.messages(user_id))
            for user_id in range(FIRST_USER, FIRST_USER + count)
        ]
        print(f"broadcast to {count:,} members at {rate:,.0f} msg/s, kill -9 at {at_kill:,} delivered")
        print(f"  lost                 {received.count(0):8,}")
        repeated = sum(copies - 1 for copies in received if copies > 1)
        print(f"  repeated             {repeated:8,} (bound: concurrency {CONCURRENCY})")
        print(f"  restart → first send {resumed - started:8.2f} s")
        print(f"  kill → first send    {resumed - killed_at:8.2f} s")
        print(f"  restart → all sent   {done - started:8.2f} s")
    finally:
        await store.close()
        await sandbox.stop()
        scratch.cleanup()


def main() -> None:
    """Parse the arguments and run."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--members", type=int, default=5_000)
    parser.add_argument("--rate", type=float, default=1000.0)
    parser.add_argument("--small", action="store_true", help="1,000 members, for CI")
    args = parser.parse_args()
    asyncio.run(run(1_000 if args.small else args.members, args.rate))


if __name__ == "__main__":
    main()
