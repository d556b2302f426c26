"""Throughput of python-telegram-bot's HTTP transports: sendMessage calls per second through ``telegram.Bot``.

Starts the Telegram Bot API sandbox on 127.0.0.1 in this process, then sends N text messages (spread over
500 chats) with ``Bot.send_message`` from C concurrent senders, once with PTB's default ``HTTPXRequest`` and
once with ``bot.channels.telegram.aiohttp_request.AiohttpRequest``, at concurrency 8 and at the one
given. Prints the wall-clock rates and their ratio; it never asserts a speed (DESIGN.md §6 keeps the
comparison). Note the sandbox shares the event loop and the CPU with the bot, so absolute figures are below
a separate server's.

    python bench/http_transport.py                  # N=3000, concurrency 8 and 64
    python bench/http_transport.py --small          # N=500, for CI
    python bench/http_transport.py --messages 10000 --concurrency 256
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from telegram import Bot
from telegram.request import BaseRequest, HTTPXRequest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.channels.telegram.aiohttp_request import AiohttpRequest
from bot.sandbox import TelegramSandbox

CHATS = 500
FIRST_USER_ID = 10_000


@dataclass(frozen=True)
class Run:
    """One measurement: a transport at a concurrency."""

    transport: str
    concurrency: int
    messages: int
    seconds: float
    failures: int

    @property
    def rate(self) -> float:
        """Messages per second, wall clock."""
        return self.messages / self.seconds


def httpx_request(concurrency: int) -> BaseRequest:
    """PTB's default transport with a pool big enough that no sender waits for a connection."""
    return HTTPXRequest(connection_pool_size=max(256, concurrency), pool_timeout=None)


def aiohttp_request(concurrency: int) -> BaseRequest:
    """The project's aiohttp transport, its connection limit sized the same way."""
    return AiohttpRequest(connection_pool_size=max(256, concurrency), pool_timeout=None)


TRANSPORTS: dict[str, Callable[[int], BaseRequest]] = {"httpx": httpx_request, "aiohttp": aiohttp_request}


async def send_all(bot: Bot, messages: int, concurrency: int, offset: int = 0) -> int:
    """Send `messages` texts from `concurrency` senders; return how many failed."""
    next_index = iter(range(messages))
    failures = 0

    async def sender() -> None:
        nonlocal failures
        for index in next_index:
            chat_id = FIRST_USER_ID + (offset + index) % CHATS
            try:
                await bot.send_message(chat_id, f"Thông báo số {offset + index}: họp công đoàn lúc 8 giờ")
            except Exception:  # a benchmark counts failures instead of stopping
                failures += 1

    await asyncio.gather(*(sender() for _ in range(concurrency)))
    return failures


async def measure(sandbox: TelegramSandbox, transport: str, messages: int, concurrency: int) -> Run:
    """Time `messages` sendMessage calls through a Bot on the given transport (after a short warm-up)."""
    request = TRANSPORTS[transport](concurrency)
    bot = Bot(sandbox.token, base_url=f"{sandbox.api_url}/bot", request=request)
    async with bot:
        await send_all(bot, concurrency * 2, concurrency)  # open the connections, warm the caches
        started = time.perf_counter()
        failures = await send_all(bot, messages, concurrency, offset=concurrency * 2)
        seconds = time.perf_counter() - started
    return Run(transport, concurrency, messages, seconds, failures)


async def main(messages: int, concurrencies: list[int]) -> list[Run]:
    """Start the sandbox and measure every transport at every concurrency."""
    sandbox = TelegramSandbox()
    await sandbox.start()
    try:
        for user_id in range(FIRST_USER_ID, FIRST_USER_ID + CHATS):
            sandbox.user(user_id, f"Đoàn viên {user_id}")
        runs = []
        for concurrency in concurrencies:
            for transport in TRANSPORTS:
                runs.append(await measure(sandbox, transport, messages, concurrency))
                print(
                    f"  {transport:>7} at concurrency {concurrency:>4}: {runs[-1].rate:8.0f} msg/s",
                    flush=True,
                )
        return runs
    finally:
        await sandbox.stop()


def table(runs: list[Run]) -> str:
    """The figures as a Markdown table, one row per concurrency."""
    lines = [
        "| concurrency | httpx msg/s | aiohttp msg/s | aiohttp / httpx | failures |",
        "| ---: | ---: | ---: | ---: | ---: |",
    ]
    for concurrency in sorted({run.concurrency for run in runs}):
        by_transport = {run.transport: run for run in runs if run.concurrency == concurrency}
        httpx_run, aiohttp_run = by_transport["httpx"], by_transport["aiohttp"]
        lines.append(
            f"| {concurrency} | {httpx_run.rate:,.0f} | {aiohttp_run.rate:,.0f} "
            f"| {aiohttp_run.rate / httpx_run.rate:.2f}x | {httpx_run.failures + aiohttp_run.failures} |"
        )
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--messages", "-n", type=int, default=3000, help="messages per run (default 3000)")
    parser.add_argument("--concurrency", "-c", type=int, default=64, help="measured besides 8 (default 64)")
    parser.add_argument("--small", action="store_true", help="500 messages per run, for CI")
    args = parser.parse_args(argv)
    if args.small:
        args.messages = 500
    if args.messages < 1 or args.concurrency < 1:
        parser.error("--messages and --concurrency must be positive")
    return args


if __name__ == "__main__":
    arguments = parse_args()
    levels = sorted({8, arguments.concurrency})
    print(
        f"sendMessage through telegram.Bot: {arguments.messages} messages per run to {CHATS} chats, "
        f"sandbox in-process on 127.0.0.1; Python {platform.python_version()}, {os.cpu_count()} CPUs"
    )
    results = asyncio.run(main(arguments.messages, levels))
    print()
    print(table(results))
    sys.exit(1 if any(run.failures for run in results) else 0)
