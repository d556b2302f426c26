"""The figures behind /stats and the export, on a small migrated SQLite tree: every number checked by hand.

Province P holds districts A (base unions A1, A2, A3 — A3 empty — and a member of A itself) and B (base union
B1). Campaign C1 is the one counted; C2 is there to be left out.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event

from bot.domain.campaigns import CampaignSpec, create_draft
from bot.domain.insight_queries import campaign_figures
from bot.domain.insights import DeliveryRow, InitiativeRow, RegistrationRow
from storage.database import Repos, Store
from storage.migrate import upgrade
from storage.records import Campaign, CoAuthor, Pledge
from storage.repos import stats
from storage.repos.stats import ExportRows
from tests.helpers.databases import drop_database, new_database

NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
MIDNIGHT_HANOI = datetime(2026, 3, 1, 17, 0, tzinfo=UTC)  # 00:00 on 2 March in UTC+7
MAR_1, MAR_2 = date(2026, 3, 1), date(2026, 3, 2)


@dataclass
class Tree:
    """Ids and paths of the units, the members by first name, the two campaigns and the initiatives."""

    units: dict[str, int]
    paths: dict[str, str]
    people: dict[str, int]
    campaign: int
    other_campaign: int
    initiatives: dict[str, int]


async def _campaign(repos: Repos, code: str) -> int:
    spec = CampaignSpec(
        code=code,
        title=f"Thi đua {code}",
        unit_code="P",
        starts_on=date(2026, 2, 1),
        ends_on=date(2026, 12, 31),
        registration_deadline=date(2026, 6, 30),
        initiative_target=10,
        individual_titles=["advanced_worker"],
        collective_titles=["advanced_collective"],
    )
    campaign = await create_draft(repos, None, spec, "test", NOW, NOW.date())
    assert isinstance(campaign, Campaign)
    return campaign.id


async def _register(
    repos: Repos, campaign_id: int, *, member_id: int | None = None, unit_id: int | None = None
) -> None:
    await repos.registrations.save(
        campaign_id=campaign_id,
        member_id=member_id,
        unit_id=unit_id,
        titles=["advanced_collective" if unit_id else "advanced_worker"],
        pledges=[Pledge("Vượt kế hoạch", "%", "110")],
        initiative_title=None,
        registered_by="test",
        now=NOW,
    )


async def _initiative(repos: Repos, member_id: int, unit_id: int, campaign_id: int) -> int:
    return await repos.initiatives.create_draft(
        author_member_id=member_id, unit_id=unit_id, campaign_id=campaign_id, now=NOW - timedelta(days=3)
    )


async def _move(
    repos: Repos, initiative_id: int, status: str, at: datetime, scores: dict[str, int] | None = None
) -> None:
    found = await repos.initiatives.get(initiative_id)
    assert found is not None
    assert await repos.initiatives.move(
        initiative_id,
        version=found.version,
        from_statuses=(found.status,),
        to_status=status,
        actor="telegram:9",
        note=f"to {status}",
        now=at,
        scores=scores,
    )


async def _submitted(
    repos: Repos, member_id: int, unit_id: int, campaign_id: int, title: str, at: datetime
) -> int:
    initiative_id = await _initiative(repos, member_id, unit_id, campaign_id)
    await repos.initiatives.update_fields(initiative_id, {"title": title, "title_key": title.lower()}, at)
    await _move(repos, initiative_id, "submitted", at)
    return initiative_id


async def _seed(store: Store) -> Tree:
    """Units, members, chat accounts, registrations and initiatives as the module docstring says."""
    async with store.begin() as repos:
        units: dict[str, int] = {}
        paths: dict[str, str] = {}
        for code, parent, depth in (
            ("P", None, 0),
            ("A", "P", 1),
            ("B", "P", 1),
            ("A1", "A", 2),
            ("A2", "A", 2),
            ("A3", "A", 2),
            ("B1", "B", 2),
        ):
            parent_id = units[parent] if parent else None
            units[code] = await repos.units.insert(
                code, f"Đơn vị {code}", f"don vi {code.lower()}", parent_id, NOW
            )
            paths[code] = f"{paths[parent] if parent else '/'}{units[code]}/"
            await repos.units.set_path(units[code], paths[code], depth)
        people: dict[str, int] = {}
        for number, (name, unit) in enumerate(
            (
                ("Nguyễn An", "A1"),
                ("Trần Bình", "A1"),
                ("Lê Cúc", "A2"),
                ("Phạm Dũng", "A"),
                ("Vũ Em", "B1"),
                ("Bùi Giang", "B1"),
            ),
            start=1,
        ):
            people[name.split()[-1]] = await repos.members.insert(
                code=f"DV{number}",
                full_name=name,
                phone=f"+8490000000{number}",
                email=None,
                unit_id=units[unit],
                source="roster",
                now=NOW,
            )
        # An on two channels (counted once), Cúc and Em on one; an account nobody linked counts nowhere.
        for channel, user_id, name in (
            ("telegram", "1", "An"),
            ("zalo", "1", "An"),
            ("telegram", "3", "Cúc"),
            ("telegram", "5", "Em"),
        ):
            account = await repos.accounts.touch(channel, user_id, user_id, name, NOW)
            await repos.accounts.link(account.id, people[name], NOW)
        await repos.accounts.touch("telegram", "99", "99", "Stranger", NOW)

        campaign, other = await _campaign(repos, "C1"), await _campaign(repos, "C2")
        for name in ("An", "Bình", "Cúc", "Dũng", "Em"):
            await _register(repos, campaign, member_id=people[name])
        withdrawn = await repos.registrations.of_member(campaign, people["Bình"])
        assert withdrawn is not None
        assert await repos.registrations.withdraw(withdrawn.id, NOW)
        await _register(repos, campaign, unit_id=units["A1"])
        await _register(repos, campaign, unit_id=units["B1"])
        await _register(repos, other, member_id=people["Giang"])

        found = {
            # One minute before midnight in Hà Nội, then on the stroke and an hour after.
            "late": await _submitted(
                repos, people["An"], units["A1"], campaign, "Máy cắt", MIDNIGHT_HANOI - timedelta(minutes=1)
            ),
            "midnight": await _submitted(
                repos, people["Cúc"], units["A2"], campaign, "Băng tải", MIDNIGHT_HANOI
            ),
            "b": await _submitted(
                repos, people["Em"], units["B1"], campaign, "Kho lạnh", MIDNIGHT_HANOI + timedelta(hours=1)
            ),
            "withdrawn": await _submitted(
                repos, people["Bình"], units["A1"], campaign, "Sổ tay", MIDNIGHT_HANOI - timedelta(hours=7)
            ),
            "draft": await _initiative(repos, people["Dũng"], units["A"], campaign),
            "other": await _submitted(repos, people["Giang"], units["B1"], other, "Khác", MIDNIGHT_HANOI),
        }
        await _move(repos, found["withdrawn"], "withdrawn", NOW)
        await _move(repos, found["midnight"], "valid", NOW, {"novelty": 30})
        await _move(repos, found["midnight"], "recognised", NOW + timedelta(hours=1))
        await repos.initiatives.set_coauthors(
            found["midnight"], 60, [CoAuthor("Hà Văn Phúc", 30), CoAuthor("Đỗ Thị Quế", 10)], NOW
        )
    return Tree(units, paths, people, campaign, other, found)


@pytest.fixture(scope="module")
def seeded(postgres_url: str | None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Tree]]:
    """The database, migrated and seeded once: each test works on its own copy."""
    url = asyncio.run(new_database(postgres_url, tmp_path_factory.mktemp("stats")))
    upgrade(url)

    async def seed() -> Tree:
        store = Store(url)
        try:
            return await _seed(store)
        finally:
            await store.close()  # every connection closed, so a copy holds it all

    yield url, asyncio.run(seed())
    asyncio.run(drop_database(postgres_url, url))


@pytest.fixture
def database_template(seeded: tuple[str, Tree]) -> str:
    """Each test's ``store`` is a fresh copy of the seeded database."""
    return seeded[0]


