"""Commendation proposals (issue 14, items 3 and 4): a base union proposes a member for the district's Giấy
khen and a collective for the province's Bằng khen; the district approves the first, the province returns the
second with a note; the proposer and the member are told. A form no unit above grants, a unit of another
level, a decision outside one's subtree and a button drawn before the proposal changed are each refused with
their own message, changing nothing. The year's commendations then read in /tongket and in the workbook.

The conversations run on every channel (``people``); Lan leads the base union Điện lực (CDCS-DL) and Hải the
province (LDLD-CB), both granted by account; Hùng leads the district LDLD-HQ, Mai is a member of Điện lực.
"""

from __future__ import annotations

import io

import openpyxl
import pytest

from bot.domain.commendations import forms, granting_unit
from bot.domain.officers import grant_officer
from bot.engine import buttons as b
from bot.engine.config import ConfigError, load_settings
from messages import text
from storage.database import Store
from storage.records import CommendationRow
from tests.conftest import People
from tests.helpers.campaigns import TITLE, campaign_running, register, register_collective, stored_draft
from tests.helpers.choices import body, choices, file_content
from tests.helpers.flows import Person, grant_by_account, linked
from tests.helpers.forged import forge
from tests.helpers.roster import HUNG, NOW
from tests.helpers.words import form_line, form_name, said
from tests.test_initiatives import TITLE as INITIATIVE
from tests.test_review_council import submitted_and_valid

LAN, HAI = 780, 781
DIEN_LUC = "Công đoàn cơ sở Điện lực Hà Quảng"
HA_QUANG = "Liên đoàn Lao động huyện Hà Quảng"
CAO_BANG = "Liên đoàn Lao động tỉnh Cao Bằng"
ACHIEVED = "Hoàn thành xuất sắc nhiệm vụ năm 2026, hai sáng kiến được công nhận"
COLLECTIVE_ACHIEVED = "Ba năm liền hoàn thành xuất sắc nhiệm vụ, không có tai nạn lao động"
RETURNED_WHY = "Chưa đủ hai năm liên tục đạt Tập thể lao động xuất sắc"


def recent(person: Person, count: int = 4) -> str:
    """The person's newest messages as one text."""
    return "\n".join(body(message) for message in person.messages[-count:])


async def proposals_rows(store: Store) -> list[CommendationRow]:
    """Every stored proposal of LDG-2026, oldest first."""
    async with store.begin() as repos:
        campaign = await repos.campaigns.by_code("LDG-2026")
        assert campaign is not None
        rows = await repos.commendations.of_candidates(campaign.id, ["/"], 100)
    return list(reversed(rows))


async def proposals(store: Store) -> list[tuple[str, str, str, str]]:
    """(kind, form, status, note) of every stored proposal, oldest first."""
    return [(row.kind, row.form, row.status, row.note) for row in await proposals_rows(store)]


