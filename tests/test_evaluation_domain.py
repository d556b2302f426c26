"""The evaluation's rules without a chat: opening it plans reminders, the vote is read and checked, a
self-assessment is submitted once, and a decision is refused for a cap, a missing initiative, a stale card,
a unit outside the officer's reach, or a second time; what was reached is counted per unit."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.domain import evaluation
from bot.domain.problems import Problem
from bot.domain.titles import TitleCap, parse_caps
from messages.formatting import VIETNAM
from storage.database import Store
from storage.records import Campaign, PledgeResult
from tests.helpers.evaluation import (
    OPENS,
    campaign_with_registrations,
    more_members,
    officer_of,
    recognised_initiative,
    registration_of,
)

DAY = OPENS
NOW = datetime(2026, 3, 20, 3, 0, tzinfo=UTC)
CAPS = (TitleCap("emulation_fighter", 15, "advanced_worker"),)
BOTH = ["advanced_worker", "emulation_fighter"]
VOTE = evaluation.Vote(18, 20)


def test_the_vote_is_agreed_over_present_and_never_more_agreed_than_present() -> None:
    assert evaluation.parse_vote("18/20") == evaluation.Vote(18, 20)
    assert evaluation.parse_vote(" 7 trên 9 ") == evaluation.Vote(7, 9)
    assert evaluation.parse_vote("21/20") == Problem(
        "vote", "vote_above_present", {"agreed": 21, "present": 20}
    )
    assert evaluation.parse_vote("0/0") == Problem("vote", "vote_present", {"high": evaluation.VOTES_MAX})
    assert isinstance(evaluation.parse_vote("nhiều"), Problem)


def test_caps_are_read_from_the_setting_and_bad_ones_named() -> None:
    assert parse_caps("emulation_fighter:15:advanced_worker, strong_union:50:excellent_collective") == (
        TitleCap("emulation_fighter", 15, "advanced_worker"),
        TitleCap("strong_union", 50, "excellent_collective"),
    )
    assert CAPS[0].allowed(7) == 1 and CAPS[0].allowed(6) == 0
    with pytest.raises(ValueError, match="hero:15"):
        parse_caps("hero:15:advanced_worker")


async def _decide(
    store: Store,
    campaign: Campaign,
    code: str,
    title: str,
    reached: bool = True,
    version: int = 0,
    unit: str = "LDLD-HQ",
) -> Problem | None:
    """The decision on the member's registration for ``title``, by an officer of ``unit``."""
    registration = await registration_of(store, campaign, code)
    async with store.begin() as repos:
        officer = officer_of(await repos.units.by_code(unit))
        decision = evaluation.TitleDecision(campaign, registration, title, reached, version)
        return await evaluation.decide(
            repos, officer, decision, vote=VOTE, note="", caps=CAPS, now=NOW, today=DAY
        )


async def test_opening_the_evaluation_plans_reminders_to_the_registered_not_yet_assessed(
    store: Store,
) -> None:
    campaign = await campaign_with_registrations(store, ["DV001"], ["advanced_worker"])
    assert campaign.evaluation_opens_on == OPENS
    async with store.begin() as repos:
        [rule] = await repos.reminders.active_rules("evaluation")
        planned = [s.due_at for s in await repos.reminders.planned() if s.rule.id == rule.id]
    assert (rule.campaign_id, rule.audience) == (campaign.id, "not_assessed")
    # 08:00 in Hà Nội 7, 3 and 1 days before the opening, and on the day itself.
    assert [moment.astimezone(VIETNAM).strftime("%d/%m %H:%M") for moment in planned] == [
        "13/03 08:00",
        "17/03 08:00",
        "19/03 08:00",
        "20/03 08:00",
    ]


