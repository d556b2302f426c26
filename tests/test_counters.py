"""The per-unit counters behind /stats stay equal to a full count of the rows, whatever happens to them, and
``thidua db recount`` repairs them when they do not.

Random operations (seeded) go through the domain's own functions, as the chat and the CLI call them: roster
imports that add and move members, a unit moved to another parent, links by contact, registrations and
withdrawals (and collective ones, never counted), initiatives started, answered, moved to another campaign,
submitted, reviewed and withdrawn. The counters are compared with a count made afresh from the rows
(tests/helpers/counters.py) along the way and at the end.
"""

from __future__ import annotations

import asyncio
import random
import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command

from bot.cli import main
from bot.domain.campaigns import CampaignSpec, create_draft
from bot.domain.initiative_drafts import save_answers, start_draft
from bot.domain.initiatives import CRITERIA, REVIEW_ACTIONS, review, submit
from bot.domain.initiatives import withdraw as withdraw_initiative
from bot.domain.onboarding import LinkOutcome, link_by_contact
from bot.domain.problems import Problem
from bot.domain.registrations import register_collective, register_member, withdraw
from bot.domain.roster import import_members, import_units
from bot.engine.access import Identity
from storage.database import Repos, Store
from storage.migrate import alembic_config, upgrade_async
from storage.records import Campaign
from tests.helpers.counters import counted, stored
from tests.helpers.roster import MEMBERS_CSV, UNITS_CSV

SEED = 13
STEPS = 600
START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
BASES = ("CDCS-DL", "CDCS-YT", "CDCS-THPT")
# The base union that moves between the two districts: a move changes the units above its initiatives.
MOVING_UNIT = "CDCS-DL"
PARENTS = ("LDLD-HQ", "CDN-GD")
UNITS_HEADER = "code,name,parent_code\n"
ANSWERS = {
    "field": "Kỹ thuật",
    "problem": "Quy trình cũ mất nhiều thời gian.",
    "before": "Làm thủ công.",
    "steps": "Tự động hoá khâu kiểm tra.",
    "improvement": "Giảm 30% thời gian.",
    "conditions": "Áp dụng cho toàn đơn vị.",
    "benefit": "Tiết kiệm chi phí.",
    "first_applied_on": date(2026, 2, 1),
}


@dataclass
class Union:
    """What the random walk knows: members' codes with their unit and phone, campaigns, accounts, what
    happened how often."""

    members: dict[str, tuple[str, str]]
    campaigns: list[Campaign]
    folder: Path
    parent: str = PARENTS[0]
    done: dict[str, int] = field(default_factory=dict)


async def _campaign(repos: Repos, code: str) -> Campaign:
    spec = CampaignSpec(
        code=code,
        title=f"Thi đua {code}",
        unit_code="LDLD-CB",
        starts_on=date(2026, 3, 1),
        ends_on=date(2026, 12, 31),
        registration_deadline=date(2026, 6, 30),
        initiative_target=20,
        individual_titles=["advanced_worker"],
        collective_titles=["advanced_collective"],
    )
    draft = await create_draft(repos, None, spec, "test", START, START.date())
    assert isinstance(draft, Campaign)
    assert await repos.campaigns.move(draft.id, "draft", "launched", START)
    launched = await repos.campaigns.get(draft.id)
    assert launched is not None
    return launched


async def _import_members(store: Store, union: Union, now: datetime) -> None:
    lines = [f"{code},Đoàn viên {code},{phone},{unit}" for code, (unit, phone) in union.members.items()]
    path = union.folder / "members.csv"
    path.write_text("member_code,full_name,phone,unit_code\n" + "\n".join(lines) + "\n", encoding="utf-8")
    await import_members(store, path, actor="test", now=now)


async def _reimport(store: Store, union: Union, rng: random.Random, now: datetime) -> None:
    """Some members move to another base union, one or two join."""
    for code, (_, phone) in list(union.members.items()):
        if rng.random() < 0.2:
            union.members[code] = (rng.choice(BASES), phone)
    for _ in range(rng.randint(1, 2)):
        number = len(union.members) + 1
        union.members[f"R{number:03d}"] = (rng.choice(BASES), f"09{number:08d}")
    await _import_members(store, union, now)


