"""Export benchmark: an officer's /export of a province while members keep writing to the bot.

    python bench/export.py             # 100,000 members in 800 units, 50,000 initiatives; 200 members
    python bench/export.py --small     # 5,000 members, 80 units, 2,500 initiatives; 50 members, for CI

Seeds the province of bench/stats.py into a temporary SQLite file in a child process (so the peak memory
measured is the bot's, not the seeder's), then runs the real Runtime on the in-process channel: first the
members alone (/start and /help in turn, each member waiting for an answer before the next), then the same
while the province's officer asks for /export, until its workbook arrives. Prints the export's time from
the command to the reply, the workbook's size, the process's resident memory before it and its peak, and
the members' reply times (p50, p95, max) alone and during the export, with any apology they got, and how
long the workbook's child process took and its own peak memory (it is not the bot's). Never asserts: figures
are for people to compare.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.load import percentile
from bench.stats import PROVINCE, Builds, seed
from bot.app import Runtime
from bot.channels.memory import WITH_BUTTONS, MemoryChannel
from bot.engine.config import load_settings
from bot.engine.events import Incoming, Kind
from messages import plain, text
from storage.database import Store

OFFICER = "1"  # the province's officer, on the in-process channel
FIRST_MEMBER = 1_000_000
ROUNDS_ALONE = 3  # each member's /start and /help before the export


def command(user_id: str, words: str) -> Incoming:
    """A command typed by ``user_id`` on the in-process channel."""
    head, *args = words.split()
    return Incoming(
        "memory",
        user_id,
        user_id,
        f"User {user_id}",
        Kind.COMMAND,
        text=words,
        command=head[1:],
        args=tuple(args),
    )


class Members:
    """Members writing /start and /help in turn, each waiting for the answer before the next."""

    def __init__(self, channel: MemoryChannel, count: int) -> None:
        self.channel = channel
        self.ids = [str(FIRST_MEMBER + number) for number in range(count)]
        self.apology = plain(text("vi", "fallback.error"))

    async def one(self, user_id: str, words: str) -> float:
        """Seconds until ``words`` of ``user_id`` is answered."""
        started = time.perf_counter()
        # A message comes from the network: the loop runs what is ready before it (counted in its time).
        # Without this, a member's next message never gives the loop back (SQLite runs on the loop and an
        # answer waits for nothing), and neither the export's result nor anyone else is ever let in.
        await asyncio.sleep(0)
        await self.channel.receive(command(user_id, words))
        return time.perf_counter() - started

    async def rounds(self, count: int) -> list[float]:
        """Every member's reply times over ``count`` rounds."""

        async def member(user_id: str) -> list[float]:
            return [await self.one(user_id, words) for _ in range(count) for words in ("/start", "/help")]

        return [seconds for times in await asyncio.gather(*map(member, self.ids)) for seconds in times]

    async def until(self, done: asyncio.Event) -> list[float]:
        """Every member's reply times, writing again and again until ``done`` is set."""

        async def member(user_id: str) -> list[float]:
            times: list[float] = []
            while not done.is_set():
                times.append(await self.one(user_id, "/start" if len(times) % 2 == 0 else "/help"))
            return times

        return [seconds for times in await asyncio.gather(*map(member, self.ids)) for seconds in times]

    def apologies(self) -> int:
        """Apologies the members were sent ("fallback.error")."""
        return sum(sent.plain_text == self.apology for user in self.ids for sent in self.channel.sent(user))


def rss_mb() -> float:
    """The process's resident memory now, in MB."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * resource.getpagesize() / 1e6


def peak_rss_mb() -> float:
    """The process's peak resident memory so far, in MB (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6


def spread(times: list[float]) -> str:
    """p50, p95 and max of reply times, in ms."""
    if not times:
        return "no replies"
    return (
        f"p50 {statistics.median(times) * 1000:7.1f} ms  p95 {percentile(times, 0.95) * 1000:7.1f} ms  "
        f"max {max(times) * 1000:7.1f} ms  ({len(times):,} replies)"
    )


async def run(url: str, members_count: int) -> None:
    """Start the bot, measure the members alone, then during an export."""
    settings = load_settings(_env_file=None, database_url=url, quiet_hours=False)
    channel = MemoryChannel(WITH_BUTTONS, settings.language)
    runtime = Runtime(settings, memory=channel)
    builds = Builds()
    logging.getLogger("storage.database").addHandler(builds)
    logging.getLogger("storage.database").setLevel(logging.INFO)
    await runtime.start()
    try:
        members = Members(channel, members_count)
        alone = await members.rounds(ROUNDS_ALONE)
        before, peak_before = rss_mb(), peak_rss_mb()
        done = asyncio.Event()

        async def export() -> float:
            seconds = await members.one(OFFICER, "/baocao BENCH")
            done.set()
            return seconds

        exported, during = await asyncio.gather(export(), members.until(done))
        file = channel.sent(OFFICER)[-1].file
        size = f"{len(file.content) / 1e6:.1f} MB workbook" if file is not None else "NO WORKBOOK"
        print(f"  {'/export end to end':26} {exported:7.2f} s   {size}")
        print(f"  {'resident memory':26} {before:7.0f} MB before, peak {peak_rss_mb():.0f} MB", end="")
        print(f" (peak before it {peak_before:.0f} MB)")
        for seconds, peak_mb in builds.figures:
            print(f"  {'the workbook in its child':26} {seconds:7.2f} s   its own peak {peak_mb:.0f} MB")
        print(f"  {'members alone':26} {spread(alone)}")
        print(f"  {'members during the export':26} {spread(during)}")
        print(f"  {'apologies to members':26} {members.apologies()}")
    finally:
        await runtime.stop()


async def seed_into(url: str, members_count: int, unit_count: int, initiative_count: int) -> None:
    """The province of bench/stats.py, in ``url``."""
    store = Store(url)
    try:
        await seed(store, members_count, unit_count, initiative_count)
        async with store.begin() as repos:
            province = await repos.units.by_code(PROVINCE)
            assert province is not None
            await repos.roles.grant_to_user(province.id, "memory", OFFICER, "bench", datetime.now(UTC))
    finally:
        await store.close()  # checkpoints the write-ahead log


def main() -> None:
    """Parse the arguments, seed in a child process, run."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--units", type=int, default=800)
    parser.add_argument("--initiatives", type=int, default=50_000)
    parser.add_argument("--asking", type=int, default=200, help="members writing during the export")
    parser.add_argument("--small", action="store_true", help="5,000 members, 80 units, 2,500 initiatives")
    parser.add_argument("--seed-into", help=argparse.SUPPRESS)  # the child's task: seed this URL, exit
    args = parser.parse_args()
    if args.small:
        args.members, args.units, args.initiatives, args.asking = 5_000, 80, 2_500, 50
    if args.seed_into:
        asyncio.run(seed_into(args.seed_into, args.members, args.units, args.initiatives))
        return
    folder = Path(tempfile.mkdtemp(prefix="thidua-bench-"))
    url = f"sqlite:///{folder / 'export.db'}"
    try:
        started = time.perf_counter()
        sizes = [
            "--members",
            str(args.members),
            "--units",
            str(args.units),
            "--initiatives",
            str(args.initiatives),
        ]
        subprocess.run([sys.executable, __file__, "--seed-into", url, *sizes], check=True)
        seeded = time.perf_counter() - started
        print(
            f"/export of a province: {args.members:,} members in {args.units:,} units, {args.initiatives:,} "
            f"initiatives, {args.asking} members writing (SQLite, seeded in {seeded:.1f} s)"
        )
        asyncio.run(run(url, args.asking))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
