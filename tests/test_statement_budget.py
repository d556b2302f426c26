"""How many SQL statements the main commands cost, each on the in-process channels (issue 13: fewer
statements per update). Each budget is what the bot reaches today: a change that adds a query to every
update, or a loop of queries over a list, fails here. BEGIN and COMMIT are not counted.
"""

from __future__ import annotations

import pytest

from bot.domain.campaigns import create_draft
from messages import plain, text
from storage.database import Store
from storage.records import Campaign
from tests.conftest import IN_PROCESS, People
from tests.helpers.campaigns import launch_stored, ongoing_spec
from tests.helpers.flows import Person, linked
from tests.helpers.roster import HUNG, MAI, NOW
from tests.helpers.statements import counted

CAMPAIGNS = 12


async def _launched(store: Store, numbers: range) -> None:
    """Launched campaigns of LDLD-HQ, numbered ``numbers``, stored directly (no one linked yet hears)."""
    today = NOW.date()
    async with store.begin() as repos:
        for number in numbers:
            spec = ongoing_spec(f"NGAN-{number}", f"Phong trào {number}", today)
            campaign = await create_draft(repos, None, spec, "test", NOW, today)
            assert isinstance(campaign, Campaign)
            await launch_stored(repos, campaign)


async def _cost(person: Person, action: str, what: str) -> int:
    """How many statements one update of ``person`` runs: a command sent, or a button pressed."""
    async with counted(person.runtime.store) as statements:
        if action == "send":
            await person.send(what)
        else:
            await person.press(what)
    print(f"{what}: {len(statements)}\n{statements}")  # shown when the test fails
    return len(statements)


# Per update, at what the bot reaches once it has seen the person: one statement for the identities' and the
# campaigns' generations (the identity and the open campaigns are kept while they stand, storage/memo.py)
# with the dialog state; then what the command itself reads.
BUDGET = {
    "/start": 1,
    "/help": 1,
    "/campaigns": 2,  # the member's registrations (the open campaigns are kept: their generation is read
    # with the dialog)
    "press": 5,  # a campaign's card: the campaign, its unit, its targets, the member's registration
    "/cuatoi": 3,  # the member's registrations and initiatives
}
# The first update after a change reads what was kept afresh: the identity's join, the open campaigns.
AFRESH = {"/help": 1, "/campaigns": 2}
# Where menus are numbered, a reply with choices stores them (one upsert) and a typed answer reads them back.
NUMBERED_EXTRA = {"/start": 1, "/help": 0, "/campaigns": 1, "press": 2, "/cuatoi": 0}


def _budget(command: str, channel_kind: str) -> int:
    """The statements ``command`` may run on this channel."""
    return BUDGET[command] + (NUMBERED_EXTRA[command] if channel_kind == "memory-menus" else 0)


# In process only: over HTTP the pollers, the outbox and the scheduler write and read beside the update.
@pytest.mark.parametrize("channel_kind", IN_PROCESS, indirect=True)
async def test_the_main_commands_stay_within_their_statement_budget(
    people: People, store: Store, channel_kind: str
) -> None:
    await _launched(store, range(1))
    mai = await linked(people, MAI)
    await mai.send("/help")  # linking changed her identity: it is read afresh once, then kept
    costs = {
        "/start": await _cost(mai, "send", "/start"),
        "/help": await _cost(mai, "send", "/help"),
    }
    assert "/thongke" not in mai.last_text  # a member's help, without the officers' commands
    afresh = await _cost(mai, "send", "/campaigns")  # the first since the launch reads the list
    costs["/campaigns"] = await _cost(mai, "send", "/campaigns")
    assert afresh == costs["/campaigns"] + AFRESH["/campaigns"] - AFRESH["/help"]
    assert plain(text("vi", "campaigns.member_head")) in mai.last_text and "Phong trào 0" in mai.last_text
    costs["press"] = await _cost(mai, "press", "Phong trào 0")
    assert "NGAN-0" in mai.last_text
    costs["/cuatoi"] = await _cost(mai, "send", "/cuatoi")
    hung = await linked(people, HUNG)  # leads LDLD-HQ: the same one SELECT finds the unit he leads
    officer_help = await _cost(hung, "send", "/help")
    assert "/thongke" in hung.last_text and officer_help <= _budget("/help", channel_kind) + AFRESH["/help"]
    assert await _cost(hung, "send", "/help") <= _budget("/help", channel_kind)
    assert min(costs.values()) >= 1, "the identity and the dialog are read on every update: nothing counted?"
    over = {command: cost for command, cost in costs.items() if cost > _budget(command, channel_kind)}
    assert not over, f"over budget on {channel_kind}: {over}"


# In process only: over HTTP the pollers, the outbox and the scheduler write and read beside the update.
@pytest.mark.parametrize("channel_kind", IN_PROCESS, indirect=True)
async def test_listing_campaigns_costs_the_same_for_one_or_a_dozen(
    people: People, store: Store, channel_kind: str
) -> None:
    await _launched(store, range(1))
    mai = await linked(people, MAI)
    one_afresh, one = await _cost(mai, "send", "/campaigns"), await _cost(mai, "send", "/campaigns")
    await _launched(store, range(1, CAMPAIGNS))
    dozen_afresh, dozen = await _cost(mai, "send", "/campaigns"), await _cost(mai, "send", "/campaigns")
    assert all(f"Phong trào {n}" in mai.last_text for n in range(CAMPAIGNS))
    assert dozen == one <= _budget("/campaigns", channel_kind)
    # A launch changes the campaigns' generation: the list is read afresh once, however long it is.
    assert dozen_afresh == one_afresh - AFRESH["/help"] == dozen + AFRESH["/campaigns"] - AFRESH["/help"]


# In process only: over HTTP the pollers, the outbox and the scheduler write and read beside the update.
@pytest.mark.parametrize("channel_kind", IN_PROCESS, indirect=True)
async def test_an_officers_list_costs_the_same_for_one_campaign_or_a_dozen(
    people: People, store: Store, channel_kind: str
) -> None:
    await _launched(store, range(1))
    hung = await linked(people, HUNG)  # leads LDLD-HQ, where the campaigns are launched
    await hung.send("/campaigns")  # the launch changed the open campaigns: read afresh once
    one = await _cost(hung, "send", "/campaigns")
    await _launched(store, range(1, CAMPAIGNS))
    await hung.send("/campaigns")
    dozen = await _cost(hung, "send", "/campaigns")
    assert all(f"Phong trào {n}" in hung.last_text for n in range(CAMPAIGNS))
    assert dozen == one
