"""Closing the emulation year end to end (issue 14, "Done when"): one base union, Điện lực (CDCS-DL), from
registration through self-assessment, the evaluation with its cap, a Giấy khen proposed to and approved by the
district and a Bằng khen returned by the province with a note; the members' and officers' notices; the
authority checks; and the year's results in /tongket and in the workbook.

Mai registers and self-assesses in chat; six more members of Điện lực (no phones, so no chat) are registered
and their Lao động tiên tiến decided by the domain, as a meeting's minutes typed in would leave them. Hùng
leads the district (LDLD-HQ), Lan the base union, Hải the province, Hoa another base union (CDCS-THPT).
"""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
import pytest

from bot.domain.insights import TitleCount
from bot.domain.officers import grant_officer
from bot.domain.titles import parse_caps
from bot.engine import buttons as b
from bot.engine.clock import ManualClock
from handlers.insights import TITLE_UNITS_SHOWN, title_lines
from messages import plain, text
from storage.database import Store
from tests.conftest import People
from tests.helpers.choices import body, file_content
from tests.helpers.evaluation import (
    OPENS,
    advanced_workers,
    at_local,
    campaign_with_registrations,
    more_members,
    recognised_initiative,
    registration_of,
    results_of,
)
from tests.helpers.flows import Person, grant_by_account, linked
from tests.helpers.forged import forge
from tests.helpers.roster import HOA, HUNG, MAI
from tests.helpers.words import form_line, form_name, said, title_name

LAN, HAI = 790, 791
CAMPAIGN = "Tháng Công nhân 2026"
DIEN_LUC = "Công đoàn cơ sở Điện lực Hà Quảng"
HA_QUANG = "Liên đoàn Lao động huyện Hà Quảng"
CAO_BANG = "Liên đoàn Lao động tỉnh Cao Bằng"
OTHERS = [f"DL{n:02d}" for n in range(1, 7)]  # Lao động tiên tiến decided before Mai's
ACHIEVED = "Hai sáng kiến được công nhận, hoàn thành xuất sắc nhiệm vụ năm 2026"
RETURNED_WHY = "Chưa đủ hai năm liền đạt Chiến sĩ thi đua cơ sở"


def sheet(book: openpyxl.Workbook, key: str) -> list[list[object]]:
    """A sheet's cells, row by row, named by its catalog key."""
    return [[cell.value for cell in row] for row in book[text("vi", key)].iter_rows()]


async def evaluate(person: Person, code: str, name: str, reached: bool, vote: str, note: str | None) -> None:
    """The officer's evaluation of one candidate for one title in chat, as /binhxet leads it."""
    await person.send("/binhxet TCN-2026")
    await person.press(title_name(code))
    await person.press(name)
    await person.press("Đạt" if reached else "Không đạt")
    await person.send(vote)
    if note is None:
        await person.press("Bỏ qua")
    else:
        await person.send(note)


async def propose(lan: Person, member_code: str, form_code: str) -> None:
    """Lan proposes a member of Điện lực, named by code, for a form."""
    await lan.send("/denghi TCN-2026")
    await lan.press("Cá nhân")
    await lan.send(member_code)
    await lan.press(form_name(form_code))
    await lan.send(ACHIEVED)


