"""Kept reads (storage/memo.py): an identity and a lineage's open campaigns are kept between updates only
while their generation stands; the triggers of migration 0017 raise it whoever writes, so a second instance
on the same database, or a write earlier in the same transaction, is never answered from what was kept."""

from __future__ import annotations

import importlib.util
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

import storage
from bot.domain.campaigns import create_draft
from bot.domain.officers import grant_officer
from storage.database import Store
from storage.memo import generation
from storage.records import Campaign, Seen
from storage.repos.accounts import ACCOUNT_COLUMNS
from storage.repos.members import MEMBER_COLUMNS
from storage.repos.units import UNIT_COLUMNS
from storage.tables import campaigns, channel_accounts, members, officer_roles, units
from tests.helpers.campaigns import ongoing_spec
from tests.helpers.roster import NOW
from tests.helpers.statements import counted

ACCOUNT = ("telegram", "5001")


async def _identity(store: Store, *, name: str = "Mai", minutes: int = 0) -> Seen:
    async with store.begin() as repos:
        at = NOW + timedelta(minutes=minutes)
        return await repos.accounts.touch_identity(*ACCOUNT, ACCOUNT[1], name, at)


async def _generations(store: Store) -> tuple[int, int]:
    async with store.begin() as repos:
        return await generation(repos.conn, "identity"), await generation(repos.conn, "campaigns")


@pytest.fixture
async def mai(store: Store) -> Seen:
    """Mai's Telegram account, linked to DV001 (Hoàng Thị Mai, CDCS-DL)."""
    seen = await _identity(store)
    async with store.begin() as repos:
        member = await repos.members.by_code("DV001")
        assert member is not None
        await repos.accounts.link(seen.account.id, member.id, NOW)
    return await _identity(store)


@pytest.fixture
async def other_instance(db_url: str) -> AsyncIterator[Store]:
    """A second store on the same database, as a second ``thidua run`` has."""
    other = Store(db_url)
    yield other
    await other.close()


@pytest.mark.parametrize(
    ("table", "column", "value"),
    [
        (channel_accounts, "display_name", "Mai (Zalo)"),
        (channel_accounts, "language", "en"),
        (channel_accounts, "reachable", False),
        (members, "full_name", "Hoàng Thị Mai Anh"),
        (members, "phone", "0900000000"),
        (units, "name", "Công đoàn Điện lực (mới)"),
        (officer_roles, "", None),  # a role granted: a new row
    ],
)
async def test_what_an_identity_is_read_from_raises_its_generation(
    store: Store, mai: Seen, table: sa.Table, column: str, value: object
) -> None:
    before = await _generations(store)
    async with store.begin() as repos:
        if table is officer_roles:
            unit = await repos.units.by_code("CDCS-DL")
            assert unit is not None and mai.member is not None
            assert await repos.roles.grant_to_member(unit.id, mai.member.id, "test", NOW)
        else:
            assert mai.member is not None and mai.unit is not None
            ids = {"channel_accounts": mai.account.id, "members": mai.member.id, "units": mai.unit.id}
            await repos.conn.execute(
                table.update().where(table.c.id == ids[table.name]).values({column: value})
            )
    identity, campaigns_generation = await _generations(store)
    assert identity > before[0] and campaigns_generation == before[1]


async def test_a_kept_identity_costs_one_small_select(store: Store, mai: Seen) -> None:
    async with counted(store) as statements:
        assert await _identity(store, minutes=0) == mai
    assert len(statements) == 1 and "generations" in statements.seen[0]


async def test_being_seen_again_keeps_the_generation(store: Store, mai: Seen) -> None:
    before = await _generations(store)
    later = await _identity(store, minutes=90)  # a minute's step passed: last seen is written
    async with store.begin() as repos:
        seen_at = (
            await repos.conn.execute(
                sa.select(channel_accounts.c.last_seen_at).where(channel_accounts.c.id == mai.account.id)
            )
        ).scalar_one()
    assert seen_at == NOW + timedelta(minutes=90)
    assert later == mai and await _generations(store) == before


async def test_a_role_granted_by_another_instance_is_seen_at_the_next_update(
    store: Store, other_instance: Store, mai: Seen
) -> None:
    assert mai.led_units == ()
    assert await _identity(store) == mai  # kept
    await grant_officer(other_instance, "CDCS-DL", member_code="DV001", actor="test", now=NOW)
    now_officer = await _identity(store)
    assert [unit.code for unit in now_officer.led_units] == ["CDCS-DL"]