async def year_with_proposals(people: People, store: Store) -> dict[str, Person]:
    """LDG-2026 running, Mai registered and Điện lực registered as a collective; Lan proposes Mai for the
    district's Giấy khen and Điện lực for the province's Bằng khen."""
    hung, mai = await campaign_running(people)
    await register(mai)
    await hung.send("/phongtrao")
    await hung.press("Lao động giỏi, lao động sáng tạo 2026")
    await register_collective(hung, DIEN_LUC)
    await grant_by_account(store, "CDCS-DL", people.channel, people.user_id(LAN))
    await grant_by_account(store, "LDLD-CB", people.channel, people.user_id(HAI))
    lan, hai = people(LAN, "Lan", "Cán bộ"), people(HAI, "Hải", "Cán bộ")
    await hai.send("/huongdan")

    await lan.send("/denghi")
    assert said("commendation.head", title="Lao động giỏi, lao động sáng tạo 2026") in body(lan.last)
    await lan.press("Cá nhân")
    assert any("Hoàng Thị Mai" in label for label in choices(lan.last))
    await lan.press("Hoàng Thị Mai")
    offered = choices(lan.last)
    assert f"{form_name('district_certificate')} → {HA_QUANG}" in offered
    assert f"{form_name('province_merit')} → {CAO_BANG}" in offered
    # The tree's top is the province: nobody above it grants the Tổng Liên đoàn's Bằng khen.
    await lan.press(form_name("national_merit"))
    assert body(lan.last) == said(
        "problem.no_granting_unit",
        form=form_name("national_merit"),
        level=said("commendation.level_national"),
        unit=DIEN_LUC,
    )
    assert await proposals(store) == []
    await lan.press(form_name("district_certificate"))  # the same step is still open
    assert "Hoàng Thị Mai" in body(lan.last) and HA_QUANG in body(lan.last)
    await lan.send("Tốt")  # too short: asked again, nothing stored
    assert said("problem.text_length", low=5, high="2.000") in recent(lan, 2)  # as the prompt says it
    await lan.send(ACHIEVED)
    assert body(lan.last) == said(
        "commendation.proposed", form=form_name("district_certificate"), name="Hoàng Thị Mai", unit=HA_QUANG
    )

    await lan.send("/denghi")
    await lan.press("Tập thể")
    await lan.press(DIEN_LUC)
    assert body(lan.last) == said("commendation.pick_form_collective", name=DIEN_LUC)  # a unit, named once
    await lan.press(form_name("province_merit"))
    await lan.send(COLLECTIVE_ACHIEVED)
    assert CAO_BANG in body(lan.last)
    # Proposing Mai for the same form again, while the first waits, is refused.
    await lan.send("/denghi")
    await lan.press("Cá nhân")
    await lan.send("dv001")  # a member may be named by code
    await lan.press(form_name("district_certificate"))  # refused before the achievements are asked for
    assert body(lan.last) == said("problem.already_proposed", form=form_name("district_certificate"))
    await lan.send("/huy")
    return {"hung": hung, "mai": mai, "lan": lan, "hai": hai}


@pytest.mark.telegram
@pytest.mark.zalo
async def test_the_district_approves_a_giay_khen_and_the_province_returns_a_bang_khen_with_a_note(
    people: People, store: Store
) -> None:
    them = await year_with_proposals(people, store)
    hung, mai, lan, hai = them["hung"], them["mai"], them["lan"], them["hai"]
    assert await proposals(store) == [
        ("member", "district_certificate", "proposed", ""),
        ("collective", "province_merit", "proposed", ""),
    ]
    # The district sees only what it grants.
    await hung.send("/khenthuong")
    card = body(hung.last)
    assert form_name("district_certificate") in card and "Hoàng Thị Mai" in card and ACHIEVED in card
    assert form_name("province_merit") not in card
    await hung.press("Đồng ý khen thưởng")
    assert said(
        "commendation.done_approve", form=form_name("district_certificate"), name="Hoàng Thị Mai"
    ) in recent(hung, 2)
    assert body(hung.last) == said("commendation.queue_empty")
    notice = {"form": form_name("district_certificate"), "name": "Hoàng Thị Mai", "unit": HA_QUANG}
    notice["campaign"] = "Lao động giỏi, lao động sáng tạo 2026"
    assert body(mai.last) == said("commendation.member_approved_notice", **notice)
    assert body(lan.last) == said("commendation.approved_notice", **notice)

    # The province returns the collective's Bằng khen, with the reason the proposer reads.
    await hai.send("/khenthuong")
    assert DIEN_LUC in body(hai.last) and form_name("province_merit") in body(hai.last)
    assert f"{said('commendation.kind_collective')}: {DIEN_LUC}\n" in body(hai.last)  # not "X — X"
    await hai.press("Trả lại")
    assert body(hai.last) == said("commendation.ask_note_return")
    await hai.send(RETURNED_WHY)
    returned = {"form": form_name("province_merit"), "name": DIEN_LUC, "unit": CAO_BANG, "note": RETURNED_WHY}
    returned["campaign"] = notice["campaign"]
    assert body(lan.last) == said("commendation.returned_notice", **returned)
    assert await proposals(store) == [
        ("member", "district_certificate", "approved", ""),
        ("collective", "province_merit", "returned", RETURNED_WHY),
    ]
    # Every step is kept: proposed, then decided.
    async with store.begin() as repos:
        campaign = await repos.campaigns.by_code("LDG-2026")
        assert campaign is not None
        rows = await repos.commendations.of_candidates(campaign.id, ["/"], 100)
        steps = [
            [(entry.from_status, entry.to_status) for entry in await repos.commendations.history(row.id)]
            for row in rows
        ]
    assert steps == [
        [("", "proposed"), ("proposed", "returned")],
        [("", "proposed"), ("proposed", "approved")],
    ]
    # The returned proposal's card as it was drawn (version 1): its buttons change nothing now. Last: on Zalo,
    # where no button payload reaches the bot, there is nothing to press and the test ends here.
    await forge(hai, b.CommendDecide("approve", rows[0].id, 1).pack())
    assert body(hai.last) == said("problem.proposal_changed")
    assert (await proposals(store))[1][2] == "returned"