@pytest.fixture
def tree(seeded: tuple[str, Tree]) -> Tree:
    """What the seeded database holds."""
    return seeded[1]


async def test_member_counts_of_a_subtree_count_linked_people_once_and_only_active_registrations(
    store: Store, tree: Tree
) -> None:
    async with store.begin() as repos:
        counts = {
            code: await repos.stats.member_counts(tree.campaign, tree.paths[code]) for code in tree.paths
        }
        other = await repos.stats.member_counts(tree.other_campaign, tree.paths["P"])
    # (roster, linked, registered): Bình withdrew, Giang registered for C2 only, An has two accounts.
    assert counts == {
        "P": (6, 3, 4),
        "A": (4, 2, 3),
        "B": (2, 1, 1),
        "A1": (2, 1, 1),
        "A2": (1, 1, 1),
        "A3": (0, 0, 0),
        "B1": (2, 1, 1),
    }
    assert other == (6, 3, 1)


async def test_member_counts_by_child_cover_each_childs_whole_subtree(store: Store, tree: Tree) -> None:
    u = tree.units
    async with store.begin() as repos:
        below_province = await repos.stats.member_counts_by_child(tree.campaign, u["P"])
        below_a = await repos.stats.member_counts_by_child(tree.campaign, u["A"])
        below_a1 = await repos.stats.member_counts_by_child(tree.campaign, u["A1"])
    assert below_province == {u["A"]: (4, 2, 3), u["B"]: (2, 1, 1)}
    # Dũng belongs to A itself, so to none of its children; A3 has nobody and still shows.
    assert below_a == {u["A1"]: (2, 1, 1), u["A2"]: (1, 1, 1), u["A3"]: (0, 0, 0)}
    assert below_a1 == {}


