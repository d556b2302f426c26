"""Updates benchmark: the full bot against the floor, a bare python-telegram-bot echo bot, in one run.

    python bench/updates.py            # 2,000 updates from 500 linked members of a 10,000-member roster
    python bench/updates.py --small    # 300 updates from 100 linked members of 1,000, one round, for CI
    python bench/updates.py --paced 200   # the full bot alone, updates arriving at 200/s as it runs
    python bench/updates.py --db postgres # the full bot on PostgreSQL (bench/databases.py)

Both bots take their updates from the same Bot API sandbox (in a child process, as bench/load.py runs it, so
the CPU figures are the bot's) through the same aiohttp transport
(bot/channels/telegram/aiohttp_request.py), with python-telegram-bot answering up to
MAX_CONCURRENT_UPDATES updates at once:
1. the echo bot: an Application with one MessageHandler that replies with the text; no database;
2. the full bot: ``Runtime`` with its SQLite file in a temporary folder (or ``--db postgres``), the roster
   and a dozen launched campaigns seeded as bench/load.py seeds them.
Each is given the same queue of updates (/campaigns, /help, /start in turn from the linked members), queued
before it starts polling; three rounds of the two (``--rounds``), a new full bot each round (nothing kept
from the round before), and the best round of each is compared, as timeit takes the best of its runs: other
work on the machine only ever slows a run down. Every round's ratio is printed too. Prints for each:
updates/s and CPU ms per update (the process's ``resource.getrusage``, its threads included, from ``start``
to the last answer; of it, the time Python's garbage collector took) and the p50/p95/p99 reply time (from
``start`` to each update's answer), then the ratios full/echo. Never asserts: figures are for people to
compare (issue 13's target: the full bot at >= 50% of the floor, <= 2 ms CPU per update).

The full bot's replies go through its rate limiter (python-telegram-bot's AIORateLimiter) as in production,
at 10,000 messages/s (``--rate``, the highest THIDUA_TELEGRAM_RATE takes) so that it costs what it costs
without setting the pace: at 1,000/s (Telegram's paid-broadcast ceiling, the other benchmarks' rate) it holds
the bot to ~1,000 replies/s, under half of the echo floor's ~2,300, whatever the code costs; the bare echo
bot has no limiter.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import resource
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from pydantic import SecretStr
from telegram import Update
from telegram.ext import Application, ContextTypes, MessageHandler, TypeHandler, filters

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.databases import KINDS, bench_database
from bench.load import FIRST_USER, Members, Session, percentile, sandbox_session, seed
from bot.app import Runtime
from bot.channels.telegram.aiohttp_request import AiohttpRequest
from bot.channels.telegram.channel import ALLOWED_UPDATES, MAX_CONCURRENT_UPDATES
from bot.engine.config import load_settings
from messages import plain, text

COMMANDS = ("/campaigns", "/help", "/start")
CAMPAIGNS = 12
WAIT_SECONDS = 1800.0  # for the last answer of a run: a bound, not an expectation
QUEUE_CONCURRENCY = 32  # control calls in flight while the updates are queued

AnyApplication = Application[Any, Any, Any, Any, Any, Any]
_DATABASE = {"sqlite": "SQLite", "postgres": "PostgreSQL"}


@dataclass(frozen=True)
class Figures:
    """One bot's run."""

    updates: int
    seconds: float
    cpu_seconds: float
    reply_seconds: list[float]
    gc_seconds: float  # of the CPU: Python's garbage collector, all generations

    @property
    def gc_ms(self) -> float:
        """Milliseconds per update spent collecting garbage."""
        return 1000 * self.gc_seconds / self.updates

    @property
    def rate(self) -> float:
        """Updates answered per second, wall clock."""
        return self.updates / self.seconds

    @property
    def cpu_ms(self) -> float:
        """The bot process's CPU milliseconds per update."""
        return 1000 * self.cpu_seconds / self.updates