async def _move_unit(store: Store, union: Union, now: datetime) -> None:
    """The moving base union goes under the other district."""
    union.parent = PARENTS[1] if union.parent == PARENTS[0] else PARENTS[0]
    lines = [line for line in UNITS_CSV.splitlines()[1:] if line.startswith(f"{MOVING_UNIT},")]
    code, name, _ = lines[0].split(",")
    path = union.folder / "units.csv"
    path.write_text(f"{UNITS_HEADER}{code},{name},{union.parent}\n", encoding="utf-8")
    await import_units(store, path, actor="test", now=now)


async def _step(repos: Repos, union: Union, rng: random.Random, now: datetime) -> str:
    """One random operation inside a transaction; returns its name when it changed something."""
    today = now.date()
    campaign = rng.choice(union.campaigns)
    code = rng.choice(list(union.members))
    member = await repos.members.by_code(code)
    assert member is not None
    found = await repos.members.with_unit(member.id)
    assert found is not None
    _, unit = found
    pick = rng.random()
    if pick < 0.12:  # a member links a chat account by sharing their contact
        channel = rng.choice(("telegram", "zalo"))
        user_id = str(rng.randint(1, 60))
        account = await repos.accounts.touch(channel, user_id, user_id, "Người dùng", now)
        result = await link_by_contact(repos, account, union.members[code][1], user_id, now)
        return "link" if result.outcome is LinkOutcome.LINKED else ""
    if pick < 0.27:
        problem = await register_member(
            repos,
            member,
            unit,
            campaign,
            titles=["advanced_worker"],
            pledges=[],
            initiative_title=None,
            actor="test",
            now=now,
            today=today,
        )
        return "" if problem else "register"
    if pick < 0.33:
        registration = await repos.registrations.of_member(campaign.id, member.id)
        if registration is None or registration.status != "active":
            return ""
        return "" if await withdraw(repos, registration, campaign, "test", now, today) else "withdraw"
    if pick < 0.37:
        root = await repos.units.by_code("LDLD-CB")
        assert root is not None
        officer = await repos.accounts.touch("telegram", "900", "900", "Cán bộ", now)
        admin = Identity(officer, None, None, (root,), is_admin=True)
        problem = await register_collective(
            repos, admin, unit, campaign, titles=["advanced_collective"], pledges=[], now=now, today=today
        )
        return "" if problem else "collective"
    if pick < 0.5:  # a new application, for the campaign or not yet for any, answered at once or later
        draft_id = await start_draft(repos, member, unit, campaign if rng.random() < 0.9 else None, now)
        if rng.random() < 0.85:
            draft = await repos.initiatives.get(draft_id)
            assert draft is not None
            title = f"Sáng kiến số {draft_id} về tiết kiệm"
            await save_answers(repos, draft, now, title=title, title_key=title.lower(), **ANSWERS)
        return "draft"
    mine = await repos.initiatives.of_member(member.id)
    if pick < 0.55 and mine:  # an application moves to another campaign (or gets one, having none)
        initiative = rng.choice(mine)
        other = rng.choice([c for c in union.campaigns if c.id != initiative.campaign_id])
        title = initiative.title or f"Sáng kiến số {initiative.id} về tiết kiệm"
        await save_answers(
            repos, initiative, now, campaign_id=other.id, title=title, title_key=title.lower(), **ANSWERS
        )
        return "recampaign"
    if pick < 0.7:
        ready = [i for i in mine if i.status in ("draft", "revision")]
        return (
            "submit" if ready and await submit(repos, rng.choice(ready), "test", now, today) is None else ""
        )
    if pick < 0.92:
        root = await repos.units.by_code("LDLD-CB")
        assert root is not None
        waiting = await repos.initiatives.queue([root.path], ("submitted", "valid"), 50)
        if not waiting:
            return ""
        initiative = rng.choice(waiting)
        actions = [action for action, (froms, _) in REVIEW_ACTIONS.items() if initiative.status in froms]
        action = "score" if initiative.status == "valid" and not initiative.scores else rng.choice(actions)
        reviewer = await repos.accounts.touch("telegram", "901", "901", "Hội đồng", now)
        council = Identity(reviewer, None, None, (root,), is_admin=True)
        scores = {criterion: rng.randint(1, 10) for criterion in CRITERIA} if action == "score" else None
        reviewed = await review(
            repos,
            council,
            initiative,
            action,
            version=initiative.version,
            note="Cần bổ sung số liệu.",
            scores=scores,
            scale=10,
            now=now,
        )
        return "" if isinstance(reviewed, Problem) else "review"
    if not mine:
        return ""
    gone = await withdraw_initiative(repos, rng.choice(mine), "test", now)
    return "" if gone else "withdraw_initiative"


