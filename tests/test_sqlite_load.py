"""SQLite under load: an update that finds the database busy when it first writes is answered again on a
fresh transaction, invisibly and exactly once; and many members writing at the same moment all get their
answer and no apology, on PostgreSQL too. (bench/load.py measures the same at 800 members.)"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta

import pytest

from bot.app import Runtime
from bot.channels.capabilities import TELEGRAM
from bot.domain.campaigns import CampaignSpec, create_draft, launch
from bot.engine.clock import ManualClock
from bot.engine.config import Settings, load_settings
from bot.engine.context import Command, Ctx, Role
from bot.engine.events import Incoming, Kind
from bot.engine.router import Router
from bot.sandbox import SandboxUser, TelegramSandbox
from handlers.campaign_views import announcement
from handlers.routes import ROUTES
from messages import LANGUAGES, plain, text
from storage.database import Store
from storage.records import Campaign
from tests.helpers.roster import NOW

MEMBERS = 150
FIRST_USER = 50_000
ANSWER_BOUND = 120.0  # seconds one update may wait for its turn


class Channel:
    """The little a handler may ask of a channel."""

    name = "telegram"
    capabilities = TELEGRAM

    def invite_link(self, code: str) -> str:
        return code


def probe_command() -> Incoming:
    return Incoming("telegram", "7", "7", "Thử", Kind.COMMAND, text="/probe", command="probe")


async def probes_written(store: Store) -> int:
    async with store.begin() as repos:
        return sum(action == "probe" for _, action, _, _ in await repos.audit.recent(100))


@pytest.mark.sqlite_only("SQLite's single write lock; PostgreSQL locks rows")
async def test_an_update_refused_the_write_lock_runs_again_and_its_effect_is_committed_once(
    store: Store, db_url: str
) -> None:
    another_process = Store(db_url)  # its own connections and turn-taking: as another process would be
    locked, release = asyncio.Event(), asyncio.Event()
    attempts: list[int] = []

    async def probe(ctx: Ctx) -> None:
        attempts.append(len(attempts) + 1)
        if len(attempts) == 1:
            release.set()  # the other writer commits: after this transaction began reading, so it is stale
        await ctx.repos.audit.record("test", "probe", "-", {}, ctx.now)
        ctx.say(ctx.t("dialog.back"))

    async def hold_the_write_lock() -> None:
        async with another_process.begin() as repos:
            await repos.audit.record("other", "other", "-", {}, NOW)
            locked.set()
            await release.wait()

    routes = replace(ROUTES, commands=(Command("probe", None, probe, Role.ANYONE),), buttons={}, flows={})
    settings = load_settings(_env_file=None, database_url=db_url)
    router = Router(
        routes, store, settings, ManualClock(NOW), on_commit=lambda: None, on_plans_changed=lambda: None
    )
    await router.handle(Incoming("telegram", "7", "7", "Thử", Kind.TEXT, text="xin chào"), Channel())
    holder = asyncio.create_task(hold_the_write_lock())
    await asyncio.wait_for(locked.wait(), 10)
    handled = await router.handle(probe_command(), Channel())
    await holder
    await another_process.close()
    assert attempts == [1, 2]
    assert [reply.text for reply in handled.replies] == [text("vi", "dialog.back")]
    assert await probes_written(store) == 1


async def test_an_error_other_than_a_busy_database_is_not_retried(store: Store, db_url: str) -> None:
    attempts: list[int] = []

    async def broken(ctx: Ctx) -> None:
        attempts.append(1)
        raise ValueError("a bug")

    routes = replace(ROUTES, commands=(Command("probe", None, broken, Role.ANYONE),), buttons={}, flows={})
    settings = load_settings(_env_file=None, database_url=db_url)
    router = Router(
        routes, store, settings, ManualClock(NOW), on_commit=lambda: None, on_plans_changed=lambda: None
    )
    with pytest.raises(ValueError):
        await router.handle(probe_command(), Channel())
    assert attempts == [1]


@pytest.fixture
async def busy_bot(store: Store, settings: Settings, clock: ManualClock) -> AsyncIterator[Runtime]:
    """The real bot with MEMBERS more members on the roster, a launched province campaign, and Telegram's
    pace raised to paid-broadcast levels so that the replies are not what is being waited for."""
    async with store.begin() as repos:
        province = await repos.units.by_code("LDLD-CB")
        assert province is not None
        for number in range(MEMBERS):
            await repos.members.insert(
                code=f"T{number}",
                full_name=f"Đoàn viên {number}",
                phone=f"+849123{number:05d}",
                email=None,
                unit_id=province.id,
                source="roster",
                now=NOW,
            )
        spec = CampaignSpec(
            code="TAI-2026",
            title="Thi đua thử tải",
            unit_code="LDLD-CB",
            starts_on=NOW.date(),
            ends_on=NOW.date() + timedelta(days=200),
            registration_deadline=NOW.date() + timedelta(days=30),
            individual_titles=["advanced_worker"],
        )
        campaign = await create_draft(repos, None, spec, "test", NOW, NOW.date())
        assert isinstance(campaign, Campaign)
        await launch(
            repos,
            None,
            campaign,
            announcement(campaign, province, LANGUAGES, NOW.date()),
            default_language="vi",
            now=NOW,
            today=NOW.date(),
        )
    runtime = Runtime(settings.model_copy(update={"telegram_rate": 1000.0}), clock, poll_timeout=1)
    await runtime.start()
    yield runtime
    await runtime.stop()


@pytest.mark.sandbox
async def test_many_members_writing_at_once_are_all_answered_without_an_apology(
    sandbox: TelegramSandbox, busy_bot: Runtime
) -> None:
    people = [
        sandbox.user(FIRST_USER + n, "Đoàn viên", str(n), phone=f"09123{n:05d}") for n in range(MEMBERS)
    ]
    assert busy_bot.telegram is not None
    answered = busy_bot.telegram.wait_processed

    async def link_and_read(person: SandboxUser) -> None:
        # Each waits its turn behind everyone else's updates: the bound is generous, nothing is timed.
        await answered(await person.send("/start"), ANSWER_BOUND)
        await answered(await person.share_contact(), ANSWER_BOUND)
        await answered(await person.send("/phongtrao"), ANSWER_BOUND)

    await asyncio.gather(*(link_and_read(person) for person in people))
    apology = plain(text("vi", "fallback.error"))
    listed = plain(text("vi", "campaigns.member_head"))
    assert sum(m.plain_text == apology for person in people for m in person.messages()) == 0
    assert sum(any(listed in m.plain_text for m in person.messages()) for person in people) == MEMBERS
    async with busy_bot.store.begin() as repos:
        linked = [await repos.accounts.get("telegram", str(FIRST_USER + n)) for n in range(MEMBERS)]
    assert sum(account is not None and account.member_id is not None for account in linked) == MEMBERS
