"""The bot's own CPU per update: what an update costs past python-telegram-bot's Application and the network.

    python bench/update_path.py              # /campaigns, /help, /start in turn from 500 linked members
    python bench/update_path.py --db postgres

``bench/updates.py`` compares the whole bot with an echo bot, both with the Bot API sandbox on the same two
cores, so its rounds swing by a third. This one times only the part that is the bot's own: each update, parsed
by python-telegram-bot beforehand, goes to ``TelegramChannel``'s handler as the Application would hand it
over (its chat's turn, the router's transaction, identity, dialog and handler, the reply's keyboard, the
limiter, the request), and the transport answers at once with a bare success instead of going to a server.
The roster and campaigns are seeded as bench/updates.py seeds them. Prints the CPU microseconds per update
(``time.process_time``) of each round and their minimum and median: the minimum is the figure to compare,
as timeit takes the best of its runs. Never asserts.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from telegram import Update
from telegram._utils.types import ODVInput
from telegram.ext import CallbackContext, ContextTypes
from telegram.request import BaseRequest, RequestData

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.databases import KINDS, bench_database
from bench.load import FIRST_USER, seed
from bench.updates import CAMPAIGNS, COMMANDS
from bot.app import Runtime
from bot.channels.telegram.aiohttp_request import AiohttpRequest
from bot.engine.config import load_settings

ROSTER, LINKED = 10_000, 500
BATCH = 64  # updates handled at once, as the Application hands them over concurrently
_SENT = json.dumps({"ok": True, "result": {"message_id": 1, "date": 0, "chat": {"id": 1, "type": "private"}}})


class AnsweredAtOnce(AiohttpRequest):
    """The bot's transport with the network taken out: every request succeeds at once."""

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """A success, after reading the parameters as a real request would."""
        if request_data is not None:
            request_data.json_parameters  # noqa: B018 - what a request reads from them
        return 200, _SENT.encode()


def update_json(update_id: int, n: int) -> dict[str, Any]:
    """The n-th update: /campaigns, /help, /start in turn from the linked members."""
    user, command = FIRST_USER + n % LINKED, COMMANDS[n % len(COMMANDS)]
    person = {"id": user, "is_bot": False, "first_name": "Đoàn viên", "language_code": "vi"}
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": int(time.time()),
            "chat": {"id": user, "type": "private", "first_name": "Đoàn viên"},
            "from": person,
            "text": command,
            "entities": [{"type": "bot_command", "offset": 0, "length": len(command)}],
        },
    }


async def run(db: str, count: int, rounds: int) -> list[float]:
    """Seed, then hand ``count`` updates to the channel ``rounds`` times; µs of CPU per update each round."""
    with tempfile.TemporaryDirectory(prefix="thidua-path-") as folder:
        async with bench_database(db, Path(folder), "path") as url:
            settings = load_settings(
                _env_file=None,
                database_url=url,
                telegram_token=SecretStr("1:bench"),
                telegram_api_url="http://127.0.0.1:9",
                telegram_rate=10_000.0,
            )
            runtime = Runtime(settings, poll_timeout=1)
            now = datetime.now(UTC)
            await seed(runtime.store, ROSTER, LINKED, now, now.astimezone(settings.zone).date(), CAMPAIGNS)
            channel = runtime.telegram
            assert channel is not None
            request = AnsweredAtOnce()
            channel.app.bot._request = (request, request)  # both of the bot's transports
            channel._request = request  # the replies' own handle on it
            channel.username = "thidua_bot"
            context: ContextTypes.DEFAULT_TYPE = CallbackContext(channel.app)  # which the handler ignores
            micros: list[float] = []
            for round_ in range(rounds):
                updates = [
                    Update.de_json(update_json(round_ * count + n + 1, n), channel.app.bot)
                    for n in range(count)
                ]
                started = time.process_time()
                for first in range(0, count, BATCH):
                    await asyncio.gather(
                        *(channel._on_update(u, context) for u in updates[first : first + BATCH])
                    )
                micros.append(1e6 * (time.process_time() - started) / count)
            await runtime.store.close()
            return micros


def main() -> None:
    """Parse the arguments, run, print the figures."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--updates", type=int, default=6_000, help="updates per round")
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument(
        "--db", choices=KINDS, default="sqlite", help="the bot's database (bench/databases.py)"
    )
    args = parser.parse_args()
    micros = asyncio.run(run(args.db, args.updates, args.rounds))
    print(
        f"{args.updates:,} updates a round ({', '.join(COMMANDS)} in turn) from {LINKED} linked members of "
        f"{ROSTER:,}, {CAMPAIGNS} campaigns, {args.db}; the bot's own CPU per update, the network taken out:"
    )
    print(f"  each round    {', '.join(f'{m:.0f}' for m in micros)} µs")
    print(f"  min / median  {min(micros):.0f} / {statistics.median(micros):.0f} µs")


if __name__ == "__main__":
    main()