async def _check(store: Store) -> None:
    assert await stored(store) == await counted(store)


async def _walk(store: Store, folder: Path, steps: int) -> Union:
    """``steps`` random operations on the test roster and two launched campaigns, the counters compared
    with a full count every 60."""
    rng = random.Random(SEED)
    async with store.begin() as repos:
        campaigns = [await _campaign(repos, "TD-A"), await _campaign(repos, "TD-B")]
    union = Union({}, campaigns, folder)
    for line in MEMBERS_CSV.splitlines()[1:]:
        code, _, phone, unit, _ = line.split(",")
        union.members[code] = (unit, phone)
    for number in range(1, 21):
        union.members[f"R{number:03d}"] = (rng.choice(BASES), f"09{number:08d}")
    await _import_members(store, union, START)
    now = START
    for number in range(steps):
        # Every hour or two, so that submissions fall in many different hours and days.
        now += timedelta(minutes=rng.randint(40, 150))
        if number % 45 == 44:
            await _reimport(store, union, rng, now)
            done = "import"
        elif number % 70 == 69:
            await _move_unit(store, union, now)
            done = "move_unit"
        else:
            async with store.begin() as repos:
                done = await _step(repos, union, rng, now)
        union.done[done] = union.done.get(done, 0) + 1
        if number % 60 == 59:
            await _check(store)
    return union


async def test_counters_equal_a_full_count_after_random_operations(store: Store, tmp_path: Path) -> None:
    union = await _walk(store, tmp_path, STEPS)
    await _check(store)
    figures = await stored(store)
    # The walk did reach every path, and the counters hold all kinds of figures.
    assert {"link", "register", "withdraw", "collective", "draft", "recampaign", "submit", "review"} <= set(
        union.done
    ), union.done
    assert {"withdraw_initiative", "import", "move_unit"} <= set(union.done), union.done
    assert figures.linked and figures.registered and figures.submissions
    print(union.done, sorted({status for _, _, status in figures.initiatives}))  # shown on a failure
    assert {status for _, _, status in figures.initiatives} >= {
        "draft",
        "submitted",
        "revision",
        "valid",
        "invalid",
        "recognised",
        "withdrawn",
    }


async def test_the_migration_fills_the_counters_from_the_rows_already_stored(
    store: Store, tmp_path: Path
) -> None:
    await _walk(store, tmp_path, 150)
    config = alembic_config(store.url)
    await asyncio.to_thread(command.downgrade, config, "0011")
    async with store.engine.connect() as conn:
        tables = await conn.run_sync(lambda sync: sa.inspect(sync).get_table_names())
    assert "unit_counts" not in tables and "submission_hours" not in tables
    await upgrade_async(store.url)
    figures = await stored(store)
    assert figures == await counted(store)
    assert figures.linked and figures.registered and figures.initiatives and figures.submissions