async def test_a_member_moved_by_another_instance_is_seen_in_the_new_unit(
    store: Store, other_instance: Store, mai: Seen
) -> None:
    assert mai.unit is not None and mai.unit.code == "CDCS-DL"
    async with other_instance.begin() as repos:
        thpt = await repos.units.by_code("CDCS-THPT")
        assert thpt is not None and mai.member is not None
        await repos.conn.execute(
            members.update().where(members.c.id == mai.member.id).values(unit_id=thpt.id)
        )
    moved = await _identity(store)
    assert moved.unit is not None and moved.unit.code == "CDCS-THPT"


async def test_a_write_earlier_in_the_transaction_is_read_back_not_the_kept_identity(
    store: Store, mai: Seen
) -> None:
    async with store.begin() as repos:
        await repos.conn.execute(
            channel_accounts.update().where(channel_accounts.c.id == mai.account.id).values(language="en")
        )
        again = await repos.accounts.touch_identity(*ACCOUNT, ACCOUNT[1], "Mai", NOW)
    assert again.account.language == "en"


async def _launch(store: Store, code: str) -> Campaign:
    spec = ongoing_spec(code, f"Phong trào {code}", NOW.date())
    async with store.begin() as repos:
        campaign = await create_draft(repos, None, spec, "test", NOW, NOW.date())
        assert isinstance(campaign, Campaign)
        await repos.conn.execute(
            campaigns.update().where(campaigns.c.id == campaign.id).values(status="launched")
        )
        return campaign


async def _open_codes(store: Store, lineage: tuple[int, ...]) -> list[str]:
    async with store.begin() as repos:
        return [campaign.code for campaign in await repos.campaigns.launched_for(lineage)]


async def test_campaigns_closed_or_launched_by_another_instance_leave_the_kept_list(
    store: Store, other_instance: Store, mai: Seen
) -> None:
    assert mai.unit is not None
    lineage = mai.unit.lineage
    first = await _launch(store, "THANG-5")
    assert await _open_codes(store, lineage) == ["THANG-5"]
    assert await _open_codes(store, lineage) == ["THANG-5"]  # kept
    await _launch(other_instance, "SANG-KIEN")
    assert sorted(await _open_codes(store, lineage)) == ["SANG-KIEN", "THANG-5"]
    async with other_instance.begin() as repos:
        await repos.conn.execute(campaigns.update().where(campaigns.c.id == first.id).values(status="closed"))
    assert await _open_codes(store, lineage) == ["SANG-KIEN"]


async def test_a_campaign_launched_after_the_opening_read_is_listed_not_the_kept_list(
    store: Store, mai: Seen
) -> None:
    assert mai.unit is not None
    lineage = mai.unit.lineage
    await _launch(store, "THANG-5")
    assert await _open_codes(store, lineage) == ["THANG-5"]  # kept
    async with store.begin() as repos:  # as the router begins an update: the generations read first
        repos.campaigns_generation = (await repos.dialogs.opening(*ACCOUNT)).campaigns_generation
        spec = ongoing_spec("SANG-KIEN", "Phong trào SANG-KIEN", NOW.date())
        campaign = await create_draft(repos, None, spec, "test", NOW, NOW.date())
        assert isinstance(campaign, Campaign)
        assert await repos.campaigns.move(campaign.id, "draft", "launched", NOW)
        listed = [campaign.code for campaign in await repos.campaigns.launched_for(lineage)]
    assert sorted(listed) == ["SANG-KIEN", "THANG-5"]


def test_the_triggers_watch_every_column_an_identity_is_read_from() -> None:
    path = Path(storage.__file__).parent / "migrations" / "versions" / "0017_generations.py"
    spec = importlib.util.spec_from_file_location("generations_migration", path)
    assert spec is not None and spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    read = {
        "channel_accounts": ACCOUNT_COLUMNS,
        "members": MEMBER_COLUMNS,
        "units": UNIT_COLUMNS,
        "officer_roles": (officer_roles.c.unit_id, officer_roles.c.member_id, officer_roles.c.channel),
    }
    for table, columns in read.items():
        kind, watched = migration.WATCHED[table]
        assert kind == "identity"
        assert {column.name for column in columns} - {"id"} <= set(watched), table
