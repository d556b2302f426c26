"""The year-end evaluation in chat: the officer sets the evaluation's day, members are reminded, a member
self-assesses (the draft outliving a restart and a cancel), the base union's officer evaluates with the
meeting's vote and the member is told; caps, a missing initiative, a vote above those present, a unit out
of reach and a stale card are refused with a precise message and change nothing.

The conversations run on every channel (``people``)."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest

from bot.domain import evaluation
from bot.domain.officers import grant_officer
from bot.domain.roster import import_members
from bot.domain.titles import parse_caps
from bot.engine.buttons import ALL_TITLES, EvalCandidate, EvalDecide
from bot.engine.clock import ManualClock
from handlers.assessment import PICK_LIMIT
from messages import formatting, plain, text
from messages.formatting import VIETNAM
from storage.database import Store
from storage.records import Campaign, Pledge, PledgeResult, Unit
from tests.conftest import People
from tests.helpers.campaigns import campaign_running, launch_stored, register, stored_draft
from tests.helpers.choices import body, choices
from tests.helpers.evaluation import (
    OPENS,
    PLEDGES,
    advanced_workers,
    at_local,
    campaign_with_registrations,
    collective_registered,
    more_members,
    recognised_initiative,
    registration_of,
    results_of,
)
from tests.helpers.flows import Person, grant_by_account, linked
from tests.helpers.forged import forge
from tests.helpers.roster import HOA, HUNG, MAI, NOW
from tests.helpers.words import said

DIEN_LUC = "Công đoàn cơ sở Điện lực Hà Quảng"
KEEP = said("assess.keep_button")  # an answer above the recognised initiatives, confirmed


@pytest.mark.telegram
async def test_registration_self_assessment_evaluation_and_the_members_notice(
    people: People, store: Store, clock: ManualClock
) -> None:
    hung, mai = await campaign_running(people)  # LDG-2026 of LDLD-HQ; Mai is in Điện lực, below it
    await register(mai, pledges="Sáng kiến cải tiến; sáng kiến; 2\nNgày công; ngày; 250")
    # The officer sets the evaluation's day; before it, a member cannot self-assess yet.
    await hung.send("/binhxet LDG-2026")
    assert body(hung.last) == said("evaluate.not_set_owner", title="Lao động giỏi, lao động sáng tạo 2026")
    await hung.press("Đặt ngày bình xét")
    await hung.send("20/3")
    assert "20/03/2026" in hung.last_text
    await mai.send("/tudanhgia")
    assert mai.last_text == said("assess.none")
    # Reminders at 08:00 7, 3 and 1 days before, and on the day, with the button to self-assess.
    for day in (13, 17, 19, 20):
        clock.current = at_local(day, 3, 8)
        await mai.runtime.reminders.tick()
        await mai.runtime.outbox.wait_idle()
    reminders = [m for m in mai.messages if "🗳" in m.plain_text and "bình xét" in m.plain_text]
    assert len(reminders) == 4 and "Còn 7 ngày" in reminders[0].plain_text
    assert "Hôm nay (20/03/2026)" in reminders[-1].plain_text
    assert not [m for m in hung.messages if m.plain_text.startswith("🗳")]  # not registered: not reminded
    await mai.press("Tự đánh giá")
    assert "Chỉ tiêu 1/2" in body(mai.last) and "Sáng kiến cải tiến" in body(mai.last)
    await mai.press("Đạt")
    await mai.send("nhiều")
    assert body(mai.last) == said("parse.quantity.format", text="nhiều")
    await mai.send("3")
    assert said("problem.claim_above_record", figure="3", recorded=0) in body(mai.last)  # none recognised
    await mai.press(KEEP)
    assert "Chỉ tiêu 2/2" in body(mai.last)
    # The answers so far outlive a restart, and a cancel: /tudanhgia goes on from the second target.
    await people.restart()
    await mai.send("/huy")
    assert mai.last_text == said("assess.kept")
    await mai.send("/tudanhgia")
    assert "Tiếp tục tự đánh giá" in mai.messages[-2].plain_text and "Chỉ tiêu 2/2" in body(mai.last)
    await mai.press("Chưa đạt")
    await mai.send("240")
    await mai.press("Xong")
    summary = body(mai.last)
    assert "✅ Sáng kiến cải tiến: 3/2 sáng kiến" in summary and "❌ Ngày công: 240/250 ngày" in summary
    await mai.press("Gửi tự đánh giá")
    assert mai.last_text == said("assess.submitted", title="Lao động giỏi, lao động sáng tạo 2026")
    # The officer's evaluation: the list, the card with the self-assessment, the vote and the note.
    await hung.send("/binhxet LDG-2026")
    assert "Lao động giỏi: 1 đề nghị, đã xét 0, đạt 0" in body(hung.last)
    await hung.press("Lao động giỏi")
    await hung.press("Hoàng Thị Mai")
    assert "✅ Sáng kiến cải tiến: 3/2 sáng kiến" in body(hung.last)
    await hung.press("Đạt")
    await hung.send("21/20")
    assert body(hung.last) == said("problem.vote_above_present", agreed=21, present=20)
    await hung.send("18/20")
    await hung.send("Hoàn thành xuất sắc nhiệm vụ")
    assert said("evaluate.done_reached", title="Lao động giỏi") in "\n".join(
        m.plain_text for m in hung.messages[-2:]
    )
    assert "Hoàng Thị Mai (Công đoàn cơ sở Điện lực Hà Quảng): ✅ đạt (18/20 đồng ý)" in body(hung.last)
    notice = mai.last_text
    assert "Lao động giỏi" in notice and "18/20" in notice and "Hoàn thành xuất sắc nhiệm vụ" in notice
    [result] = await results_of(store, "DV001", "LDG-2026")
    assert (result.title, result.reached, result.votes_agreed, result.votes_present) == (
        "good_worker",
        True,
        18,
        20,
    )
    assert (
        result.note == "Hoàn thành xuất sắc nhiệm vụ"
        and result.decided_by == f"{people.channel}:{hung.user_id}"
    )


CAPS = parse_caps("emulation_fighter:15:advanced_worker")  # the regulations' 15 %


async def seven_of_dien_luc(store: Store, clock: ManualClock, tmp_path: Path) -> tuple[list[str], Campaign]:
    """Mai and six more members of Điện lực registered for Lao động tiên tiến and Chiến sĩ thi đua cơ sở,
    the evaluation open this morning: their codes and the campaign."""
    await more_members(store, tmp_path)
    codes = ["DV001", *(f"DL{n:02d}" for n in range(1, 7))]
    campaign = await campaign_with_registrations(store, codes, ["advanced_worker", "emulation_fighter"])
    clock.current = at_local(OPENS.day, OPENS.month, 9)
    return codes, campaign


async def test_a_cap_and_a_missing_initiative_are_refused_and_change_nothing(
    people: People, store: Store, clock: ManualClock, tmp_path: Path
) -> None:
    codes, campaign = await seven_of_dien_luc(store, clock, tmp_path)
    hung = await linked(people, HUNG)
    # Six Lao động tiên tiến already decided: 15 % of six is none.
    await advanced_workers(store, campaign, codes[:6], CAPS, clock.now())
    await hung.send("/binhxet TCN-2026")
    assert "Chiến sĩ thi đua cơ sở: 7 đề nghị, đã xét 0, đạt 0" in body(hung.last)
    assert "không quá 15%" in body(hung.last)
    await hung.press("Chiến sĩ thi đua cơ sở")
    await hung.press("Hoàng Thị Mai")
    assert said("evaluate.no_initiative") in body(hung.last)
    await hung.press("Đạt")
    assert hung.last_text == said("problem.needs_initiative")
    await recognised_initiative(store, "DV001", campaign, clock.now())
    await hung.press("Danh sách")
    await hung.press("Hoàng Thị Mai")
    assert "Sáng kiến của DV001" in body(hung.last)
    await hung.press("Đạt")
    refused = said(
        "problem.cap_exceeded",
        title="Chiến sĩ thi đua cơ sở",
        percent=15,
        of_title="Lao động tiên tiến",
        base=6,
        allowed=0,
    )
    assert hung.last_text == refused
    # "Not reached" is always possible; a second decision on the same title is refused.
    await hung.press("Không đạt")
    await hung.send("6/10")
    await hung.press("Bỏ qua")
    assert [(r.title, r.reached) for r in await results_of(store, "DV001", "TCN-2026")] == [
        ("advanced_worker", True),
        ("emulation_fighter", False),
    ]
    registration = await registration_of(store, campaign, "DV001")
    await forge(hung, EvalCandidate(registration.id, "emulation_fighter").pack())  # an old list's button
    assert "Chiến sĩ thi đua cơ sở" in body(hung.last)
    assert not [label for label in choices(hung.last) if "Không đạt" in label]
    await forge(hung, EvalDecide(registration.id, ALL_TITLES.index("emulation_fighter"), "y", 0).pack())
    assert hung.last_text == said("problem.already_decided")


async def test_the_evaluations_reminders_go_only_to_those_who_have_not_sent_their_self_assessment(
    people: People, store: Store, clock: ManualClock
) -> None:
    campaign = await campaign_with_registrations(store, ["DV001", "DV002"], ["advanced_worker"])
    mai, hung = await linked(people, MAI), await linked(people, HUNG)

    def reminded(person: Person) -> int:
        return len([m for m in person.messages if m.plain_text.startswith("🗳")])

    clock.current = at_local(OPENS.day - 1, OPENS.month, 8)
    await mai.runtime.reminders.tick()
    await mai.runtime.outbox.wait_idle()
    assert (reminded(mai), reminded(hung)) == (1, 1)
    registration = await registration_of(store, campaign, "DV001")
    async with store.begin() as repos:  # Mai sends hers, as /tudanhgia would leave it
        results = [PledgeResult(True, pledge.figure) for pledge in PLEDGES]
        await repos.evaluation.save_assessment(
            registration, results, ["advanced_worker"], "submitted", "test", clock.now()
        )
    clock.current = at_local(OPENS.day, OPENS.month, 8)
    await mai.runtime.reminders.tick()
    await mai.runtime.outbox.wait_idle()
    assert (reminded(mai), reminded(hung)) == (1, 2)  # the day's reminder: only Hùng has something to do


async def test_a_chien_si_thi_dua_needs_lao_dong_tien_tien_reached_in_the_campaign_first(
    people: People, store: Store, clock: ManualClock
) -> None:
    campaign = await campaign_with_registrations(store, ["DV001"], ["advanced_worker", "emulation_fighter"])
    await recognised_initiative(store, "DV001", campaign, NOW)
    clock.current = at_local(OPENS.day, OPENS.month, 9)
    hung = await linked(people, HUNG)
    refused = said("problem.needs_title", title="Chiến sĩ thi đua cơ sở", of_title="Lao động tiên tiến")
    await hung.send("/binhxet TCN-2026")
    await hung.press("Chiến sĩ thi đua cơ sở")
    await hung.press("Hoàng Thị Mai")
    await hung.press("Đạt")
    assert hung.last_text == refused
    # Lao động tiên tiến decided as not reached: still refused; nothing but that decision is stored.
    await hung.send("/binhxet TCN-2026")
    await hung.press("Lao động tiên tiến")
    await hung.press("Hoàng Thị Mai")
    await hung.press("Không đạt")
    await hung.send("4/10")
    await hung.press("Bỏ qua")
    await hung.send("/binhxet TCN-2026")
    await hung.press("Chiến sĩ thi đua cơ sở")
    await hung.press("Hoàng Thị Mai")
    await hung.press("Đạt")
    assert hung.last_text == refused
    assert [(r.title, r.reached) for r in await results_of(store, "DV001", "TCN-2026")] == [
        ("advanced_worker", False)
    ]


async def test_outside_ones_base_union_and_on_a_changed_card_nothing_is_decided(
    people: People, store: Store, clock: ManualClock
) -> None:
    campaign = await campaign_with_registrations(store, ["DV001"], ["advanced_worker"])
    clock.current = at_local(OPENS.day, OPENS.month, 9)
    await grant_officer(store, "CDCS-THPT", member_code="DV003", actor="test", now=clock.now())
    hoa = await linked(people, HOA)  # leads Trường THPT, not Điện lực
    hung = await linked(people, HUNG)
    mai = await linked(people, MAI)
    registration = await registration_of(store, campaign, "DV001")
    await hoa.send("/binhxet TCN-2026")
    assert hoa.last_text == said("problem.campaign_out_of_reach", code="TCN-2026")
    index = ALL_TITLES.index("advanced_worker")
    for payload in (
        EvalCandidate(registration.id, "advanced_worker"),
        EvalDecide(registration.id, index, "y", 0),
    ):
        await forge(hoa, payload.pack())
        assert hoa.last_text == said(
            "problem.evaluation_out_of_scope", unit="Công đoàn cơ sở Điện lực Hà Quảng"
        )
    # Hùng draws Mai's card; Mai then submits her self-assessment: the old card's decision is refused.
    await hung.send("/binhxet TCN-2026")
    await hung.press("Lao động tiên tiến")
    await hung.press("Hoàng Thị Mai")
    assert said("evaluate.no_assessment") in body(hung.last)
    await mai.send("/tudanhgia")
    for answer in ("Đạt", "1", KEEP, "Đạt", "260"):
        await (mai.press(answer) if answer in ("Đạt", KEEP) else mai.send(answer))
    await mai.press("Xong")
    await mai.press("Gửi tự đánh giá")
    await hung.press("Đạt")
    assert said("problem.candidate_changed") in hung.messages[-2].plain_text
    assert "✅ Ngày công: 260/250 ngày" in body(hung.last)  # the card drawn again, as it is now
    assert await results_of(store, "DV001", "TCN-2026") == []
    async with store.begin() as repos:
        actions = [action for _, action, _, _ in await repos.audit.recent(20)]
    assert "evaluation.decide" not in actions and "assessment.submit" in actions


async def dien_luc_led_by_mai_registered_in(store: Store, campaigns: list[Campaign]) -> Unit:
    """Điện lực registered as a collective for Tập thể lao động xuất sắc in each campaign, and Mai (DV001)
    made its officer; the unit."""
    dl = await collective_registered(store, campaigns)
    await grant_officer(store, "CDCS-DL", member_code="DV001", actor="test", now=NOW)
    return dl


async def test_a_collectives_officer_self_assesses_and_is_told_the_units_outcome(
    people: People, store: Store, clock: ManualClock
) -> None:
    campaign = await campaign_with_registrations(store, [], ["advanced_worker"])
    dl = await dien_luc_led_by_mai_registered_in(store, [campaign])
    clock.current = at_local(OPENS.day, OPENS.month, 9)
    mai = await linked(people, MAI)  # leads Điện lực, and has no registration of her own
    hung = await linked(people, HUNG)
    await mai.send("/tudanhgia")
    assert f"(tập thể {DIEN_LUC}) — 2 chỉ tiêu" in mai.messages[-2].plain_text
    for answer in ("Đạt", "3", KEEP, "Đạt", "255"):
        await (mai.press(answer) if answer in ("Đạt", KEEP) else mai.send(answer))
    await mai.press("Xong")
    await mai.press("Gửi tự đánh giá")
    sent = said("assess.submitted_collective", title=campaign.title, unit=DIEN_LUC)
    assert body(mai.last) == sent and not re.search(r"\bbạn\b", sent)  # what only an officer reads
    await hung.send("/binhxet TCN-2026")
    await hung.press("Tập thể lao động xuất sắc")
    await hung.press("Công đoàn cơ sở Điện lực Hà Quảng")
    assert "✅ Ngày công: 255/250 ngày" in body(hung.last)
    head = said("evaluate.card_head_collective", unit=DIEN_LUC, title="Tập thể lao động xuất sắc")
    assert body(hung.last).startswith(head)  # a collective, named once, not as a person
    await hung.press("Đạt")
    await hung.send("15/15")
    await hung.press("Bỏ qua")
    assert "Điện lực Hà Quảng" in mai.last_text and "Tập thể lao động xuất sắc" in mai.last_text
    async with store.begin() as repos:
        [result] = await repos.evaluation.results(campaign.id, [dl.id])
        counted = await evaluation.titles_reached(repos, [campaign])
    assert (result.member_id, result.unit_id, result.reached) == (None, dl.id, True)
    assert counted == [evaluation.ReachedCount(dl.id, "excellent_collective", 0, 1)]


async def test_a_collectives_officers_are_reminded_once_each_in_their_language_and_the_button_opens_it(
    people: People, store: Store, clock: ManualClock
) -> None:
    # Hùng registered himself; Điện lực registered as a collective, led by Mai (no registration of her own)
    # and by an account with no roster entry that reads English; Y tế's collective, also led by Mai, has
    # already sent its self-assessment.
    campaign = await campaign_with_registrations(store, ["DV002"], ["advanced_worker"])
    await dien_luc_led_by_mai_registered_in(store, [campaign])
    yt = await collective_registered(store, [campaign], "CDCS-YT")
    async with store.begin() as repos:
        collective = await repos.registrations.of_unit(campaign.id, yt.id)
        assert collective is not None
        results = [PledgeResult(True, pledge.figure) for pledge in PLEDGES]
        await repos.evaluation.save_assessment(
            collective, results, ["excellent_collective"], "submitted", "test", NOW
        )
    await grant_officer(store, "CDCS-YT", member_code="DV001", actor="test", now=NOW)
    await grant_by_account(store, "CDCS-DL", people.channel, people.user_id(888))
    khanh = people(888, "Khánh", "Cán bộ")
    await khanh.send("/start")
    async with store.begin() as repos:
        account = await repos.accounts.get(people.channel, people.user_id(888))
        assert account is not None
        await repos.accounts.set_language(account.id, "en")
    mai, hung = await linked(people, MAI), await linked(people, HUNG)
    clock.current = at_local(OPENS.day, OPENS.month, 8)
    await mai.runtime.reminders.tick()
    await mai.runtime.outbox.wait_idle()

    def reminders(person: Person) -> list[str]:
        return [body(m) for m in person.messages if m.plain_text.startswith("🗳")]

    day = formatting.day(OPENS)
    for_mai = said("reminders.evaluation_collective_today", title=campaign.title, deadline=day, unit=DIEN_LUC)
    for_khanh = plain(
        text("en", "reminders.evaluation_collective_today", title=campaign.title, deadline=day, unit=DIEN_LUC)
    )
    assert reminders(mai) == [for_mai]  # once, for Điện lực only: Y tế has assessed
    assert reminders(khanh) == [for_khanh]
    assert len(reminders(hung)) == 1 and DIEN_LUC not in reminders(hung)[0]  # his own registration
    await mai.press(said("reminders.evaluation_button"))
    assert f"(tập thể {DIEN_LUC}) — 2 chỉ tiêu" in mai.messages[-2].plain_text


async def test_an_officer_registered_herself_is_reminded_once_of_both_and_the_button_offers_each(
    people: People, store: Store, clock: ManualClock
) -> None:
    campaign = await campaign_with_registrations(store, ["DV001"], ["advanced_worker"])
    await dien_luc_led_by_mai_registered_in(store, [campaign])
    mai = await linked(people, MAI)
    clock.current = at_local(OPENS.day, OPENS.month, 8)
    await mai.runtime.reminders.tick()
    await mai.runtime.outbox.wait_idle()
    [reminder] = [body(m) for m in mai.messages if m.plain_text.startswith("🗳")]
    assert DIEN_LUC in reminder and reminder.endswith(said("reminders.evaluation_own_too"))
    await mai.press(said("reminders.evaluation_button"))
    assert choices(mai.last) == [campaign.title, f"{campaign.title} — {DIEN_LUC}"]


@pytest.mark.telegram
async def test_a_collective_whose_evaluation_is_open_is_offered_behind_many_newer_ones_not_yet_open(
    people: People, store: Store, clock: ManualClock
) -> None:
    # Điện lực registered as a collective for TCN-2026 (evaluation open on OPENS), then for more campaigns
    # than a list holds whose evaluations open a month later: /tudanhgia still finds TCN-2026.
    campaigns = [await campaign_with_registrations(store, [], ["advanced_worker"])]
    for number in range(PICK_LIMIT + 1):
        draft = await stored_draft(store, code=f"LATER-{number}")
        async with store.begin() as repos:
            later = await launch_stored(repos, draft)
            problem = await evaluation.open_evaluation(
                repos, None, later, OPENS + timedelta(days=30), VIETNAM, NOW, NOW.date()
            )
            assert problem is None, problem
            campaigns.append(later)
    await dien_luc_led_by_mai_registered_in(store, campaigns)
    clock.current = at_local(OPENS.day, OPENS.month, 9)
    mai = await linked(people, MAI)
    await mai.send("/tudanhgia")
    assert said("assess.none") not in mai.last_text
    assert "Tháng Công nhân 2026" in mai.messages[-2].plain_text
    assert f"(tập thể {DIEN_LUC}) — 2 chỉ tiêu" in mai.messages[-2].plain_text


async def test_a_self_assessment_claiming_more_than_the_figures_shows_them_and_asks_to_confirm(
    people: People, store: Store, clock: ManualClock
) -> None:
    # Mai pledged 2 initiatives and had 1 recognised: "Đạt" with 2, or "Đạt" with 1, is asked again, showing
    # her figures against her pledge; kept if she confirms (the evaluation decides), never refused.
    pledges = [Pledge("Sáng kiến cải tiến", "sáng kiến", "2"), Pledge("Ngày công", "ngày", "250")]
    campaign = await campaign_with_registrations(store, ["DV001"], ["advanced_worker"], pledges=pledges)
    await recognised_initiative(store, "DV001", campaign, NOW)
    clock.current = at_local(OPENS.day, OPENS.month, 9)
    mai = await linked(people, MAI)
    await mai.send("/tudanhgia")
    recorded = said("assess.recorded_initiatives", recorded=1)
    assert recorded in mai.last_text  # her figure, beside what she pledged
    await mai.press("Đạt")
    assert recorded in mai.last_text
    await mai.send("2")
    assert said("problem.claim_above_record", figure="2", recorded=1) in mai.last_text
    assert said("problem.claim_below_pledge", figure="2", planned="2", unit="sáng kiến") not in mai.last_text
    await mai.press(said("assess.change_button"))
    assert "Chỉ tiêu 1/2" in mai.last_text and recorded in mai.last_text  # asked again
    await mai.press("Đạt")
    await mai.send("1")
    assert said("problem.claim_below_pledge", figure="1", planned="2", unit="sáng kiến") in mai.last_text
    await mai.press(said("assess.keep_button"))
    assert "Chỉ tiêu 2/2" in mai.last_text and recorded not in mai.last_text  # no initiatives measured
    await mai.press("Đạt")
    await mai.send("250")  # as pledged: nothing to confirm
    assert said("assess.ask_titles") in mai.last_text
    await mai.press("Xong")
    await mai.press("Gửi tự đánh giá")
    registration = await registration_of(store, campaign, "DV001")
    async with store.begin() as repos:
        assessment = await repos.evaluation.assessment(registration.id)
    assert assessment is not None and assessment.status == "submitted"
    assert assessment.results == (PledgeResult(True, "1"), PledgeResult(True, "250"))


async def test_a_title_given_up_in_the_self_assessment_stays_given_up_after_a_cancel_and_a_restart(
    people: People, store: Store, clock: ManualClock
) -> None:
    campaign = await campaign_with_registrations(store, ["DV001"], ["advanced_worker", "emulation_fighter"])
    clock.current = at_local(OPENS.day, OPENS.month, 7)  # open, before the day's reminder
    mai = await linked(people, MAI)
    await mai.send("/tudanhgia")
    for answer in ("Đạt", "1", KEEP, "Chưa đạt", "200"):
        await (mai.press(answer) if answer in ("Đạt", KEEP, "Chưa đạt") else mai.send(answer))
    await mai.press("Chiến sĩ thi đua cơ sở")  # no longer sought
    assert "⬜ Chiến sĩ thi đua cơ sở" in choices(mai.last)
    await mai.send("/huy")
    await people.restart()
    await mai.send("/tudanhgia")
    assert "⬜ Chiến sĩ thi đua cơ sở" in choices(mai.last)
    await mai.press("Xong")
    assert said("assess.summary_titles", titles="Lao động tiên tiến") in body(mai.last)
    await mai.press("Gửi tự đánh giá")
    registration = await registration_of(store, campaign, "DV001")
    async with store.begin() as repos:
        found = await repos.evaluation.assessment(registration.id)
    assert found is not None and (found.status, found.titles) == ("submitted", ("advanced_worker",))


async def test_a_member_who_moved_unit_after_reaching_lao_dong_tien_tien_is_capped_where_they_reached_it(
    people: People, store: Store, clock: ManualClock, tmp_path: Path
) -> None:
    codes, campaign = await seven_of_dien_luc(store, clock, tmp_path)
    await advanced_workers(store, campaign, codes, CAPS, clock.now())  # 7 in Điện lực: one may go further
    for code in ("DV001", "DL01"):
        await recognised_initiative(store, code, campaign, clock.now())
    moved = tmp_path / "moved.csv"  # DL01 then moves to Trung tâm Y tế, which reached no Lao động tiên tiến
    moved.write_text("member_code,full_name,phone,unit_code\nDL01,Đoàn viên Điện lực 01,,CDCS-YT\n")
    await import_members(store, moved, actor="test", now=clock.now())
    hung = await linked(people, HUNG)
    await hung.send("/binhxet TCN-2026")
    await hung.press("Chiến sĩ thi đua cơ sở")
    await hung.press("Đoàn viên Điện lực 01")
    await hung.press("Đạt")
    await hung.send("12/15")
    await hung.press("Bỏ qua")
    assert said("evaluate.done_reached", title="Chiến sĩ thi đua cơ sở") in hung.messages[-2].plain_text
    async with store.begin() as repos:  # counted in Điện lực, beside the Lao động tiên tiến that allowed it
        dien_luc, mover = await repos.units.by_code("CDCS-DL"), await repos.members.by_code("DL01")
        assert dien_luc is not None and mover is not None
        decided = await repos.evaluation.results(campaign.id, [dien_luc.id])
    assert [(r.title, r.reached) for r in decided if r.member_id == mover.id] == [
        ("advanced_worker", True),
        ("emulation_fighter", True),
    ]
    # Điện lực's one place is taken: Mai meets the cap.
    await hung.send("/binhxet TCN-2026")
    await hung.press("Chiến sĩ thi đua cơ sở")
    await hung.press("Hoàng Thị Mai")
    await hung.press("Đạt")
    assert hung.last_text == said(
        "problem.cap_exceeded",
        title="Chiến sĩ thi đua cơ sở",
        percent=15,
        of_title="Lao động tiên tiến",
        base=7,
        allowed=1,
    )