async def test_deciding_outside_ones_subtree_or_to_a_unit_of_another_level_changes_nothing(
    people: People, store: Store
) -> None:
    them = await year_with_proposals(people, store)
    hung, lan = them["hung"], them["lan"]
    async with store.begin() as repos:
        campaign = await repos.campaigns.by_code("LDG-2026")
        district = await repos.units.by_code("LDLD-HQ")
        assert campaign is not None and district is not None
        rows = await repos.commendations.of_candidates(campaign.id, ["/"], 100)
    province_one = next(row.id for row in rows if row.form == "province_merit")
    # The district officer presses a decision on the province's proposal, as a forged or old button would.
    await forge(hung, b.CommendDecide("approve", province_one, 1).pack())
    assert body(hung.last) == said("problem.decide_out_of_scope")
    # The base union sends the province's Bằng khen to the district, which does not grant it.
    await lan.send("/denghi")
    await lan.press("Cá nhân")
    await lan.press("Hoàng Thị Mai")
    await forge(lan, b.CommendForm("province_merit", district.id).pack())
    assert body(lan.last) == said(
        "problem.form_not_granted_by",
        unit=HA_QUANG,
        form=form_name("province_merit"),
        level=said("commendation.level_province"),
        grants=CAO_BANG,
    )
    assert await proposals(store) == [
        ("member", "district_certificate", "proposed", ""),
        ("collective", "province_merit", "proposed", ""),
    ]


async def test_the_granting_units_officers_are_told_a_proposal_arrived_and_open_its_card(
    people: People, store: Store
) -> None:
    them = await year_with_proposals(people, store)
    hung, hai, lan = them["hung"], them["hai"], them["lan"]

    def arrived(person: Person) -> list[str]:
        return [body(m) for m in person.messages if m.plain_text.startswith("📨")]

    to_district = said(
        "commendation.arrived_notice",
        granting=HA_QUANG,
        form=form_name("district_certificate"),
        name="Hoàng Thị Mai",
        unit=DIEN_LUC,
        campaign=TITLE,
    )
    to_province = said(  # a collective is its unit: named once, not "Điện lực (Điện lực)"
        "commendation.arrived_notice_collective",
        granting=CAO_BANG,
        form=form_name("province_merit"),
        name=DIEN_LUC,
        campaign=TITLE,
    )
    # One notice each, to the officers of the unit that grants the form, never to the proposer.
    assert arrived(hung) == [to_district] and arrived(hai) == [to_province] and arrived(lan) == []
    assert body(hung.last) == to_district and choices(hung.last) == [said("commendation.open_button")]
    await hung.press(said("commendation.open_button"))
    assert ACHIEVED in body(hung.last) and form_name("district_certificate") in body(hung.last)
    await hung.press("Đồng ý khen thưởng")
    # The notice's button, pressed again once the proposal is decided: said so, nothing changes.
    district_one = next(row for row in await proposals_rows(store) if row.form == "district_certificate")
    await forge(hung, b.CommendOpen(district_one.id).pack())
    assert said("problem.proposal_changed") in recent(hung, 2)
    assert body(hung.last) == said("commendation.queue_empty")
    assert [row[2] for row in await proposals(store)] == ["approved", "proposed"]