async def test_the_chart_counts_submissions_made_before_the_start_or_after_the_end(
    store: Store, tree: Tree
) -> None:
    # Initiatives may be submitted once a campaign is launched, before it starts: the chart's line read
    # "0/50 (0%)" under /stats saying "1/50".
    hanoi = ZoneInfo("Asia/Ho_Chi_Minh")
    async with store.begin() as repos:
        campaign = await repos.campaigns.get(tree.campaign)
        province = await repos.units.get(tree.units["P"])
        assert campaign is not None and province is not None
        later = await campaign_figures(
            repos, replace(campaign, starts_on=MAR_2, ends_on=MAR_2), province, NOW, hanoi
        )
        earlier = await campaign_figures(repos, replace(campaign, ends_on=MAR_1), province, NOW, hanoi)
    for figures in (later, earlier):
        assert sum(count for _, count in figures.daily_submissions) == figures.scope.submitted == 3
    # The line runs over the days they came, before the first day or after the last.
    assert later.daily_submissions == [(MAR_1, 1), (MAR_2, 2)]
    assert earlier.daily_submissions[-1] == (MAR_2, 2)


async def test_daily_submissions_fall_on_the_local_day(store: Store, tree: Tree) -> None:
    p, a, b = tree.paths["P"], tree.paths["A"], tree.paths["B"]
    async with store.begin() as repos:
        hanoi = await repos.stats.daily_submissions(tree.campaign, p, 7)
        utc = await repos.stats.daily_submissions(tree.campaign, p, 0)
        new_york = await repos.stats.daily_submissions(tree.campaign, p, -5)
        in_a = await repos.stats.daily_submissions(tree.campaign, a, 7)
        in_b = await repos.stats.daily_submissions(tree.campaign, b, 7)
        in_a3 = await repos.stats.daily_submissions(tree.campaign, tree.paths["A3"], 7)
    # Withdrawn, draft and the other campaign's initiatives are left out.
    assert hanoi == {MAR_1: 1, MAR_2: 2}
    assert utc == {MAR_1: 3}
    assert new_york == {MAR_1: 3}
    assert in_a == {MAR_1: 1, MAR_2: 1}
    assert in_b == {MAR_2: 1}
    assert in_a3 == {}


