"""Campaigns end to end: an officer creates and launches one, members of the subtree hear of it and
register, change and withdraw; collectives register; bad input and authority are refused politely.

Most run on every channel (``people``); those that press an older message's button or read the HTML of a
message stay on the Telegram sandbox, each saying why."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta

import pytest

from bot.domain.officers import grant_officer
from bot.engine.buttons import CloseCampaign, ConfirmClose, UnitTargets
from bot.engine.clock import ManualClock
from bot.sandbox import TelegramSandbox
from messages import plain, text
from storage.database import Store
from storage.records import Pledge
from tests.conftest import People
from tests.helpers.campaigns import (
    TITLE,
    campaign_running,
    create_through_dialog,
    register,
    register_collective,
    stored_draft,
)
from tests.helpers.chat import Chat
from tests.helpers.choices import body, choices
from tests.helpers.flows import grant_by_account, linked
from tests.helpers.forged import forge
from tests.helpers.roster import HOA, HUNG, MAI, NOW

DISTRICT = "Liên đoàn Lao động huyện Hà Quảng"


@pytest.mark.telegram
@pytest.mark.zalo
async def test_an_officer_creates_a_campaign_step_by_step(people: People, store: Store) -> None:
    hung = await linked(people, HUNG)
    await create_through_dialog(hung)
    assert "Đã lưu bản nháp" in hung.last_text and "LDG-2026" in hung.last_text
    async with store.begin() as repos:
        campaign = await repos.campaigns.by_code("LDG-2026")
        unit = await repos.units.by_code("LDLD-HQ")
    assert campaign is not None and unit is not None
    assert (campaign.title, campaign.status, campaign.unit_id) == (TITLE, "draft", unit.id)
    assert (campaign.starts_on, campaign.ends_on) == (date(2026, 3, 2), date(2026, 12, 31))
    assert campaign.registration_deadline == date(2026, 3, 25)  # "25/3" typed without a year
    assert campaign.initiative_target == 431 and campaign.initiative_deadline is None
    assert campaign.individual_titles == ("good_worker", "emulation_fighter")
    assert campaign.collective_titles == ("excellent_collective",)


async def test_the_preview_lets_the_officer_edit_any_field(people: People, store: Store) -> None:
    hung = await linked(people, HUNG)
    await hung.send("/taophongtrao")
    for answer in ("LDG-2026", TITLE):
        await hung.send(answer)
    await hung.press("Bỏ qua")
    await hung.press("Đợt cao điểm")
    for answer in ("2/3/2026", "31/12/2026", "25/3/2026"):
        await hung.send(answer)
    await hung.press("Bỏ qua")
    await hung.press("Bỏ qua")
    await hung.press("Lao động tiên tiến")
    await hung.press("Xong")
    await hung.press("Xong")
    assert "Xem lại phong trào" in hung.last_text and "Đợt cao điểm" in hung.last_text
    await hung.press("Sửa")
    await hung.press("Hạn đăng ký")
    await hung.send("20/3/2026")
    assert "Xem lại phong trào" in hung.last_text and "20/03/2026" in hung.last_text
    await hung.press("Lưu bản nháp")
    async with store.begin() as repos:
        campaign = await repos.campaigns.by_code("LDG-2026")
    assert campaign is not None and campaign.registration_deadline == date(2026, 3, 20)
    assert campaign.kind == "peak"


async def test_bad_answers_in_the_form_are_explained_and_change_nothing(people: People, store: Store) -> None:
    await stored_draft(store)
    hung = await linked(people, HUNG)
    await hung.send("/taophongtrao")
    await hung.send("x")
    assert "chưa đúng" in hung.last_text
    await hung.send("tcn-2026")
    assert "đã được dùng" in hung.last_text
    await hung.send("LDG-2026")
    await hung.send("ngắn")
    assert "từ 5 đến 200 ký tự" in hung.last_text
    await hung.send(TITLE)
    await hung.press("Bỏ qua")
    await hung.press("Thường xuyên")
    await hung.send("31/4/2026")
    assert "31/4/2026" in hung.last_text  # April has 30 days
    await hung.send("2/3/2026")
    await hung.send("1/3/2026")
    assert "trước ngày bắt đầu" in hung.last_text
    await hung.send("31/12/2026")
    await hung.send("5/1/2027")
    assert "sau ngày kết thúc" in hung.last_text
    await hung.send("/huy")
    async with store.begin() as repos:
        assert await repos.campaigns.by_code("LDG-2026") is None


async def test_members_cannot_use_officer_commands(people: People) -> None:
    mai = await linked(people, MAI)
    await mai.send("/taophongtrao")
    assert "chỉ dành cho cán bộ công đoàn" in mai.last_text
    await mai.send("/phatdong LDG-2026")
    assert "chỉ dành cho cán bộ công đoàn" in mai.last_text


@pytest.mark.sandbox  # Telegram only: it reads the confirmation's HTML (the count in bold)
async def test_launch_announces_to_the_subtree_only_and_reports_to_the_officer(
    chat: Callable[..., Chat], store: Store, sandbox: TelegramSandbox
) -> None:
    mai = await linked(chat, MAI)  # CĐCS Điện lực, under LĐLĐ Hà Quảng
    hoa = await linked(chat, HOA)  # a school union under the education sector: outside
    hung = await linked(chat, HUNG)
    await create_through_dialog(hung)
    await hung.send("/phatdong LDG-2026")
    assert "<b>2</b> đoàn viên" in hung.last.text  # Mai and Hùng himself are linked in Hà Quảng
    await hung.press("Phát động ngay")
    assert any("Đã phát động" in m.plain_text and "2 đoàn viên" in m.plain_text for m in hung.messages)
    announcement = [m for m in mai.messages if "phát động phong trào thi đua" in m.plain_text]
    assert len(announcement) == 1 and TITLE in announcement[0].plain_text
    assert "Hạn đăng ký: 25/03/2026 (còn 23 ngày)" in announcement[0].plain_text
    assert not [m for m in hoa.messages if TITLE in m.plain_text]
    summary = [m for m in hung.messages if "Đã gửi xong thông báo" in m.plain_text]
    assert len(summary) == 1 and "Đã gửi: 2/2" in summary[0].plain_text
    async with store.begin() as repos:
        campaign = await repos.campaigns.by_code("LDG-2026")
        entries = [action for _, action, _, _ in await repos.audit.recent(20)]
    assert campaign is not None and campaign.status == "launched"
    assert "campaign.launch" in entries and "campaign.create" in entries
    await hung.send("/tiendo")
    assert "đã gửi xong" in hung.last_text and "Đã gửi 2/2" in hung.last_text


@pytest.mark.sandbox  # Telegram only: it presses an older message's button (a menu answers the newest)
async def test_launching_twice_or_outside_ones_subtree_is_refused(
    chat: Callable[..., Chat], store: Store
) -> None:
    await stored_draft(store, unit_code="CDN-GD", code="GD-2026")  # education sector: not Hùng's
    hung = await linked(chat, HUNG)
    await hung.send("/phatdong GD-2026")
    assert hung.last_text == plain(text("vi", "problem.campaign_out_of_reach", code="GD-2026"))
    await create_through_dialog(hung)
    await hung.send("/phatdong LDG-2026")
    first_confirmation = hung.last
    await hung.send("/phatdong LDG-2026")  # a second confirmation, as a double tap would leave
    await hung.press("Phát động ngay")
    await hung.press_in(first_confirmation, "Phát động ngay")
    assert "không còn là bản nháp" in hung.last_text


async def test_a_past_registration_deadline_is_refused_in_the_form_a_past_start_only_warned(
    people: People, store: Store
) -> None:
    hung = await linked(people, HUNG)  # today is 02/03/2026
    await hung.send("/taophongtrao")
    await hung.send("LDG-2026")
    await hung.send(TITLE)
    await hung.press("Bỏ qua")
    await hung.press("Thường xuyên")
    replies = await hung.send("1/2/2026")
    start_warning = plain(text("vi", "problem.start_in_past", start="01/02/2026"))
    assert replies[0].plain_text == start_warning  # said, then the form goes on
    await hung.send("31/12/2026")
    await hung.send("20/2/2026")
    assert body(hung.last) == plain(text("vi", "problem.deadline_in_past", deadline="20/02/2026"))
    await hung.send("25/3")
    await hung.press("Bỏ qua")
    await hung.press("Bỏ qua")
    await hung.press("Lao động giỏi")
    await hung.press("Xong")
    await hung.press("Xong")
    assert body(hung.last).endswith(start_warning)  # the preview repeats it
    await hung.press("Lưu bản nháp")
    async with store.begin() as repos:
        campaign = await repos.campaigns.by_code("LDG-2026")
    assert campaign is not None and campaign.starts_on == date(2026, 2, 1)
    await hung.send("/phatdong LDG-2026")
    assert body(hung.last).endswith(start_warning) and "🚀 Phát động ngay" in choices(hung.last)


@pytest.mark.sandbox  # Telegram only: it presses an older message's button (a menu answers the newest)
async def test_a_draft_whose_deadline_has_passed_is_not_launched(
    chat: Callable[..., Chat], store: Store, clock: ManualClock
) -> None:
    await stored_draft(store)  # registration until 25/04/2026
    mai = await linked(chat, MAI)
    hung = await linked(chat, HUNG)
    await hung.send("/phatdong TCN-2026")
    confirmation = hung.last
    clock.advance(timedelta(days=57))  # 28/04/2026
    refused = plain(text("vi", "problem.deadline_in_past", deadline="25/04/2026"))
    await hung.send("/phatdong TCN-2026")
    assert hung.last_text == refused and choices(hung.last) == []
    await hung.press_in(confirmation, "Phát động ngay")  # a confirmation from before the deadline
    assert hung.last_text == refused
    async with store.begin() as repos:
        campaign = await repos.campaigns.by_code("TCN-2026")
    assert campaign is not None and campaign.status == "draft"
    assert not [m for m in mai.messages if "Tháng Công nhân 2026" in m.plain_text]


@pytest.mark.telegram
@pytest.mark.zalo
async def test_a_member_registers_changes_and_withdraws(people: People, store: Store) -> None:
    _, mai = await campaign_running(people)
    await mai.press("Xem và đăng ký")
    await mai.press("Đăng ký thi đua")
    await mai.press("Lao động giỏi")
    await mai.press("Xong")
    await mai.send("Sáng kiến cải tiến kỹ thuật; sáng kiến; 2\nĐào tạo nâng cao tay nghề; khóa; 1")
    assert "Sáng kiến cải tiến kỹ thuật — 2 sáng kiến" in mai.last_text
    await mai.press("Xác nhận đăng ký")
    assert "Đã ghi nhận đăng ký" in mai.last_text and "25/03/2026" in mai.last_text
    await mai.send("/cuatoi")
    assert "đã đăng ký" in mai.last_text and "Lao động giỏi" in mai.last_text
    assert "Đào tạo nâng cao tay nghề — 1 khóa" in mai.last_text
    # Changing keeps the earlier choices; adding the Chiến sĩ thi đua title asks for the initiative.
    await mai.send("/dangky LDG-2026")
    assert "✅ Lao động giỏi" in choices(mai.last)
    await mai.press("Chiến sĩ thi đua cơ sở")
    await mai.press("Xong")
    await mai.press("Giữ nguyên các chỉ tiêu")
    await mai.send("Quy trình kiểm tra công tơ điện tử từ xa")
    await mai.press("Xác nhận đăng ký")
    async with store.begin() as repos:
        campaign = await repos.campaigns.by_code("LDG-2026")
        assert campaign is not None
        member = await repos.members.by_code("DV001")
        assert member is not None
        registration = await repos.registrations.of_member(campaign.id, member.id)
    assert registration is not None and registration.status == "active"
    assert registration.titles == ("good_worker", "emulation_fighter")
    assert registration.pledges == (
        Pledge("Sáng kiến cải tiến kỹ thuật", "sáng kiến", "2"),
        Pledge("Đào tạo nâng cao tay nghề", "khóa", "1"),
    )
    assert registration.initiative_title == "Quy trình kiểm tra công tơ điện tử từ xa"
    await mai.send("/phongtrao")
    await mai.press(TITLE)
    await mai.press("Rút đăng ký")
    await mai.press("Rút đăng ký")  # the confirmation's
    assert "Đã rút đăng ký" in mai.last_text
    await mai.send("/cuatoi")
    assert "đã rút đăng ký" in mai.last_text


@pytest.mark.sandbox  # Telegram only: it presses an older message's button (a menu answers the newest)
async def test_registration_after_the_deadline_is_refused_with_the_date(
    chat: Callable[..., Chat], clock: ManualClock
) -> None:
    _, mai = await campaign_running(chat)
    await mai.press("Xem và đăng ký")
    page = mai.last  # drawn before the deadline, with its Register button
    clock.advance(timedelta(days=24))  # 26/3: the deadline 25/3 has passed
    await mai.press_in(page, "Đăng ký thi đua")
    assert mai.last_text == "Đã hết hạn đăng ký (hạn cuối: 25/03/2026)."
    await mai.send("/dangky LDG-2026")
    assert mai.last_text == "Đã hết hạn đăng ký (hạn cuối: 25/03/2026)."


async def test_bad_pledges_are_explained(people: People) -> None:
    _, mai = await campaign_running(people)
    await mai.send("/dangky ldg-2026")
    await mai.press("Xong")
    assert "ít nhất một danh hiệu" in mai.last_text
    await mai.press("Lao động giỏi")
    await mai.press("Xong")
    await mai.send("; sáng kiến; 2")
    assert plain(text("vi", "problem.pledge_format", line=1, text="; sáng kiến; 2")) in mai.last_text


async def test_members_outside_the_subtree_cannot_register(people: People) -> None:
    _, hoa = await campaign_running(people, HOA)
    await hoa.send("/dangky LDG-2026")
    assert "không áp dụng cho đơn vị của bạn" in hoa.last_text


async def test_an_officer_registers_a_collective_and_sees_counts(people: People, store: Store) -> None:
    hung, mai = await campaign_running(people)
    await register(mai)
    await hung.send("/phongtrao")
    assert "1/2 đoàn viên (50%)" in hung.last_text  # registered/roster, then the share
    await hung.press(TITLE)
    assert "Đăng ký thi đua: 1/2 đoàn viên (50%); đã liên kết tài khoản: 2" in hung.last_text  # the page too
    before = len(hung.messages)
    await register_collective(hung, "Công đoàn cơ sở Điện lực Hà Quảng")
    assert "Đã ghi nhận đăng ký tập thể" in hung.last_text
    collective = " ".join(m.plain_text for m in hung.messages[before:])
    assert not re.search(r"\b[Bb]ạn\b", collective)  # a collective registers: nobody is "bạn" here
    await hung.send("/phongtrao")
    await hung.press(TITLE)
    assert "Công đoàn cơ sở Điện lực Hà Quảng: Tập thể lao động xuất sắc" in hung.last_text


async def test_a_base_union_officer_registers_its_own_collective(people: People, store: Store) -> None:
    await grant_officer(store, "CDCS-DL", member_code="DV001", actor="test", now=NOW)  # Mai leads her CĐCS
    _, mai = await campaign_running(people)  # the district's campaign
    await mai.send("/phongtrao")
    await mai.press(TITLE)
    assert "Đăng ký thi đua: 0/1 đoàn viên (0%); đã liên kết tài khoản: 1" in mai.last_text  # her CĐCS
    assert "Đăng ký tập thể" in " ".join(choices(mai.last))
    assert "Kết thúc phong trào" not in " ".join(choices(mai.last))  # closing stays with the district
    await register_collective(mai, "Công đoàn cơ sở Điện lực Hà Quảng")
    assert "Đã ghi nhận đăng ký tập thể" in mai.last_text
    async with store.begin() as repos:
        campaign = await repos.campaigns.by_code("LDG-2026")
        district = await repos.units.by_code("LDLD-HQ")
        assert campaign is not None and district is not None
        (collective,) = await repos.registrations.collective_within(campaign.id, [district.path])
        unit = await repos.units.get(collective.unit_id or 0)
    assert unit is not None and unit.code == "CDCS-DL"
    assert collective.titles == ("excellent_collective",)
    await mai.send("/phongtrao")
    await mai.press(TITLE)
    assert "Công đoàn cơ sở Điện lực Hà Quảng: Tập thể lao động xuất sắc" in mai.last_text


async def test_a_base_union_officer_sees_the_districts_campaign_marked_and_cannot_close_it(
    people: People, store: Store
) -> None:
    hung, _ = await campaign_running(people)  # the district's LDG-2026; Hùng is Y tế's one member, linked
    await grant_by_account(store, "CDCS-YT", people.channel, people.user_id(888))  # no roster entry
    khanh = people(888, "Khánh", "Cán bộ")
    await khanh.send("/phongtrao")
    listed = khanh.last_text
    assert plain(text("vi", "campaigns.launched_above", unit=DISTRICT)) in listed
    assert "Đăng ký thi đua: 0/1 đoàn viên (0%); đã liên kết tài khoản: 1" in listed  # Y tế's share
    await khanh.press(TITLE)
    page = khanh.last_text
    assert "Đăng ký thi đua: 0/1 đoàn viên (0%); đã liên kết tài khoản: 1" in page
    yt = "Công đoàn cơ sở Trung tâm Y tế huyện Hà Quảng"
    assert f"• {yt}: " + plain(text("vi", "insights.progress_no_target", submitted=0)) in page  # its own
    offered = " ".join(choices(khanh.last))
    assert "Đăng ký tập thể" in offered
    assert "Kết thúc phong trào" not in offered and "Chỉ tiêu cho đơn vị cấp dưới" not in offered
    async with store.begin() as repos:
        campaign = await repos.campaigns.by_code("LDG-2026")
        assert campaign is not None
    for forged in (CloseCampaign(campaign.id), ConfirmClose(campaign.id), UnitTargets(campaign.id)):
        await forge(khanh, forged.pack())  # the rights rule holds against a button nobody drew
        assert khanh.last_text == plain(text("vi", "fallback.stale_button"))
    await khanh.send("/phatdong LDG-2026")
    assert khanh.last_text == plain(text("vi", "problem.campaign_out_of_reach", code="LDG-2026"))
    async with store.begin() as repos:
        after = await repos.campaigns.by_code("LDG-2026")
    assert after is not None and after.status == "launched"
    await hung.send("/phongtrao")  # the district's own officer sees it as theirs, unmarked
    assert TITLE in hung.last_text and DISTRICT not in hung.last_text


async def test_past_the_deadline_a_campaign_page_offers_no_registering(
    people: People, clock: ManualClock
) -> None:
    hung, mai = await campaign_running(people)
    await register(mai)
    clock.advance(timedelta(days=24))  # 26/3: the deadline 25/3 has passed
    await mai.send("/phongtrao")
    await mai.press(TITLE)
    assert "Bạn đã đăng ký phong trào này" in mai.last_text
    offered = " ".join(choices(mai.last))
    assert not [label for label in ("Đăng ký thi đua", "Sửa đăng ký", "Rút đăng ký") if label in offered]
    await hung.send("/phongtrao")
    await hung.press(TITLE)
    offered = " ".join(choices(hung.last))
    assert "Đăng ký tập thể" not in offered and "Đăng ký thi đua" not in offered
    assert "Kết thúc phong trào" in offered


@pytest.mark.sandbox  # Telegram only: it presses an older message's button (a menu answers the newest)
async def test_an_old_button_of_a_closed_campaign_changes_nothing(
    chat: Callable[..., Chat], store: Store
) -> None:
    hung, mai = await campaign_running(chat)
    await mai.press("Xem và đăng ký")
    page = mai.last
    await hung.send("/phongtrao")
    await hung.press(TITLE)
    await hung.press("Kết thúc phong trào")
    await hung.press("Kết thúc")
    assert "Đã kết thúc phong trào" in hung.last_text
    await mai.press_in(page, "Đăng ký thi đua")
    assert "đã kết thúc" in mai.last_text
    await mai.send("/phongtrao")
    assert "chưa có phong trào thi đua nào" in mai.last_text