async def test_a_proposal_to_a_unit_with_no_officer_yet_says_so_and_waits_for_its_officer(
    people: People, store: Store
) -> None:
    # Nobody leads the province on the bot: Lan is told nobody heard, and the proposal is kept.
    hung, _ = await campaign_running(people)
    await hung.send("/phongtrao")
    await hung.press(TITLE)
    await register_collective(hung, DIEN_LUC)
    await grant_by_account(store, "CDCS-DL", people.channel, people.user_id(LAN))
    lan = people(LAN, "Lan", "Cán bộ")
    await lan.send("/denghi")
    await lan.press("Tập thể")
    await lan.press(DIEN_LUC)
    await lan.press(form_name("province_merit"))
    await lan.send(COLLECTIVE_ACHIEVED)
    assert said("commendation.proposed_to_nobody", unit=CAO_BANG) in body(lan.last)
    assert await proposals(store) == [("collective", "province_merit", "proposed", "")]
    # Its officer, once there, finds it waiting.
    await grant_by_account(store, "LDLD-CB", people.channel, people.user_id(HAI))
    hai = people(HAI, "Hải", "Cán bộ")
    await hai.send("/khenthuong")
    assert COLLECTIVE_ACHIEVED in body(hai.last) and DIEN_LUC in body(hai.last)
    # To a unit with an officer (Hùng leads the district), the reply is the plain one.
    await lan.send("/denghi")
    await lan.press("Cá nhân")
    await lan.send("dv001")
    await lan.press(form_name("district_certificate"))
    await lan.send(ACHIEVED)
    assert said("commendation.proposed_to_nobody", unit=HA_QUANG) not in body(lan.last)
    assert HA_QUANG in body(lan.last)


async def test_an_officer_cannot_decide_a_proposal_about_themselves(people: People, store: Store) -> None:
    them = await year_with_proposals(people, store)
    mai = them["mai"]
    await grant_officer(store, "LDLD-HQ", member_code="DV001", actor="test", now=NOW)  # Mai leads HQ
    await mai.send("/khenthuong")
    assert "Hoàng Thị Mai" in body(mai.last) and ACHIEVED in body(mai.last)
    await mai.press("Đồng ý khen thưởng")
    assert body(mai.last) == said("problem.decide_own")
    assert [row[2] for row in await proposals(store)] == ["proposed", "proposed"]


async def test_a_forms_level_names_the_unit_that_many_steps_above_the_base_union(store: Store) -> None:
    settings = load_settings(
        _env_file=None, commendation_forms="district_certificate:district,province_flag:province"
    )
    assert [(f.code, f.level) for f in forms(settings)] == [
        ("district_certificate", "district"),
        ("province_flag", "province"),
    ]
    async with store.begin() as repos:
        school = await repos.units.by_code("CDCS-THPT")  # below a sector union, not a district federation
        assert school is not None
        above = [await granting_unit(repos, school, level) for level in ("district", "province", "national")]
    assert [unit.code if unit else None for unit in above] == ["CDN-GD", "LDLD-CB", None]


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("giay_khen_xa:district", "'giay_khen_xa' is not a commendation form the catalogs name"),
        ("province_flag:city", "province_flag: the level must be one of district, province, national"),
        ("province_flag:province,province_flag:national", "name each form once"),
    ],
)
def test_a_commendation_form_unnamed_or_at_an_unknown_level_stops_start_up(value: str, reason: str) -> None:
    with pytest.raises(ConfigError, match="THIDUA_COMMENDATION_FORMS: " + reason):
        load_settings(_env_file=None, commendation_forms=value)


async def test_a_collective_granted_is_named_once_in_the_written_report(people: People, store: Store) -> None:
    hai = (await year_with_proposals(people, store))["hai"]
    await hai.send("/khenthuong")  # the province's own first: the collective's Bằng khen
    await hai.press("Đồng ý khen thưởng")
    await hai.send("/tongket LDG-2026")
    commend = said(
        "report.commend_line_collective",
        form=form_name("province_merit"),
        name=DIEN_LUC,
        achievements=COLLECTIVE_ACHIEVED,
    )
    assert commend.removeprefix("• ") in body(hai.last) and f"{DIEN_LUC} ({DIEN_LUC})" not in body(hai.last)