def _row(
    unit: str, code: str | None, name: str | None, phone: str | None, status: str = "active"
) -> RegistrationRow:
    collective = code is None
    return RegistrationRow(
        unit_name=f"Đơn vị {unit}",
        member_code=code,
        full_name=name,
        phone=phone,
        titles=["advanced_collective" if collective else "advanced_worker"],
        pledges=[("Vượt kế hoạch", "%", "110")],
        initiative_title=None,
        status=status,
        updated_at=NOW,
    )


async def test_registration_rows_order_by_unit_then_name_and_show_phones_only_where_covered(
    store: Store, tree: Tree
) -> None:
    async with store.begin() as repos:
        province, district_b, no_phones = await repos.stats.export_rows(
            lambda rows: [
                list(rows.registrations(tree.campaign, tree.paths["P"], [tree.paths["A1"]])),
                list(rows.registrations(tree.campaign, tree.paths["B"], [tree.paths["P"]])),
                list(rows.registrations(tree.campaign, tree.paths["A2"], [])),
            ]
        )
    assert province == [
        _row("A", "DV4", "Phạm Dũng", None),
        _row("A1", None, None, None),
        _row("A1", "DV1", "Nguyễn An", "+84900000001"),
        _row("A1", "DV2", "Trần Bình", "+84900000002", "withdrawn"),
        _row("A2", "DV3", "Lê Cúc", None),
        _row("B1", None, None, None),
        _row("B1", "DV5", "Vũ Em", None),
    ]
    assert district_b == [_row("B1", None, None, None), _row("B1", "DV5", "Vũ Em", "+84900000005")]
    assert no_phones == [_row("A2", "DV3", "Lê Cúc", None)]


async def test_initiative_rows_leave_drafts_out_and_carry_coauthors_and_history(
    store: Store, tree: Tree
) -> None:
    i = tree.initiatives
    async with store.begin() as repos:
        province, district_a, district_b = await repos.stats.export_rows(
            lambda rows: [list(rows.initiatives(tree.campaign, tree.paths[unit])) for unit in "PAB"]
        )
    assert [row.id for row in province] == [i["withdrawn"], i["late"], i["midnight"], i["b"]]
    assert [row.id for row in district_a] == [i["withdrawn"], i["late"], i["midnight"]]
    assert [row.id for row in district_b] == [i["b"]]
    recognised = province[2]
    assert (recognised.unit_name, recognised.author_code, recognised.author_name) == (
        "Đơn vị A2",
        "DV3",
        "Lê Cúc",
    )
    assert (recognised.title, recognised.status, recognised.scores) == (
        "Băng tải",
        "recognised",
        {"novelty": 30},
    )
    assert recognised.author_share == 60
    assert recognised.coauthors == [("Hà Văn Phúc", 30), ("Đỗ Thị Quế", 10)]
    assert recognised.submitted_at == MIDNIGHT_HANOI
    assert [(e.at, e.actor, e.to_status, e.note) for e in recognised.history] == [
        (MIDNIGHT_HANOI, "telegram:9", "submitted", "to submitted"),
        (NOW, "telegram:9", "valid", "to valid"),
        (NOW + timedelta(hours=1), "telegram:9", "recognised", "to recognised"),
    ]
    withdrawn = province[0]
    assert (withdrawn.status, withdrawn.coauthors, withdrawn.author_share) == ("withdrawn", [], 100)
    assert [entry.to_status for entry in withdrawn.history] == ["submitted", "withdrawn"]


async def test_a_written_report_reads_the_recognised_initiatives_alone(store: Store, tree: Tree) -> None:
    async with store.begin() as repos:
        recognised = await repos.stats.export_rows(
            lambda rows: list(rows.initiatives(tree.campaign, tree.paths["P"], status="recognised"))
        )
    assert [(row.id, row.coauthors) for row in recognised] == [
        (tree.initiatives["midnight"], [("Hà Văn Phúc", 30), ("Đỗ Thị Quế", 10)])
    ]


