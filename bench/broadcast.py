"""Broadcast benchmark: launch a campaign to N linked members and measure how fast the outbox delivers.

    python bench/broadcast.py                 # 10,000 members at 1,000 msg/s (Telegram's paid broadcast rate)
    python bench/broadcast.py --small         # 1,000 members, for CI

The Bot API sandbox runs in its own process so the figures are the bot's alone. Prints the delivery rate as
a share of the configured limit (target >= 95%), the time to queue the launch and the bot's peak memory.
Never asserts: figures are for people to compare.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from pydantic import SecretStr

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.app import Runtime, prepare_database
from bot.domain.campaigns import CampaignSpec, create_draft, launch
from bot.engine.config import load_settings
from handlers.campaign_views import announcement
from messages import LANGUAGES
from storage.database import Store
from storage.records import Campaign
from storage.tables import channel_accounts, members, outbox, units

FIRST_USER = 100_000
UNITS = 40
SEED_CHUNK = 5_000  # rows a seeding INSERT


def start_sandbox(members: int) -> tuple[subprocess.Popen[str], str, str]:
    """The sandbox in a child process, with a chat for every member."""
    child = subprocess.Popen(
        [sys.executable, "-m", "bot.sandbox", "--users", f"{FIRST_USER}:{members}"],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert child.stdout is not None
    ready = child.stdout.readline().split()
    if not ready or ready[0] != "READY":
        child.kill()
        raise SystemExit("the sandbox did not start")
    return child, ready[1], ready[2]


async def seed(store: Store, count: int, now: datetime) -> None:
    """A federation with base unions and ``count`` members, each with a linked Telegram account."""
    await prepare_database(store)
    async with store.begin() as repos:
        root = await repos.units.insert("BENCH", "LĐLĐ tỉnh thử nghiệm", "ldld tinh thu nghiem", None, now)
        await repos.units.set_path(root, f"/{root}/", 0)
        unit_ids = []
        for number in range(UNITS):
            unit_id = await repos.units.insert(
                f"B{number}", f"CĐCS số {number}", f"cdcs so {number}", root, now
            )
            await repos.units.set_path(unit_id, f"/{root}/{unit_id}/", 1)
            unit_ids.append(unit_id)
        conn = repos.conn
        for first in range(0, count, SEED_CHUNK):  # in chunks: the seeding must not set the peak RSS
            await conn.execute(
                members.insert(),
                [
                    {
                        "code": f"M{n}",
                        "full_name": f"Đoàn viên {n}",
                        "unit_id": unit_ids[n % UNITS],
                        "source": "roster",
                        "created_at": now,
                        "updated_at": now,
                    }
                    for n in range(first, min(count, first + SEED_CHUNK))
                ],
            )
        ids = dict(
            (await conn.execute(members.select().with_only_columns(members.c.code, members.c.id))).all()
        )
        for first in range(0, count, SEED_CHUNK):
            await conn.execute(
                channel_accounts.insert(),
                [
                    {
                        "channel": "telegram",
                        "user_id": str(FIRST_USER + n),
                        "chat_id": str(FIRST_USER + n),
                        "display_name": f"User {n}",
                        "member_id": ids[f"M{n}"],
                        "reachable": True,
                        "quiet_start": 0,  # no quiet hours: the figures must not depend on the time of day
                        "quiet_end": 0,
                        "created_at": now,
                    }
                    for n in range(first, min(count, first + SEED_CHUNK))
                ],
            )
        assert (await conn.execute(units.select())).all()


async def run(count: int, rate: float) -> None:
    """Seed, launch, wait for the broadcast to finish, print the figures."""
    child, api_url, token = start_sandbox(count)
    scratch = tempfile.TemporaryDirectory(prefix="thidua-bench-")
    folder = Path(scratch.name)
    try:
        settings = load_settings(
            _env_file=None,
            database_url=f"sqlite:///{folder / 'bench.db'}",
            telegram_token=SecretStr(token),
            telegram_api_url=api_url,
            telegram_rate=rate,
        )
        now = datetime.now(UTC)
        today = date.today()
        runtime = Runtime(settings, poll_timeout=1)
        await seed(runtime.store, count, now)
        seeded_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        await runtime.start()
        spec = CampaignSpec(
            code="BENCH",
            title="Tháng Công nhân",
            kind="peak",
            unit_code="BENCH",
            starts_on=today,
            ends_on=today + timedelta(days=30),
            registration_deadline=today + timedelta(days=20),
            individual_titles=["advanced_worker"],
        )
        queue_started = time.perf_counter()
        async with runtime.store.begin() as repos:
            campaign = await create_draft(repos, None, spec, "bench", now, today)
            assert isinstance(campaign, Campaign)
            unit = await repos.units.get(campaign.unit_id)
            assert unit is not None
            result = await launch(
                repos,
                None,
                campaign,
                announcement(campaign, unit, LANGUAGES, today),
                default_language="vi",
                now=now,
                today=today,
            )
        queued_in = time.perf_counter() - queue_started
        runtime.outbox.wake()
        started = time.perf_counter()
        await runtime.outbox.wait_idle(timeout=3600)
        elapsed = time.perf_counter() - started
        async with runtime.store.begin() as repos:
            [progress] = await repos.broadcasts.progress([result.broadcast_id])  # type: ignore[union-attr]
            retried = (
                await repos.conn.execute(
                    sa.select(outbox.c.error, sa.func.count())
                    .where(outbox.c.attempts > 1)
                    .group_by(outbox.c.error)
                )
            ).all()
        await runtime.stop()
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        achieved = progress.sent / elapsed
        print(f"broadcast to {count:,} members at a limit of {rate:,.0f} msg/s")
        print(f"  queued in            {queued_in * 1000:8.0f} ms")
        print(
            f"  delivered            {progress.sent:8,} sent, {progress.failed} failed, "
            f"{progress.unreachable} unreachable, {progress.pending} pending"
        )
        reasons = "; ".join(f"{error}: {count}" for error, count in retried) or "-"
        print(f"  retried              {sum(count for _, count in retried):8,} ({reasons})")
        print(f"  elapsed              {elapsed:8.2f} s")
        share = 100 * achieved / rate
        print(f"  delivery rate        {achieved:8.0f} msg/s = {share:.1f}% of the limit (target >= 95%)")
        print(f"  bot peak RSS         {peak_mb:8.0f} MB (target <= 200 MB; {seeded_mb:.0f} after seeding)")
    finally:
        child.terminate()
        child.wait(timeout=10)
        scratch.cleanup()


def main() -> None:
    """Parse the arguments and run."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=1000.0)
    parser.add_argument("--small", action="store_true", help="1,000 members, for CI")
    args = parser.parse_args()
    os.environ.setdefault("PTB_TIMEDELTA", "1")
    asyncio.run(run(1_000 if args.small else args.members, args.rate))


if __name__ == "__main__":
    main()