class Answers:
    """When each update was answered: a handler in a later group of the bot's Application runs once the
    bot's own handler is done. ``done`` is set once every id in ``waiting`` has been answered."""

    def __init__(self, app: AnyApplication, update_ids: list[int]) -> None:
        self.waiting = set(update_ids)
        self.at: dict[int, float] = {}
        self.done = asyncio.Event()
        if not self.waiting:
            self.done.set()
        app.add_handler(TypeHandler(Update, self._answered), group=1)

    def expect(self, update_id: int) -> None:
        """Wait for this update too (it may already have been answered)."""
        if update_id not in self.at:
            self.waiting.add(update_id)
            self.done.clear()

    async def _answered(self, update: Update, _context: object) -> None:
        self.at[update.update_id] = time.perf_counter()
        self.waiting.discard(update.update_id)
        if not self.waiting:
            self.done.set()


class CollectorTime:
    """The time Python's garbage collector takes while it is counted (``gc.callbacks``)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._began = 0.0

    def __enter__(self) -> CollectorTime:
        gc.callbacks.append(self._phase)
        return self

    def __exit__(self, *_: object) -> None:
        gc.callbacks.remove(self._phase)

    def _phase(self, phase: str, _info: dict[str, int]) -> None:
        if phase == "start":
            self._began = time.perf_counter()
        elif self._began:
            self.seconds += time.perf_counter() - self._began


def cpu_seconds() -> float:
    """User and system CPU of this process so far, all its threads (the sandbox child is not counted)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def queue_updates(members: Members, linked: int, count: int) -> list[int]:
    """``count`` updates, /campaigns, /help and /start in turn from the linked members; their ids."""
    update_ids: list[int] = []
    for first in range(0, count, QUEUE_CONCURRENCY):  # batches of distinct members: theirs queue in order
        batch = range(first, min(count, first + QUEUE_CONCURRENCY))
        update_ids += await asyncio.gather(
            *(members.act(FIRST_USER + n % linked, "send", COMMANDS[n % len(COMMANDS)]) for n in batch)
        )
    return update_ids


async def measure(
    app: AnyApplication,
    start: Callable[[], Awaitable[None]],
    stop: Callable[[], Awaitable[None]],
    ids: list[int],
) -> Figures:
    """Start a bot whose updates are queued, wait for the answer to each, stop it; its figures."""
    answers = Answers(app, ids)
    with CollectorTime() as collector:
        cpu_before = cpu_seconds()
        started = time.perf_counter()
        await start()
        await asyncio.wait_for(answers.done.wait(), WAIT_SECONDS)
        elapsed = max(answers.at.values()) - started
        cpu = cpu_seconds() - cpu_before
    await stop()
    replies = [at - started for at in answers.at.values()]
    return Figures(len(ids), elapsed, cpu, replies, collector.seconds)


async def measure_paced(
    runtime: Runtime, members: Members, linked: int, count: int, per_second: float
) -> tuple[float, list[float]]:
    """Start the full bot, then send ``count`` updates at a steady ``per_second`` while it runs; the rate
    kept and each update's reply time (from the moment it was sent to its answer)."""
    assert runtime.telegram is not None
    answers = Answers(runtime.telegram.app, [])
    await runtime.start()
    sent: dict[int, float] = {}
    started = time.perf_counter()

    async def send(n: int) -> None:
        at = time.perf_counter()
        update_id = await members.act(FIRST_USER + n % linked, "send", COMMANDS[n % len(COMMANDS)])
        sent[update_id] = at
        answers.expect(update_id)

    sending = []
    for n in range(count):  # each at its moment, whatever the ones before are doing
        await asyncio.sleep(max(0.0, started + n / per_second - time.perf_counter()))
        sending.append(asyncio.create_task(send(n)))
    await asyncio.gather(*sending)
    kept = count / (time.perf_counter() - started)
    await asyncio.wait_for(answers.done.wait(), WAIT_SECONDS)
    await runtime.stop()
    return kept, [answers.at[update_id] - at for update_id, at in sent.items()]