async def test_a_cap_a_missing_initiative_and_a_second_decision_are_refused(
    store: Store, tmp_path: Path
) -> None:
    await more_members(store, tmp_path)
    codes = ["DV001", *(f"DL{n:02d}" for n in range(1, 8))]
    campaign = await campaign_with_registrations(store, codes, BOTH)
    # No recognised initiative: no Chiến sĩ thi đua.
    assert await _decide(store, campaign, "DV001", "emulation_fighter") == Problem(
        "evaluation", "needs_initiative"
    )
    await recognised_initiative(store, "DV001", campaign, NOW)
    await recognised_initiative(store, "DL01", campaign, NOW)
    # Six Lao động tiên tiến: 15 % of six is none.
    for code in codes[:6]:
        assert await _decide(store, campaign, code, "advanced_worker") is None
    refused = await _decide(store, campaign, "DV001", "emulation_fighter")
    assert refused == Problem(
        "evaluation",
        "cap_exceeded",
        {"title": "emulation_fighter", "percent": 15, "of_title": "advanced_worker", "base": 6, "allowed": 0},
    )
    # The seventh makes room for one; the second is refused again, and "not reached" is always possible.
    assert await _decide(store, campaign, codes[6], "advanced_worker") is None
    assert await _decide(store, campaign, "DV001", "emulation_fighter") is None
    assert (
        await _decide(store, campaign, "DL01", "emulation_fighter") or Problem("", "")
    ).code == "cap_exceeded"
    assert await _decide(store, campaign, "DL01", "emulation_fighter", reached=False) is None
    assert await _decide(store, campaign, "DV001", "advanced_worker") == Problem(
        "evaluation", "already_decided"
    )
    async with store.begin() as repos:
        dl = await repos.units.by_code("CDCS-DL")
        assert dl is not None
        counted = await evaluation.titles_reached(repos, [campaign])
        actions = [action for _, action, _, _ in await repos.audit.recent(50)]
    assert counted == [
        evaluation.ReachedCount(dl.id, "advanced_worker", 7, 0),
        evaluation.ReachedCount(dl.id, "emulation_fighter", 1, 0),
    ]
    assert actions.count("evaluation.decide") == 9


async def test_outside_the_officers_units_or_on_a_changed_card_nothing_is_decided(store: Store) -> None:
    campaign = await campaign_with_registrations(store, ["DV001"], ["advanced_worker"])
    registration = await registration_of(store, campaign, "DV001")
    assert await _decide(store, campaign, "DV001", "advanced_worker", unit="CDCS-YT") == Problem(
        "unit", "evaluation_out_of_scope", {"unit": "Công đoàn cơ sở Điện lực Hà Quảng"}
    )
    async with store.begin() as repos:
        yt = await repos.units.by_code("CDCS-YT")
        # The member submits their self-assessment: a card drawn before it is stale.
        problem = await evaluation.submit(
            repos,
            registration,
            await repos.units.by_code("CDCS-DL"),  # type: ignore[arg-type]
            campaign,
            [PledgeResult(True, "2"), PledgeResult(False, "200")],
            ["advanced_worker"],
            "test",
            NOW,
            DAY,
        )
        assert problem is None
        assert (await evaluation.save_draft(repos, registration, [], [], "test", NOW)) == Problem(
            "assessment", "assessment_submitted"
        )
    assert await _decide(store, campaign, "DV001", "advanced_worker", version=0) == Problem(
        "evaluation", "candidate_changed"
    )
    assert await _decide(store, campaign, "DV001", "advanced_worker", version=1) is None
    async with store.begin() as repos:
        assert await evaluation.titles_reached(repos, [campaign], [yt]) == []  # type: ignore[list-item]


async def test_before_its_day_the_evaluation_is_not_open(store: Store) -> None:
    campaign = await campaign_with_registrations(store, ["DV001"], ["advanced_worker"])
    registration = await registration_of(store, campaign, "DV001")
    decision = evaluation.TitleDecision(campaign, registration, "advanced_worker", True, 0)
    async with store.begin() as repos:
        hq = await repos.units.by_code("LDLD-HQ")
        before = OPENS.replace(day=19)
        refused = await evaluation.decision_refusal(repos, officer_of(hq), decision, CAPS, before)
    assert refused == Problem("evaluation", "evaluation_not_open", {"title": campaign.title, "date": OPENS})


async def test_the_evaluation_day_is_set_once_from_today_on_a_running_campaign(store: Store) -> None:
    campaign = await campaign_with_registrations(store, ["DV001"], ["advanced_worker"])
    async with store.begin() as repos:
        again = await evaluation.open_evaluation(repos, None, campaign, OPENS, VIETNAM, NOW, DAY)
        assert again == Problem("evaluation", "evaluation_set", {"date": OPENS})
        draft = await repos.campaigns.get(campaign.id)
        assert draft is not None
        fresh = replace(draft, evaluation_opens_on=None)
        past = await evaluation.open_evaluation(repos, None, fresh, DAY.replace(day=19), VIETNAM, NOW, DAY)
        assert past == Problem("evaluation", "evaluation_in_past", {"date": DAY.replace(day=19)})
        closed = replace(fresh, status="closed")
        assert await evaluation.open_evaluation(repos, None, closed, DAY, VIETNAM, NOW, DAY) == Problem(
            "campaign", "campaign_closed", {"title": campaign.title}
        )