async def test_linking_an_account_taken_from_another_member_moves_the_linked_count(store: Store) -> None:
    async with store.begin() as repos:
        mai, hoa = await repos.members.by_code("DV001"), await repos.members.by_code("DV003")
        assert mai is not None and hoa is not None
        account = await repos.accounts.touch("telegram", "77", "77", "Máy chung", START)
        await repos.accounts.link(account.id, mai.id, START)
        await repos.accounts.link(account.id, mai.id, START)  # again: nothing changes
        await repos.accounts.link(account.id, hoa.id, START)
        mai_unit, hoa_unit = await repos.units.get(mai.unit_id), await repos.units.get(hoa.unit_id)
        assert mai_unit is not None and hoa_unit is not None
        assert await repos.members.count_linked_within(mai_unit.path) == 0
        assert await repos.members.count_linked_within(hoa_unit.path) == 1
    await _check(store)


def _break_counters(database: Path) -> None:
    """What a bug or a hand-made SQL fix could leave: figures off, rows missing, rows counting nothing."""
    with sqlite3.connect(database) as conn:
        conn.execute("UPDATE unit_counts SET roster = roster + 5, linked = 0")
        conn.execute("DELETE FROM registration_counts")
        conn.execute("UPDATE initiative_counts SET draft = draft + 2")
        conn.execute("UPDATE submission_hours SET n = 40")
    conn.close()


async def _seed_counted_rows(url: str) -> None:
    """A registration, a linked account and a submitted initiative, through the domain."""
    store = Store(url)
    try:
        async with store.begin() as repos:
            campaign = await _campaign(repos, "TD-A")
            mai = await repos.members.by_code("DV001")
            assert mai is not None
            found = await repos.members.with_unit(mai.id)
            assert found is not None
            unit = found[1]
            account = await repos.accounts.touch("telegram", "1001", "1001", "Mai", START)
            linked = await link_by_contact(repos, account, "0912345678", "1001", START)
            assert linked.outcome is LinkOutcome.LINKED
            problem = await register_member(
                repos,
                mai,
                unit,
                campaign,
                titles=["advanced_worker"],
                pledges=[],
                initiative_title=None,
                actor="test",
                now=START,
                today=START.date(),
            )
            assert problem is None
            draft_id = await start_draft(repos, mai, unit, campaign, START)
            draft = await repos.initiatives.get(draft_id)
            assert draft is not None
            title = "Sáng kiến tiết kiệm điện"
            await save_answers(repos, draft, START, title=title, title_key=title.lower(), **ANSWERS)
            answered = await repos.initiatives.get(draft_id)
            assert answered is not None
            assert await submit(repos, answered, "test", START, START.date()) is None
    finally:
        await store.close()


async def _figures(url: str) -> tuple[object, object]:
    store = Store(url)
    try:
        return await stored(store), await counted(store)
    finally:
        await store.close()


def test_db_recount_repairs_counters_broken_by_hand(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    database = tmp_path / "cli.db"
    url = f"sqlite+aiosqlite:///{database}"
    monkeypatch.setenv("THIDUA_DATABASE_URL", url)
    (tmp_path / "units.csv").write_text(UNITS_CSV, encoding="utf-8")
    (tmp_path / "members.csv").write_text(MEMBERS_CSV, encoding="utf-8")
    assert main(["import", "units", "units.csv"]) == 0
    assert main(["import", "members", "members.csv"]) == 0
    asyncio.run(_seed_counted_rows(url))
    assert main(["db", "recount"]) == 0  # nothing to repair: the writes kept the counters
    _break_counters(database)
    broken, truth = asyncio.run(_figures(url))
    assert broken != truth
    assert main(["db", "recount"]) == 0
    repaired, truth = asyncio.run(_figures(url))
    assert repaired == truth
    out = capsys.readouterr().out.splitlines()
    assert out[-2].endswith(", 0 of them were wrong")
    # Three units with members, one registration row (campaign, unit), one initiative row, its hour at three
    # units (its base union, the district, the province): every one was wrong.
    assert out[-1] == "counters rebuilt: 8 rows, 8 of them were wrong"