@pytest.mark.telegram
async def test_a_base_union_closes_its_year_from_registration_to_the_years_results(
    people: People, store: Store, clock: ManualClock, tmp_path: Path, channel_kind: str
) -> None:
    await more_members(store, tmp_path)
    campaign = await campaign_with_registrations(store, OTHERS, ["advanced_worker", "emulation_fighter"])
    mai, hung = await linked(people, MAI), await linked(people, HUNG)
    # Registration: Mai seeks Lao động tiên tiến and Chiến sĩ thi đua cơ sở, with the initiative behind it.
    await mai.send("/dangky TCN-2026")
    await mai.press(title_name("advanced_worker"))
    await mai.press(title_name("emulation_fighter"))
    await mai.press("Xong")
    await mai.send("Sáng kiến cải tiến; sáng kiến; 1\nNgày công; ngày; 250")
    await mai.send("Quy trình kiểm tra công tơ điện tử từ xa")
    await mai.press("Xác nhận đăng ký")
    assert "Đã ghi nhận đăng ký" in mai.last_text
    await recognised_initiative(store, "DV001", campaign, clock.now())

    # Self-assessment on the evaluation's day, which the reminder opens.
    clock.current = at_local(OPENS.day, OPENS.month, 8)
    await mai.runtime.reminders.tick()
    await mai.runtime.outbox.wait_idle()
    assert said("reminders.evaluation_today", deadline="20/03/2026", title=CAMPAIGN) in body(mai.last)
    await mai.press("Tự đánh giá")
    await mai.press("Đạt")
    await mai.send("2")
    await mai.press(said("assess.keep_button"))  # two claimed, one recognised: confirmed
    await mai.press("Đạt")
    await mai.send("252")
    await mai.press("Xong")
    await mai.press("Gửi tự đánh giá")
    assert mai.last_text == said("assess.submitted", title=CAMPAIGN)

    # The evaluation: six Lao động tiên tiến already decided, Mai's in chat, with the members told.
    clock.current = at_local(OPENS.day, OPENS.month, 9)
    caps = parse_caps("emulation_fighter:15:advanced_worker")
    await advanced_workers(store, campaign, OTHERS, caps, clock.now())
    await evaluate(hung, "advanced_worker", "Hoàng Thị Mai", True, "18/20", None)
    assert title_name("advanced_worker") in mai.last_text and "18/20" in mai.last_text
    # Seven reached Lao động tiên tiến: 15 % allows one Chiến sĩ thi đua; Mai is it; DL01 needs
    # a recognised initiative, then meets the cap.
    await evaluate(hung, "emulation_fighter", "Hoàng Thị Mai", True, "17/20", "Sáng kiến làm lợi lớn")
    assert title_name("emulation_fighter") in mai.last_text and "Sáng kiến làm lợi lớn" in mai.last_text
    await hung.send("/binhxet TCN-2026")
    await hung.press(title_name("emulation_fighter"))
    await hung.press("Đoàn viên Điện lực 01")
    await hung.press("Đạt")
    assert hung.last_text == said("problem.needs_initiative")  # none recognised yet
    await recognised_initiative(store, "DL01", campaign, clock.now())
    await hung.press("Danh sách")
    await hung.press("Đoàn viên Điện lực 01")
    await hung.press("Đạt")
    assert hung.last_text == said(
        "problem.cap_exceeded",
        title=title_name("emulation_fighter"),
        percent=15,
        of_title=title_name("advanced_worker"),
        base=7,
        allowed=1,
    )
    assert [(r.title, r.reached) for r in await results_of(store, "DV001", "TCN-2026")] == [
        ("advanced_worker", True),
        ("emulation_fighter", True),
    ]
    assert [(r.title, r.reached) for r in await results_of(store, "DL01", "TCN-2026")] == [
        ("advanced_worker", True)
    ]

    # Authority: another base union's officer neither sees nor decides Điện lực's evaluation.
    await grant_officer(store, "CDCS-THPT", member_code="DV003", actor="test", now=clock.now())
    hoa = await linked(people, HOA)
    await hoa.send("/binhxet TCN-2026")
    assert hoa.last_text == said("problem.campaign_out_of_reach", code="TCN-2026")
    dl01 = await registration_of(store, campaign, "DL01")
    await forge(hoa, b.EvalDecide(dl01.id, b.ALL_TITLES.index("emulation_fighter"), "n", 0).pack())
    assert hoa.last_text == said("problem.evaluation_out_of_scope", unit=DIEN_LUC)
    assert len(await results_of(store, "DL01", "TCN-2026")) == 1

    # Proposals upward: Mai for the district's Giấy khen and for the province's Bằng khen.
    await grant_by_account(store, "CDCS-DL", people.channel, people.user_id(LAN))
    await grant_by_account(store, "LDLD-CB", people.channel, people.user_id(HAI))
    lan, hai = people(LAN, "Lan", "Cán bộ"), people(HAI, "Hải", "Cán bộ")
    await hai.send("/huongdan")
    await propose(lan, "dv001", "district_certificate")
    assert body(lan.last) == said(
        "commendation.proposed", form=form_name("district_certificate"), name="Hoàng Thị Mai", unit=HA_QUANG
    )
    await propose(lan, "dv001", "province_merit")
    # The district's Giấy khen sent to the province (forged): refused, nothing proposed twice.
    await lan.send("/denghi TCN-2026")
    await lan.press("Cá nhân")
    await lan.send("dv001")
    async with store.begin() as repos:
        province = await repos.units.by_code("LDLD-CB")
        assert province is not None
    await forge(lan, b.CommendForm("district_certificate", province.id).pack())
    assert body(lan.last) == said(
        "problem.form_not_granted_by",
        unit=CAO_BANG,
        form=form_name("district_certificate"),
        level=said("commendation.level_district"),
        grants=HA_QUANG,
    )
    await lan.send("/huy")
    # Each granting unit's officers are told a proposal arrived.
    arrived = {"name": "Hoàng Thị Mai", "unit": DIEN_LUC, "campaign": CAMPAIGN}
    assert body(hung.last) == said(
        "commendation.arrived_notice", granting=HA_QUANG, form=form_name("district_certificate"), **arrived
    )
    assert body(hai.last) == said(
        "commendation.arrived_notice", granting=CAO_BANG, form=form_name("province_merit"), **arrived
    )
    # The district cannot decide the province's Bằng khen; it approves its own Giấy khen from the notice.
    async with store.begin() as repos:
        rows = await repos.commendations.of_candidates(campaign.id, ["/"], 10)
    bang_khen = next(row.id for row in rows if row.form == "province_merit")
    await forge(hung, b.CommendDecide("approve", bang_khen, 1).pack())
    assert body(hung.last) == said("problem.decide_out_of_scope")
    await hung.send("/khenthuong")
    await hung.press("Đồng ý khen thưởng")
    notice = {"form": form_name("district_certificate"), "name": "Hoàng Thị Mai", "unit": HA_QUANG}
    assert body(mai.last) == said("commendation.member_approved_notice", campaign=CAMPAIGN, **notice)
    assert body(lan.last) == said("commendation.approved_notice", campaign=CAMPAIGN, **notice)
    # The province returns the Bằng khen with a note, which the proposer and Mai read.
    await hai.send("/khenthuong")
    await hai.press("Trả lại")
    await hai.send(RETURNED_WHY)
    returned = {"form": form_name("province_merit"), "name": "Hoàng Thị Mai", "unit": CAO_BANG}
    returned |= {"campaign": CAMPAIGN, "note": RETURNED_WHY}
    assert body(lan.last) == said("commendation.returned_notice", **returned)
    assert body(mai.last) == said("commendation.member_returned_notice", **returned)
    async with store.begin() as repos:
        rows = await repos.commendations.of_candidates(campaign.id, ["/"], 10)
    assert sorted((row.form, row.status, row.note) for row in rows) == [
        ("district_certificate", "approved", ""),
        ("province_merit", "returned", RETURNED_WHY),
    ]

    # The year's results in /tongket: the titles as the articles count them, then the commendations.
    await hung.send("/tongket TCN-2026")
    report = body(hung.last)
    assert said("report.titles_head") in report
    assert "7 lượt Lao động tiên tiến" in report and "1 lượt Chiến sĩ thi đua cơ sở" in report
    assert said("report.titles_by_unit") not in report  # one unit only: its figures are the totals
    district = form_line("district_certificate", "district", proposed=1, granted=1, individuals=1)
    assert district in report and "trả lại 1" in report
    if channel_kind in ("memory-menus", "zalo"):
        return  # no files on these channels (Zalo gets a link or the written report), so no workbook
    # ... and in the workbook: the titles per unit with their totals, and the certificates to print.
    await hung.send("/baocao TCN-2026")
    content = file_content(hung.last)
    assert content is not None
    book = openpyxl.load_workbook(io.BytesIO(content))
    titles = sheet(book, "export.sheet_titles")
    assert titles[1:3] == [
        [DIEN_LUC, title_name("advanced_worker"), 7, 0],
        [DIEN_LUC, title_name("emulation_fighter"), 1, 0],
    ]
    assert titles[3:] == [
        [text("vi", "export.total"), title_name("advanced_worker"), 7, 0],
        [text("vi", "export.total"), title_name("emulation_fighter"), 1, 0],
    ]
    certificates = sheet(book, "export.sheet_certificates")
    assert certificates[1] == [
        "Hoàng Thị Mai",
        DIEN_LUC,
        form_name("district_certificate"),
        None,
        HA_QUANG,
        CAMPAIGN,
        2026,
    ]
    reached = [(row[0], row[2]) for row in certificates[2:]]
    assert len(reached) == 8 and ("Hoàng Thị Mai", title_name("emulation_fighter")) in reached
    assert reached.count(("Hoàng Thị Mai", title_name("advanced_worker"))) == 1