@pytest.mark.telegram
async def test_the_years_commendations_in_the_written_report_and_the_workbook(
    people: People, store: Store, channel_kind: str
) -> None:
    them = await year_with_proposals(people, store)
    hung, hai = them["hung"], them["hai"]
    await hung.send("/khenthuong")
    await hung.press("Đồng ý khen thưởng")
    await hai.send("/khenthuong")
    await hai.press("Trả lại")
    await hai.send(RETURNED_WHY)

    await hai.send("/tongket LDG-2026")
    report = body(hai.last)
    district = form_line("district_certificate", "district", proposed=1, granted=1, individuals=1)
    province = form_line("province_merit", "province", proposed=1, returned=1)
    assert district in report and province in report
    assert report.index(district) < report.index(province)  # in the configured order of the forms
    commend = said(
        "report.commend_line",
        form=form_name("district_certificate"),
        name="Hoàng Thị Mai",
        unit=DIEN_LUC,
        achievements=ACHIEVED,
    )
    assert said("report.commend_list") in report and commend.removeprefix("• ") in report
    assert COLLECTIVE_ACHIEVED not in report  # returned: not among those to commend
    if channel_kind in ("memory-menus", "zalo"):
        return  # no files on these channels (Zalo gets a link or the written report), so no workbook
    await hai.send("/baocao LDG-2026")
    workbook = file_content(hai.last)
    assert workbook is not None
    book = openpyxl.load_workbook(io.BytesIO(workbook))
    figures = [
        [cell.value for cell in row] for row in book[text("vi", "export.sheet_commendations")].iter_rows()
    ]
    assert figures[1] == [
        form_name("district_certificate"),
        said("commendation.level_district"),
        1,
        1,
        0,
        1,
        0,
        0,
        0,
    ]
    province_form = [form_name("province_merit"), said("commendation.level_province")]
    assert figures[2] == [*province_form, 1, 0, 0, 0, 0, 1, 0]
    assert figures[3][0] == text("vi", "export.total") and figures[3][2:] == [2, 1, 0, 1, 0, 1, 0]
    sent = [[cell.value for cell in row] for row in book[text("vi", "export.sheet_proposals")].iter_rows()]
    # By unit, the collective before its members.
    assert [(row[3], row[8]) for row in sent[1:]] == [
        (DIEN_LUC, COLLECTIVE_ACHIEVED),
        ("Hoàng Thị Mai", ACHIEVED),
    ]
    assert sent[1][10] == RETURNED_WHY and sent[2][10] is None
    certificates = [
        [cell.value for cell in row] for row in book[text("vi", "export.sheet_certificates")].iter_rows()
    ]
    assert certificates == [
        [
            text("vi", "export.commended_name"),
            text("vi", "export.unit"),
            text("vi", "export.award"),
            text("vi", "export.initiative"),
            text("vi", "export.granting_unit"),
            text("vi", "export.campaign"),
            text("vi", "export.year"),
        ],
        ["Hoàng Thị Mai", DIEN_LUC, form_name("district_certificate"), None, HA_QUANG, TITLE, 2026],
    ]


