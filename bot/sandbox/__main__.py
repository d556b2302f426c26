"""``python -m bot.sandbox``: serve the Telegram Bot API sandbox (or, with ``--zalo``, the Zalo Bot API
sandbox) on its own, for benchmarks and manual runs.

Prints one line, ``READY <api_url> <token>``, then serves until interrupted. ``--users START:COUNT``
creates that many chat users (ids START, START+1, ...) so the bot can message them.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal

from bot.sandbox.telegram import TelegramSandbox
from bot.sandbox.zalo import ZaloSandbox


async def serve(port: int, users: str | None, zalo: bool) -> None:
    """Run the sandbox until SIGINT or SIGTERM."""
    sandbox = ZaloSandbox() if zalo else TelegramSandbox()
    if users:
        start, count = (int(part) for part in users.split(":"))
        for user_id in range(start, start + count):
            if isinstance(sandbox, ZaloSandbox):
                sandbox.user(str(user_id), f"User {user_id}")
            else:
                sandbox.user(user_id, f"User {user_id}")
    await sandbox.start(port=port)
    print(f"READY {sandbox.api_url} {sandbox.token}", flush=True)
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(signum, stop.set)
    await stop.wait()
    await sandbox.stop()


def main() -> None:
    """Parse the arguments and serve."""
    parser = argparse.ArgumentParser(prog="python -m bot.sandbox", description=__doc__)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--users", help="START:COUNT chat users to create")
    parser.add_argument("--zalo", action="store_true", help="serve the Zalo Bot API instead of Telegram's")
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.port, args.users, args.zalo))


main()