def echo_bot(token: str, api_url: str) -> AnyApplication:
    """The floor: python-telegram-bot on the bot's aiohttp transport, replying with the text it got."""

    async def echo(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None and update.message.text is not None
        await update.message.reply_text(update.message.text)

    app: AnyApplication = (
        Application.builder()
        .token(token)
        .base_url(f"{api_url}/bot")
        .base_file_url(f"{api_url}/file/bot")
        .request(AiohttpRequest())
        .get_updates_request(AiohttpRequest(connection_pool_size=1))
        .concurrent_updates(MAX_CONCURRENT_UPDATES)
        .build()
    )
    app.add_handler(MessageHandler(filters.TEXT, echo))
    return app


async def run_echo(token: str, api_url: str, update_ids: list[int]) -> Figures:
    """The echo bot's run over the queued updates."""
    app = echo_bot(token, api_url)

    async def start() -> None:
        # A bare echo bot runs in a process of its own. Here it shares one with the benchmark and all the
        # full bot imported, objects its own collections would never walk: they are frozen out of them
        # while it runs (its collector keeps Python's default thresholds), a floor no lower than its own.
        gc.freeze()
        await app.initialize()
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(
            poll_interval=0, timeout=timedelta(seconds=1), allowed_updates=ALLOWED_UPDATES
        )

    async def stop() -> None:
        assert app.updater is not None
        await app.updater.stop()
        await app.stop()
        await app.shutdown()
        gc.unfreeze()

    return await measure(app, start, stop, update_ids)


def report(name: str, figures: Figures) -> None:
    """One bot's lines."""
    replies = figures.reply_seconds
    print(f"  {name}")
    print(f"    updates/s            {figures.rate:8.0f}   ({figures.updates:,} in {figures.seconds:.2f} s)")
    print(f"    CPU per update       {figures.cpu_ms:8.2f} ms   ({figures.gc_ms:.2f} ms collecting garbage)")
    for label, share in (("p50", 0.50), ("p95", 0.95), ("p99", 0.99)):
        print(f"    reply time {label}       {percentile(replies, share):8.2f} s")


def full_bot(bench: Session, url: str, rate: float) -> Runtime:
    """The full bot on the session's sandbox and this database, fresh (nothing kept from an earlier run)."""
    settings = load_settings(
        _env_file=None,
        database_url=url,
        telegram_token=SecretStr(bench.token),
        telegram_api_url=bench.api_url,
        telegram_rate=rate,
    )
    return Runtime(settings, poll_timeout=1)


async def seeded_runtime(bench: Session, url: str, roster: int, linked: int, rate: float) -> Runtime:
    """The full bot on the session's sandbox, its database seeded with the roster and the campaigns."""
    runtime = full_bot(bench, url, rate)
    now = datetime.now(UTC)
    today = now.astimezone(runtime.settings.zone).date()
    await seed(runtime.store, roster, linked, now, today, CAMPAIGNS)
    return runtime


async def run_paced(db: str, roster: int, linked: int, count: int, rate: float, per_second: float) -> None:
    """Seed, then send updates at ``per_second`` to the full bot as it runs; print the reply times."""
    with sandbox_session(linked, "thidua-updates-") as bench:
        async with bench_database(db, bench.folder, "updates") as url:
            await _run_paced(bench, url, db, roster, linked, count, rate, per_second)


async def _run_paced(
    bench: Session, url: str, db: str, roster: int, linked: int, count: int, rate: float, per_second: float
) -> None:
    runtime = await seeded_runtime(bench, url, roster, linked, rate)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=QUEUE_CONCURRENCY)) as session:
        kept, replies = await measure_paced(
            runtime, Members(session, bench.control_url), linked, count, per_second
        )
    print(
        f"{count:,} updates ({', '.join(COMMANDS)} in turn) sent at {per_second:,.0f}/s to the full "
        f"bot (Runtime, {_DATABASE[db]}) as it runs, from {linked:,} linked members of {roster:,}, "
        f"{CAMPAIGNS} campaigns"
    )
    print(f"  rate kept              {kept:8.0f} /s")
    for label, share in (("p50", 0.50), ("p95", 0.95), ("p99", 0.99)):
        print(f"  reply time {label}         {percentile(replies, share):8.3f} s   (target p99 < 1 s)")
    print(f"  errors logged          {bench.errors.count:8d} {bench.errors.first[:200]}")


async def run(db: str, roster: int, linked: int, count: int, rate: float, rounds: int) -> None:
    """Seed, then in each round run the echo bot and the full bot over the same queue; print the figures."""
    with sandbox_session(linked, "thidua-updates-") as bench:
        async with bench_database(db, bench.folder, "updates") as url:
            await _run(bench, url, db, roster, linked, count, rate, rounds)