async def test_a_written_report_reads_no_review_history(store: Store, tree: Tree) -> None:
    """The report names no step of a review: its initiatives come without their history, never read."""
    statements: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    engine = store.loop_engine or store.engine.sync_engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        async with store.begin() as repos:
            recognised = await repos.stats.export_rows(
                lambda rows: list(
                    rows.initiatives(tree.campaign, tree.paths["P"], status="recognised", with_history=False)
                )
            )
    finally:
        event.remove(engine, "before_cursor_execute", note)
    assert [(row.id, row.coauthors, row.history) for row in recognised] == [
        (tree.initiatives["midnight"], [("Hà Văn Phúc", 30), ("Đỗ Thị Quế", 10)], [])
    ]
    assert statements and not [s for s in statements if "FROM initiative_history" in s]


async def test_initiative_rows_come_from_the_cursor_a_batch_at_a_time(
    store: Store, tree: Tree, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The export never gathers co-authors for every initiative first: the first row comes once its own
    batch's co-authors are read, the next batch's only when the workbook asks for its rows."""
    i = tree.initiatives
    monkeypatch.setattr(stats, "EXPORT_BATCH", 2)
    coauthors_asked_for: list[int] = []  # how many initiatives each co-author query named

    def note(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if "FROM initiative_coauthors" in statement:
            coauthors_asked_for.append(len(parameters))

    engine = store.loop_engine or store.engine.sync_engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        async with store.begin() as repos:

            def first_then_all(rows: ExportRows) -> tuple[list[int], list[InitiativeRow]]:
                found = rows.initiatives(tree.campaign, tree.paths["P"])
                first = next(found)
                return list(coauthors_asked_for), [first, *found]

            asked_at_first, province = await repos.stats.export_rows(first_then_all)
    finally:
        event.remove(engine, "before_cursor_execute", note)
    assert asked_at_first == [2]
    assert coauthors_asked_for == [2, 2]
    assert [row.id for row in province] == [i["withdrawn"], i["late"], i["midnight"], i["b"]]
    assert province[2].coauthors == [("Hà Văn Phúc", 30), ("Đỗ Thị Quế", 10)]
    assert [entry.to_status for entry in province[2].history] == ["submitted", "valid", "recognised"]


async def test_delivery_rows_count_each_broadcast_of_the_campaign_by_outcome_within_the_subtree(
    store: Store, tree: Tree
) -> None:
    async with store.begin() as repos:
        announcement = await repos.broadcasts.create(
            kind="announcement",
            title="Phát động",
            campaign_id=tree.campaign,
            unit_id=tree.units["P"],
            requested_by=None,
            now=NOW,
        )
        queued = await repos.outbox.enqueue_for_subtree(
            path=tree.paths["P"],
            kind="announcement",
            broadcast_id=announcement,
            messages={"vi": {"text": "Phát động"}},
            default_language="vi",
            now=NOW,
        )
        await repos.broadcasts.set_total(announcement, queued, NOW)
        items = await repos.outbox.claim_due(NOW, "test", NOW, 10)
        for item, status in zip(items, ("sent", "unreachable", "failed"), strict=False):
            await repos.outbox.finish(item.id, status, NOW)
        reminder = await repos.broadcasts.create(
            kind="reminder",
            title="Nhắc",
            campaign_id=tree.campaign,
            unit_id=tree.units["A"],
            requested_by=None,
            now=NOW + timedelta(days=1),
        )
        await repos.broadcasts.create(
            kind="announcement",
            title="C2",
            campaign_id=tree.other_campaign,
            unit_id=tree.units["P"],
            requested_by=None,
            now=NOW,
        )
        rows, district_a, district_b = await repos.stats.export_rows(
            lambda rows: [list(rows.deliveries(tree.campaign, tree.paths[unit])) for unit in "PAB"]
        )
    assert reminder and queued == 3  # An, on two channels, is sent one copy
    # A district sees its own members' share of the province's announcement, and not a sibling's reminder.
    assert [(row.title, row.total) for row in district_a] == [("Phát động", 2), ("Nhắc", 0)]
    assert [(row.title, row.total) for row in district_b] == [("Phát động", 1)]
    assert rows == [
        DeliveryRow("announcement", "Phát động", NOW, 3, sent=1, unreachable=1, failed=1, pending=0),
        DeliveryRow(
            "reminder", "Nhắc", NOW + timedelta(days=1), 0, sent=0, unreachable=0, failed=0, pending=0
        ),
    ]
