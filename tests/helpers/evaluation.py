"""The year-end evaluation's starting points for tests: more members in Điện lực, their registrations, a
recognised initiative, and the evaluation opened, all stored directly (the chat flows are what tests drive).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from bot.domain.evaluation import TitleDecision, Vote, decide, open_evaluation
from bot.domain.registrations import register_collective, register_member
from bot.domain.roster import import_members
from bot.domain.titles import TitleCap
from bot.engine.access import Identity
from messages.formatting import VIETNAM
from storage.database import Store
from storage.records import Account, Campaign, Pledge, Registration, TitleResult, Unit
from tests.helpers.campaigns import launch_stored, stored_draft
from tests.helpers.initiatives import stored_initiative
from tests.helpers.roster import NOW

# Điện lực Hà Quảng's members beside Mai (DV001): enough for a 15 % cap to matter.
EXTRA_MEMBERS = "member_code,full_name,phone,unit_code\n" + "".join(
    f"DL{n:02d},Đoàn viên Điện lực {n:02d},,CDCS-DL\n" for n in range(1, 8)
)
PLEDGES = (Pledge("Sáng kiến cải tiến", "sáng kiến", "1"), Pledge("Ngày công", "ngày", "250"))
OPENS = date(2026, 3, 20)


async def more_members(store: Store, folder: Path) -> None:
    """Seven more members in CDCS-DL (DL01..DL07), without phones."""
    path = folder / "extra_members.csv"
    path.write_text(EXTRA_MEMBERS, encoding="utf-8")
    await import_members(store, path, actor="test", now=NOW)


async def campaign_with_registrations(
    store: Store,
    codes: list[str],
    titles: list[str],
    opens: date = OPENS,
    pledges: Sequence[Pledge] = PLEDGES,
) -> Campaign:
    """TCN-2026 launched, the members ``codes`` registered for ``titles`` with ``pledges`` (two), and its
    evaluation opening on ``opens``."""
    draft = await stored_draft(store)
    async with store.begin() as repos:
        campaign = await launch_stored(repos, draft)
        for code in codes:
            member = await repos.members.by_code(code)
            assert member is not None
            unit = await repos.units.get(member.unit_id)
            assert unit is not None
            problem = await register_member(
                repos,
                member,
                unit,
                campaign,
                titles=titles,
                pledges=list(pledges),
                initiative_title="Cải tiến quy trình" if "emulation_fighter" in titles else None,
                actor="test",
                now=NOW,
                today=NOW.date(),
            )
            assert problem is None, problem
        problem = await open_evaluation(repos, None, campaign, opens, VIETNAM, NOW, NOW.date())
        assert problem is None, problem
        found = await repos.campaigns.get(campaign.id)
    assert found is not None
    return found


def at_local(day: int, month: int, hour: int) -> datetime:
    """A moment in 2026, Vietnam time, as UTC."""
    return datetime(2026, month, day, hour, tzinfo=VIETNAM).astimezone(UTC)


async def results_of(store: Store, member_code: str, campaign_code: str) -> list[TitleResult]:
    """The evaluation's decisions on the member in the campaign, in the order they were made."""
    async with store.begin() as repos:
        member = await repos.members.by_code(member_code)
        campaign = await repos.campaigns.by_code(campaign_code)
        assert member is not None and campaign is not None
        found = await repos.evaluation.results(campaign.id, [member.unit_id])
    return [result for result in found if result.member_id == member.id]


async def registration_of(store: Store, campaign: Campaign, member_code: str) -> Registration:
    """The member's registration for the campaign."""
    async with store.begin() as repos:
        member = await repos.members.by_code(member_code)
        assert member is not None
        registration = await repos.registrations.of_member(campaign.id, member.id)
    assert registration is not None
    return registration


async def advanced_workers(
    store: Store, campaign: Campaign, codes: Sequence[str], caps: Sequence[TitleCap], now: datetime
) -> None:
    """Lao động tiên tiến reached by these members, decided by the district (LDLD-HQ) with a 9/10 vote on
    the evaluation's day, as the meeting's minutes typed in would leave them."""
    async with store.begin() as repos:
        district = await repos.units.by_code("LDLD-HQ")
        for code in codes:
            member = await repos.members.by_code(code)
            assert member is not None
            registration = await repos.registrations.of_member(campaign.id, member.id)
            assert registration is not None
            problem = await decide(
                repos,
                officer_of(district),
                TitleDecision(campaign, registration, "advanced_worker", True, 0),
                vote=Vote(9, 10),
                note="",
                caps=caps,
                now=now,
                today=OPENS,
            )
            assert problem is None, problem


def officer_of(*units: object) -> Identity:
    """An officer identity leading these units, with no roster entry."""
    account = Account(1, "memory", "9999", "9999", "Cán bộ", None, "vi", True)
    return Identity(account, None, None, tuple(units), False)  # type: ignore[arg-type]


async def collective_registered(
    store: Store, campaigns: Sequence[Campaign], unit_code: str = "CDCS-DL"
) -> Unit:
    """The unit (Điện lực unless said) registered as a collective for Tập thể lao động xuất sắc in each
    campaign, by an officer with no roster entry; the unit."""
    async with store.begin() as repos:
        unit = await repos.units.by_code(unit_code)
        assert unit is not None
        for campaign in campaigns:
            problem = await register_collective(
                repos,
                officer_of(unit),
                unit,
                campaign,
                titles=["excellent_collective"],
                pledges=list(PLEDGES),
                now=NOW,
                today=NOW.date(),
            )
            assert problem is None, problem
    return unit


async def recognised_initiative(store: Store, member_code: str, campaign: Campaign, now: datetime) -> None:
    """A recognised initiative of the member in the campaign, as the council's review would leave it."""
    statuses = ("submitted", "valid", "recognised")
    title = f"Sáng kiến của {member_code}"
    await stored_initiative(store, member_code, campaign.id, title, statuses, now - timedelta(minutes=1))