async def _run(
    bench: Session, url: str, db: str, roster: int, linked: int, count: int, rate: float, rounds: int
) -> None:
    runtime = await seeded_runtime(bench, url, roster, linked, rate)
    echoes: list[Figures] = []
    fulls: list[Figures] = []
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=QUEUE_CONCURRENCY)) as session:
        members = Members(session, bench.control_url)
        for round_ in range(rounds):
            if round_:  # a new process's bot: nothing kept from the round before
                await runtime.store.close()
                runtime = full_bot(bench, url, rate)
            assert runtime.telegram is not None
            echoes.append(
                await run_echo(bench.token, bench.api_url, await queue_updates(members, linked, count))
            )
            full_ids = await queue_updates(members, linked, count)
            fulls.append(await measure(runtime.telegram.app, runtime.start, runtime.stop, full_ids))
        texts = await members.texts()
    await runtime.store.close()
    apology = plain(text("vi", "fallback.error"))
    apologies = sum(said == apology for seen in texts.values() for said in seen)
    listed = plain(text("vi", "campaigns.member_head"))
    lists = sum(listed in said for seen in texts.values() for said in seen)
    print(
        f"{count:,} queued updates ({', '.join(COMMANDS)} in turn) from {linked:,} linked members "
        f"of {roster:,}, {CAMPAIGNS} campaigns; limit {rate:,.0f} msg/s; {rounds} round(s), each the echo "
        "bot then the full bot; the best round of each:"
    )
    echo, full = max(echoes, key=lambda f: f.rate), max(fulls, key=lambda f: f.rate)
    report("echo bot (python-telegram-bot, aiohttp transport, no database)", echo)
    report(f"full bot (Runtime, {_DATABASE[db]})", full)
    print(f"  full/echo updates/s    {full.rate / echo.rate:8.3f}   (target >= 0.50; best against best)")
    print(f"  full/echo CPU          {full.cpu_ms / echo.cpu_ms:8.1f} x")
    each = ", ".join(f"{f.rate / e.rate:.3f}" for e, f in zip(echoes, fulls, strict=True))
    print(f"  full/echo each round   {each}")
    asked = len(range(0, count, len(COMMANDS))) * rounds
    print(f"  campaign lists seen    {lists:8d} of {asked} /campaigns")
    print(f"  apologies              {apologies:8d}")
    print(f"  errors logged          {bench.errors.count:8d} {bench.errors.first[:200]}")


UNBOUND_RATE = 10_000.0
"""The full bot's rate limit here, the highest the setting takes: the limiter is paid for, never waited on."""


def queue_parser(description: str, bots: str, round_: str, rate: float = 1000.0) -> argparse.ArgumentParser:
    """The options of a benchmark over queued updates: their number, the roster, the linked members who send
    them, ``--small``, the rate limit of ``bots`` (``rate`` unless given) and the rounds, each ``round_``."""
    parser = argparse.ArgumentParser(
        description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--updates", type=int, default=2_000)
    parser.add_argument("--members", type=int, default=10_000, help="members on the roster")
    parser.add_argument("--linked", type=int, default=500, help="members linked, who send the updates")
    parser.add_argument("--small", action="store_true", help="300 updates, 100 linked of 1,000, for CI")
    parser.add_argument("--rate", type=float, default=rate, help=f"THIDUA_TELEGRAM_RATE of {bots}")
    parser.add_argument("--rounds", type=int, default=3, help=f"{round_}, this many times; the best of each")
    return parser


def main() -> None:
    """Parse the arguments and run."""
    parser = queue_parser(__doc__ or "", "the full bot", "echo then full", UNBOUND_RATE)
    parser.add_argument(
        "--paced", type=float, metavar="PER_SECOND", help="send to the full bot at this steady rate instead"
    )
    parser.add_argument(
        "--db", choices=KINDS, default="sqlite", help="the full bot's database (bench/databases.py)"
    )
    args = parser.parse_args()
    os.environ.setdefault("PTB_TIMEDELTA", "1")
    if args.paced:
        count, roster, linked = (300, 1_000, 100) if args.small else (args.updates, args.members, args.linked)
        asyncio.run(run_paced(args.db, roster, linked, count, args.rate, args.paced))
    elif args.small:
        asyncio.run(run(args.db, 1_000, 100, 300, args.rate, 1))
    else:
        asyncio.run(run(args.db, args.members, args.linked, args.updates, args.rate, args.rounds))


if __name__ == "__main__":
    main()