def test_the_titles_read_in_total_then_per_unit_as_the_articles_count_them() -> None:
    counts = [
        TitleCount("CĐCS A", "advanced_worker", 3, 0),
        TitleCount("CĐCS A", "excellent_collective", 0, 1),
        TitleCount("CĐCS B", "emulation_fighter", 1, 0),
        TitleCount("CĐCS B", "advanced_worker", 184, 0),
    ]
    [lines] = title_lines("vi", counts)
    assert plain(lines).splitlines() == [
        said("report.titles_head"),
        "• 187 lượt Lao động tiên tiến",
        "• 1 lượt Chiến sĩ thi đua cơ sở",
        "• 1 tập thể đạt Tập thể lao động xuất sắc",
        said("report.titles_by_unit"),
        "• CĐCS A: 3 lượt Lao động tiên tiến; 1 tập thể đạt Tập thể lao động xuất sắc",
        "• CĐCS B: 1 lượt Chiến sĩ thi đua cơ sở; 184 lượt Lao động tiên tiến",
    ]
    many = [TitleCount(f"CĐCS {n:02d}", "advanced_worker", 1, 0) for n in range(TITLE_UNITS_SHOWN + 5)]
    [lines] = title_lines("vi", many)
    assert plain(lines).splitlines()[-1] == said("report.titles_more_units", count=5)
    assert plain(title_lines("vi", [])[0]).splitlines()[-1] == said("report.titles_none")
