"""Reports benchmark: the queries behind /stats and the export, for a province on SQLite or PostgreSQL.

    python bench/stats.py                     # 100,000 members in 800 units, 50,000 initiatives
    python bench/stats.py --small             # 5,000 members in 80 units, 2,500 initiatives, for CI
    python bench/stats.py --members 1000000 --units 10000 --initiatives 200000 --no-export
    python bench/stats.py --db postgres       # the same on a throwaway PostgreSQL server (bench/databases.py)

Seeds a temporary database (a province, about 20 districts, base unions below them; 60% of members
linked, 30% registered, initiatives in every status submitted over 60 days) and builds the per-unit counters
from it as `thidua db recount` does (timed), then prints the best of 3 timings (after one warm-up) against
the target of /stats for a province in <= 300 ms. Never asserts: figures are for people to compare.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.databases import KINDS, bench_database
from bot.domain.campaigns import CampaignSpec, create_draft
from bot.domain.insight_queries import campaign_figures, export_data
from bot.reports.export_xlsx import build_workbook
from storage.database import Repos, Store
from storage.migrate import upgrade_async
from storage.records import Campaign
from storage.tables import (
    channel_accounts,
    initiative_coauthors,
    initiative_history,
    initiatives,
    members,
    registrations,
    units,
)

DISTRICTS = 20
DAYS = 60
TARGET_MS = 300
UTC_OFFSET_HOURS = 7
EXPORT_TIMEOUT = 600.0  # seconds the workbook's child may take, as THIDUA_EXPORT_TIMEOUT in the bot
PROVINCE = "BENCH-P"
# Roughly how an active campaign's initiatives are spread over the review statuses.
STATUSES = (
    ("draft", 8),
    ("submitted", 25),
    ("revision", 5),
    ("valid", 20),
    ("invalid", 7),
    ("recognised", 25),
    ("not_recognised", 5),
    ("withdrawn", 5),
)
FAMILY = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Nông", "Lục")
GIVEN = ("Văn Hùng", "Thị Mai", "Văn Toàn", "Thị Hoa", "Minh Đức", "Thu Trang", "Quốc Bảo", "Ngọc Lan")


async def seed_tree(repos: Repos, unit_count: int, now: datetime) -> list[int]:
    """Province -> districts -> base unions, ids given up front so paths need no second pass.

    Returns the ids of the base unions, where members belong."""
    stamps = {"created_at": now, "updated_at": now}
    rows: list[dict[str, Any]] = [
        {
            "id": 1,
            "code": PROVINCE,
            "name": "LĐLĐ tỉnh thử nghiệm",
            "name_key": "ldld tinh thu nghiem",
            "parent_id": None,
            "path": "/1/",
            "depth": 0,
            **stamps,
        }
    ]
    districts = min(DISTRICTS, max(1, (unit_count - 1) // 10))
    for number in range(districts):
        unit_id = 2 + number
        rows.append(
            {
                "id": unit_id,
                "code": f"D{number}",
                "name": f"LĐLĐ huyện {number}",
                "name_key": f"ldld huyen {number}",
                "parent_id": 1,
                "path": f"/1/{unit_id}/",
                "depth": 1,
                **stamps,
            }
        )
    bases = []
    for unit_id in range(2 + districts, unit_count + 1):
        district = 2 + unit_id % districts
        rows.append(
            {
                "id": unit_id,
                "code": f"B{unit_id}",
                "name": f"CĐCS số {unit_id}",
                "name_key": f"cdcs so {unit_id}",
                "parent_id": district,
                "path": f"/1/{district}/{unit_id}/",
                "depth": 2,
                **stamps,
            }
        )
        bases.append(unit_id)
    await repos.conn.execute(units.insert(), rows)
    return bases


async def seed_people(
    repos: Repos, campaign: Campaign, bases: list[int], count: int, rng: random.Random, now: datetime
) -> None:
    """Members, 60% of them linked on Telegram, 30% registered (and a few withdrawn), collectives too."""
    stamps = {"created_at": now, "updated_at": now}
    await repos.conn.execute(
        members.insert(),
        [
            {
                "id": n,
                "code": f"M{n:07d}",
                "full_name": f"{rng.choice(FAMILY)} {rng.choice(GIVEN)}",
                "phone": f"+849{n:08d}",
                "email": None,
                "unit_id": bases[n % len(bases)],
                "source": "roster",
                **stamps,
            }
            for n in range(1, count + 1)
        ],
    )
    await repos.conn.execute(
        channel_accounts.insert(),
        [
            {
                "channel": "telegram",
                "user_id": str(n),
                "chat_id": str(n),
                "display_name": f"User {n}",
                "member_id": n,
                "reachable": True,
                "linked_at": now,
                "created_at": now,
            }
            for n in range(1, count + 1)
            if rng.random() < 0.6
        ],
    )
    registration: dict[str, Any] = {
        "campaign_id": campaign.id,
        "titles": ["advanced_worker"],
        "pledges": [{"content": "Hoàn thành vượt mức kế hoạch", "unit": "%", "figure": "110"}],
        "initiative_title": None,
        "registered_by": "bench",
        **stamps,
    }
    rows = []
    for n in range(1, count + 1):
        draw = rng.random()
        if draw < 0.32:
            rows.append(
                {
                    **registration,
                    "member_id": n,
                    "unit_id": None,
                    "status": "active" if draw < 0.3 else "withdrawn",
                }
            )
    rows += [
        {**registration, "member_id": None, "unit_id": unit_id, "status": "active"} for unit_id in bases[::3]
    ]
    await repos.conn.execute(registrations.insert(), rows)


async def seed_initiatives(
    repos: Repos, campaign: Campaign, bases: list[int], members_count: int, count: int, rng: random.Random
) -> None:
    """Initiatives in every status, submitted over the last ``DAYS`` days, with co-authors and history."""
    end = datetime.now(UTC)
    statuses = [status for status, _ in STATUSES]
    weights = [weight for _, weight in STATUSES]
    rows, coauthors, history = [], [], []
    for number in range(1, count + 1):
        author = rng.randint(1, members_count)
        status = rng.choices(statuses, weights)[0]
        created = end - timedelta(seconds=rng.randint(0, DAYS * 86_400))
        submitted = None if status == "draft" else created + timedelta(minutes=rng.randint(1, 600))
        rows.append(
            {
                "id": number,
                # A few belong to no campaign: the queries must leave them out.
                "campaign_id": campaign.id if rng.random() < 0.95 else None,
                "author_member_id": author,
                "unit_id": bases[author % len(bases)],
                "title": f"Sáng kiến số {number}",
                "title_key": f"sang kien so {number}",
                "field": "Kỹ thuật",
                "problem": "Quy trình cũ mất nhiều thời gian.",
                "before": "Làm thủ công.",
                "steps": "Tự động hoá khâu kiểm tra.",
                "improvement": "Giảm 30% thời gian.",
                "first_applied_on": created.date(),
                "conditions": "Áp dụng cho toàn đơn vị.",
                "benefit": "Tiết kiệm chi phí.",
                "value_dong": rng.randint(1, 500) * 1_000_000,
                "author_share": 100,
                "status": status,
                "scores": {"novelty": 30, "benefit": 40} if status in ("valid", "recognised") else {},
                "version": 3,
                "created_at": created,
                "updated_at": submitted or created,
                "submitted_at": submitted,
            }
        )
        if rng.random() < 0.3:
            rows[-1]["author_share"] = 60
            coauthors.append({"initiative_id": number, "position": 0, "name": "Trần Văn Nam", "share": 40})
        if submitted is not None:
            history.append(
                {
                    "initiative_id": number,
                    "at": submitted,
                    "actor": "telegram:1",
                    "from_status": "draft",
                    "to_status": "submitted",
                    "note": "",
                }
            )
            if status not in ("submitted", "withdrawn"):
                history.append(
                    {
                        "initiative_id": number,
                        "at": submitted + timedelta(days=1),
                        "actor": "telegram:2",
                        "from_status": "submitted",
                        "to_status": status,
                        "note": "Hội đồng đã xem xét.",
                    }
                )
    await repos.conn.execute(initiatives.insert(), rows)
    await repos.conn.execute(initiative_coauthors.insert(), coauthors)
    await repos.conn.execute(initiative_history.insert(), history)


async def seed(store: Store, members_count: int, unit_count: int, initiative_count: int) -> Campaign:
    """The whole province and a launched campaign with an initiative target."""
    await upgrade_async(store.url)
    rng = random.Random(2026)
    now = datetime.now(UTC)
    today = now.date()
    async with store.begin() as repos:
        bases = await seed_tree(repos, unit_count, now)
        spec = CampaignSpec(
            code="BENCH",
            title="Thi đua lao động giỏi",
            kind="ongoing",
            unit_code=PROVINCE,
            starts_on=today - timedelta(days=DAYS),
            ends_on=today + timedelta(days=30),
            registration_deadline=today + timedelta(days=10),
            initiative_target=initiative_count // 2,
            individual_titles=["advanced_worker"],
        )
        draft = await create_draft(repos, None, spec, "bench", now, today)
        assert isinstance(draft, Campaign)
        assert await repos.campaigns.move(draft.id, "draft", "launched", now)
        campaign = await repos.campaigns.get(draft.id)
        assert campaign is not None
        await seed_people(repos, campaign, bases, members_count, rng, now)
        await seed_initiatives(repos, campaign, bases, members_count, initiative_count, rng)
    return campaign


async def recount(store: Store) -> float:
    """The rows went in past the repositories, as a bulk load would: the counters behind /stats are built
    from them as `thidua db recount` does it (one transaction); returns the seconds it took."""
    started = time.perf_counter()
    async with store.begin() as repos:
        await repos.counters.recount()
    return time.perf_counter() - started


async def best_of_3(store: Store, work: Callable[[Repos], Awaitable[Any]]) -> tuple[float, Any]:
    """The best wall time in ms of three runs after a warm-up, each in its own transaction, and the result."""
    timings = []
    result: Any = None
    for attempt in range(4):
        started = time.perf_counter()
        async with store.begin() as repos:
            result = await work(repos)
        if attempt:
            timings.append((time.perf_counter() - started) * 1000)
    return min(timings), result


async def run(db: str, members_count: int, unit_count: int, initiative_count: int, with_export: bool) -> None:
    """Seed a database of kind ``db`` and time on it, in a temporary folder removed after."""
    folder = Path(tempfile.mkdtemp(prefix="thidua-bench-"))
    try:
        async with bench_database(db, folder, "stats") as url:
            await _run(url, members_count, unit_count, initiative_count, with_export)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


async def _run(
    url: str, members_count: int, unit_count: int, initiative_count: int, with_export: bool
) -> None:
    """Seed, time the /stats queries (and the export's unless ``with_export`` is False), print the figures."""
    seeder = Store(url)
    started = time.perf_counter()
    try:
        campaign = await seed(seeder, members_count, unit_count, initiative_count)
        seeded_in = time.perf_counter() - started
        recounted_in = await recount(seeder)
    finally:
        # Closing checkpoints the write-ahead log, as a running bot's automatic checkpoints would have.
        await seeder.close()
    # The forkserver imports what the bot's does, once, and starts, as with the bot (bot/app.py): ready
    # long before the export, after the timings below.
    store = Store(url, build_preload=("handlers.insights", "bot.reports.export_xlsx"))
    try:
        await store.start_builders()
        path, province = "/1/", 1

        async def member_counts(repos: Repos) -> Any:
            return await repos.stats.member_counts(campaign.id, path)

        async def member_counts_by_child(repos: Repos) -> Any:
            return await repos.stats.member_counts_by_child(campaign.id, province)

        async def initiative_counts(repos: Repos) -> Any:
            return await repos.initiatives.counts(campaign.id, path)

        async def initiative_counts_by_child(repos: Repos) -> Any:
            return await repos.initiatives.counts_by_child(campaign.id, province)

        async def daily_submissions(repos: Repos) -> Any:
            return await repos.stats.daily_submissions(campaign.id, path, UTC_OFFSET_HOURS)

        async def stats(repos: Repos) -> None:
            for query in (
                member_counts,
                member_counts_by_child,
                initiative_counts,
                initiative_counts_by_child,
                daily_submissions,
            ):
                await query(repos)

        async def registration_rows(repos: Repos) -> int:
            return await repos.stats.export_rows(
                lambda rows: sum(1 for _ in rows.registrations(campaign.id, path, [path]))
            )

        async def initiative_rows(repos: Repos) -> int:
            return await repos.stats.export_rows(
                lambda rows: sum(1 for _ in rows.initiatives(campaign.id, path))
            )

        async def recognised_rows(repos: Repos) -> int:
            return await repos.stats.export_rows(
                lambda rows: sum(1 for _ in rows.initiatives(campaign.id, path, status="recognised"))
            )

        async def export(repos: Repos) -> None:
            await registration_rows(repos)
            await initiative_rows(repos)
            await recognised_rows(repos)

        print(
            f"/stats for a province: {members_count:,} members in {unit_count:,} units, "
            f"{initiative_count:,} initiatives ({store.engine.dialect.name}, seeded in {seeded_in:.1f} s)"
        )
        print(f"  counters rebuilt from the rows (thidua db recount) in {recounted_in:.1f} s")
        print(f"  campaign {campaign.code}, initiative target {campaign.initiative_target or 0:,}")
        parts = (
            ("member_counts", member_counts),
            ("member_counts_by_child", member_counts_by_child),
            ("initiatives.counts", initiative_counts),
            ("initiatives.counts_by_child", initiative_counts_by_child),
            ("daily_submissions", daily_submissions),
        )
        for name, query in parts:
            elapsed, result = await best_of_3(store, query)
            print(f"  {name:28} {elapsed:8.1f} ms  {describe(result)}")
        elapsed, _ = await best_of_3(store, stats)
        print(f"  {'/stats queries together':28} {elapsed:8.1f} ms  (target <= {TARGET_MS} ms)")
        if not with_export:
            return
        rows = (
            ("registration_rows", registration_rows),
            ("initiative_rows", initiative_rows),
            ("recognised (the report)", recognised_rows),
        )
        for name, query in rows:
            elapsed, result = await best_of_3(store, query)
            print(f"  {name:28} {elapsed:8.1f} ms  {result:,} rows")
        elapsed, _ = await best_of_3(store, export)
        print(f"  {'export queries':28} {elapsed:8.1f} ms")
        # The whole /export as the bot builds it: in a child process of its own (Store.build_apart, from the
        # forkserver started above, as by a bot's first export), the figures, then the rows from the cursor
        # into the workbook.
        builds = Builds()
        logging.getLogger("storage.database").addHandler(builds)
        logging.getLogger("storage.database").setLevel(logging.INFO)
        rss_before = peak_rss_mb()
        whole_started = time.perf_counter()
        workbook = await store.build_apart(partial(province_workbook, campaign, province), EXPORT_TIMEOUT)
        whole = time.perf_counter() - whole_started
        size = len(workbook) / 1e6
        child_seconds, child_peak = builds.figures[-1]
        print(f"  {'peak RSS':28} {rss_before:8.0f} MB before the export, {peak_rss_mb():.0f} MB after")
        child = f"{child_seconds * 1000:8.1f} ms  its own peak {child_peak:.0f} MB"
        print(f"  {'the workbook in its child':28} {child}")
        print(f"  {'/export end to end':28} {whole * 1000:8.1f} ms  {size:.1f} MB (target <= 5 s)")
    finally:
        await store.close()


async def province_workbook(campaign: Campaign, province: int, repos: Repos) -> bytes:
    """The province's workbook as /export builds it, with a written report's sheet."""
    zone = ZoneInfo("Asia/Ho_Chi_Minh")
    scope = await repos.units.get(province)
    assert scope is not None
    now = datetime.now(UTC)
    figures = await campaign_figures(repos, campaign, scope, now, zone)
    write = partial(build_workbook, language="vi", zone=zone, report_lines=["report"])
    return await export_data(repos, campaign, figures, [scope.path], now, write)


class Builds(logging.Handler):
    """The figures the store logs when a child process has built a file (storage.database)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.figures: list[tuple[float, float]] = []

    def emit(self, record: logging.LogRecord) -> None:
        """Keep a build's seconds and peak memory."""
        if hasattr(record, "build_seconds"):
            self.figures.append((record.build_seconds, getattr(record, "build_peak_mb", 0.0)))


def peak_rss_mb() -> float:
    """The process's peak resident memory so far, in MB (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def describe(result: Any) -> str:
    """A short account of a query's answer, so the figures can be checked against the seed."""
    if isinstance(result, tuple):
        return "roster {:,}, linked {:,}, registered {:,}".format(*result)
    if isinstance(result, dict) and all(isinstance(key, int) for key in result):
        return f"{len(result)} districts"
    if isinstance(result, dict):
        return f"{sum(result.values()):,} over {len(result)} local days"
    return f"submitted {result.submitted:,}, valid {result.valid:,}, recognised {result.recognised:,}"


def main() -> None:
    """Parse the arguments and run."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--units", type=int, default=800)
    parser.add_argument("--initiatives", type=int, default=50_000)
    parser.add_argument("--small", action="store_true", help="5,000 members, 80 units, 2,500 initiatives")
    parser.add_argument("--no-export", action="store_true", help="time /stats only, not the export")
    parser.add_argument(
        "--db", choices=KINDS, default="sqlite", help="where the province is (bench/databases.py)"
    )
    args = parser.parse_args()
    if args.small:
        args.members, args.units, args.initiatives = 5_000, 80, 2_500
    asyncio.run(run(args.db, args.members, args.units, args.initiatives, not args.no_export))


if __name__ == "__main__":
    main()