async def test_a_recognised_initiative_is_proposed_and_its_author_told_while_one_under_review_is_refused(
    people: People, store: Store
) -> None:
    hung, mai = await campaign_running(people)
    await submitted_and_valid(hung, mai)
    await grant_by_account(store, "CDCS-DL", people.channel, people.user_id(LAN))
    lan = people(LAN, "Lan", "Cán bộ")
    await lan.send("/denghi")
    await lan.press("Sáng kiến")
    assert body(lan.last) == said("commendation.none_initiative")  # valid, not yet recognised
    async with store.begin() as repos:
        member = await repos.members.by_code("DV001")
        assert member is not None
        [initiative] = await repos.initiatives.of_member(member.id)
    await forge(lan, b.CommendCandidate(initiative.id).pack())
    assert body(lan.last) == said("problem.initiative_not_recognised", title=INITIATIVE)
    await hung.send("/duyet")
    await hung.press("Chấm điểm")
    for point in ("8", "7", "9"):
        await hung.press(point)
    await hung.press("Công nhận")
    await hung.press("Bỏ qua")

    await lan.send("/denghi")
    await lan.press("Sáng kiến")
    await lan.press(INITIATIVE)
    await lan.press(form_name("district_certificate"))
    await lan.send("Làm lợi 80 triệu đồng mỗi năm")
    name = said("commendation.initiative_name", title=INITIATIVE, author="Hoàng Thị Mai")
    assert body(lan.last) == said(
        "commendation.proposed", form=form_name("district_certificate"), name=name, unit=HA_QUANG
    )
    await lan.send("/denghi")  # the head lists what was sent: the initiative, not its author alone
    waiting = said("commendation.status_proposed")
    sent = said("commendation.sent_line", name=name, form=form_name("district_certificate"), status=waiting)
    assert sent in body(lan.last)
    await lan.send("/huy")
    await hung.send("/khenthuong")
    card = said("commendation.initiative_card_name", title=INITIATIVE, author="Hoàng Thị Mai")
    assert f"{said('commendation.kind_initiative')}: {card} — " in body(hung.last)  # "initiative" said once
    await hung.press("Đồng ý khen thưởng")
    notice = {"form": form_name("district_certificate"), "name": name, "unit": HA_QUANG, "campaign": TITLE}
    assert body(mai.last) == said("commendation.member_approved_notice", **notice)
    assert await proposals(store) == [("initiative", "district_certificate", "approved", "")]


@pytest.mark.zalo
async def test_a_return_without_a_reason_is_asked_again_and_the_base_union_resends_what_was_returned(
    people: People, store: Store
) -> None:
    them = await year_with_proposals(people, store)
    hung, hai, lan = them["hung"], them["hai"], them["lan"]
    await hung.send("/khenthuong")
    await hung.press("Đồng ý khen thưởng")  # the district's Giấy khen: the province's queue holds its own
    await hai.send("/khenthuong")
    await hai.press("Trả lại")
    await hai.send("   ")  # no reason: asked again, the proposal still waiting
    assert said("problem.note_required") in recent(hai, 2)
    assert body(hai.last) == said("commendation.ask_note_return")
    assert [row[2] for row in await proposals(store)] == ["approved", "proposed"]
    await hai.send(RETURNED_WHY)
    assert (await proposals(store))[1] == ("collective", "province_merit", "returned", RETURNED_WHY)
    # The base union sends it again with what was missing; the province approves the new one.
    await lan.send("/denghi")
    assert said(
        "commendation.sent_line",
        name=DIEN_LUC,
        form=form_name("province_merit"),
        status=said("commendation.status_returned"),
    ) in body(lan.last)
    await lan.press("Tập thể")
    await lan.press(DIEN_LUC)
    await lan.press(form_name("province_merit"))
    await lan.send(COLLECTIVE_ACHIEVED + ", đủ hai năm liên tục")
    await hai.send("/khenthuong")
    assert "đủ hai năm liên tục" in body(hai.last)
    await hai.press("Đồng ý khen thưởng")
    assert [row[1:3] for row in await proposals(store)] == [
        ("district_certificate", "approved"),
        ("province_merit", "returned"),
        ("province_merit", "approved"),
    ]


async def test_the_proposals_sent_to_ones_own_unit_come_before_those_waiting_in_units_below(
    people: People, store: Store
) -> None:
    them = await year_with_proposals(people, store)  # the district's Giấy khen first, then the Bằng khen
    hai = them["hai"]
    await hai.send("/khenthuong")
    card = body(hai.last)
    assert said("commendation.queue_head", waiting=2, unit=CAO_BANG) in card
    assert form_name("province_merit") in card and COLLECTIVE_ACHIEVED in card
    await hai.press("Đề nghị tiếp")  # then what waits for the district, which the province covers
    assert said("commendation.queue_head", waiting=1, unit=HA_QUANG) in body(hai.last)


async def test_a_draft_campaign_named_to_propose_is_refused_before_anything_is_typed(
    people: People, store: Store
) -> None:
    draft = await stored_draft(store)  # TCN-2026 of the district, not launched
    hung = await linked(people, HUNG)
    await hung.send("/denghi TCN-2026")
    assert body(hung.last) == said("problem.campaign_not_running", title=draft.title)
    assert choices(hung.last) == []
