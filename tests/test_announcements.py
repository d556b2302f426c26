"""Officers' /broadcast and /remind, and members' /reminders settings, on every channel (``people``)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.engine.clock import ManualClock
from messages import formatting, plain, text
from storage.database import Store
from tests.conftest import MemoryBot, People
from tests.helpers.campaigns import campaign_running
from tests.helpers.choices import body, choices
from tests.helpers.flows import grant_by_account, linked
from tests.helpers.memory_chat import MemoryChat
from tests.helpers.roster import HOA, HUNG, MAI
from tests.helpers.words import said


@pytest.mark.telegram
@pytest.mark.zalo
async def test_a_broadcast_to_the_unregistered_of_a_campaign(people: People) -> None:
    hung, mai = await campaign_running(people)
    hoa = await linked(people, HOA)
    await hung.send("/thongbao")
    await hung.send("Họp công đoàn lúc 14 giờ thứ Sáu <phòng 2>")
    await hung.press("Chưa đăng ký")
    assert "Người nhận: ⏳ Chưa đăng ký: Lao động giỏi, lao động sáng tạo 2026 — 2 người" in hung.last_text
    await hung.press("Xác nhận gửi")
    assert any("Họp công đoàn lúc 14 giờ thứ Sáu <phòng 2>" in m.plain_text for m in mai.messages)
    assert not any("Họp công đoàn" in m.plain_text for m in hoa.messages)
    assert any("Đã gửi xong thông báo" in m.plain_text for m in hung.messages)


async def test_a_broadcast_is_headed_as_a_notice_and_its_summary_names_it_without_a_stray_space(
    people: People,
) -> None:
    hung, mai = await campaign_running(people)
    body = "Họp công đoàn " * 10  # its first 60 characters end in a space
    await hung.send("/thongbao")
    await hung.send(body)
    await hung.press("Tất cả đoàn viên")
    await hung.press("Xác nhận gửi")
    notice = next(m.plain_text for m in mai.messages if "Họp công đoàn" in m.plain_text)
    head = plain(text("vi", "announce.head", unit="Liên đoàn Lao động huyện Hà Quảng"))
    assert notice.splitlines()[0] == head and head.startswith("📢") and "nhắc" not in head
    [summary] = [m.plain_text for m in hung.messages if "Đã gửi xong thông báo «Họp" in m.plain_text]
    named = formatting.excerpt(body, 60)
    assert named.endswith("Họp…") and len(named) <= 60
    assert f"«{named}»:" in summary.splitlines()[0] and " :" not in summary


async def test_a_planned_reminder_goes_out_at_its_time_and_can_be_cancelled_by_its_owner_only(
    people: People, clock: ManualClock, store: Store
) -> None:
    hung, mai = await campaign_running(people)
    await hung.send("/nhacviec")
    await hung.press("Nhắc việc mới")
    await hung.send("Nộp báo cáo sơ kết quý I")
    explained, asked_again = await hung.send("1/3/2026 8:00")
    assert "đã qua" in explained.plain_text and "Gửi lúc nào?" in asked_again.plain_text
    await hung.send("10/3 8:00")
    await hung.press("Tất cả đoàn viên")
    await hung.press("Xác nhận gửi")
    assert "08:00 ngày 10/03/2026" in hung.last_text
    await hung.send("/nhacviec")
    assert "Nộp báo cáo sơ kết quý I" in hung.last_text
    # An officer who did not create it cannot cancel it.
    async with store.begin() as repos:
        sending = next(s for s in await repos.reminders.planned() if s.rule.kind == "custom")
    await grant_by_account(store, "LDLD-HQ", people.channel, people.user_id(888))
    other = people(888, "Khác", "Cán bộ")
    await other.send("/nhacviec")
    await other.press("Hủy lời nhắc 08:00 ngày 10/03/2026")
    assert "do chính mình tạo" in other.last_text
    clock.current = datetime(2026, 3, 10, 1, 0, tzinfo=UTC)  # 08:00 in Vietnam
    await hung.runtime.reminders.tick()
    await hung.runtime.outbox.wait_idle()
    assert any("Nộp báo cáo sơ kết quý I" in m.plain_text for m in mai.messages)
    async with store.begin() as repos:
        assert [status for _, status in await repos.reminders.statuses(sending.rule.id)] == ["sent"]


async def test_the_owner_cancels_a_planned_reminder(people: People, store: Store) -> None:
    hung, _ = await campaign_running(people)
    await hung.send("/nhacviec")
    await hung.press("Nhắc việc mới")
    await hung.send("Chuẩn bị Tháng Công nhân")
    await hung.send("20/4 8:00")
    await hung.press("Tất cả đoàn viên")
    await hung.press("Xác nhận gửi")
    await hung.send("/nhacviec")
    await hung.press("Hủy lời nhắc 08:00 ngày 20/04/2026")
    assert "Đã hủy lời nhắc" in hung.last_text
    async with store.begin() as repos:
        assert not [s for s in await repos.reminders.planned() if s.rule.kind == "custom"]


async def test_a_member_switches_reminders_off_and_picks_quiet_hours(people: People, store: Store) -> None:
    _, mai = await campaign_running(people)
    await mai.send("/nhacnho")
    assert "Trạng thái: đang bật" in mai.last_text and "21:00–07:00" in mai.last_text
    await mai.press("Tắt nhắc nhở")
    assert "Trạng thái: đang tắt" in mai.last_text
    await mai.press("22:00–06:00")
    assert "Không làm phiền" in mai.last_text and "22:00–06:00" in mai.last_text
    async with store.begin() as repos:
        account = await repos.accounts.get(people.channel, mai.user_id)
        assert account is not None
        assert await repos.accounts.preferences(account.id) == (True, 22 * 60, 6 * 60)


DIEN_LUC = "Công đoàn cơ sở Điện lực Hà Quảng"


@pytest.mark.telegram
@pytest.mark.zalo
async def test_a_district_officer_broadcasts_to_one_base_union_below_and_reaches_only_it(
    people: People, store: Store
) -> None:
    hung, mai = await campaign_running(people)  # Hùng leads the district; he is in Y tế, Mai in Điện lực
    await hung.send("/thongbao")
    await hung.send("Họp công đoàn Điện lực lúc 14 giờ")
    await hung.press(said("announce.other_unit"))
    assert said("announce.unit_button", name=DIEN_LUC, code="CDCS-DL") in choices(hung.last)
    await hung.press(DIEN_LUC)
    assert any("Lao động giỏi, lao động sáng tạo 2026" in label for label in choices(hung.last))
    await hung.press("Tất cả đoàn viên")
    assert f"Đơn vị: {DIEN_LUC}" in hung.last_text and "— 1 người" in hung.last_text
    await hung.press("Xác nhận gửi")
    await hung.runtime.outbox.wait_idle()
    head = said("announce.head", unit="Liên đoàn Lao động huyện Hà Quảng")  # who sends it, not to whom
    assert [m for m in mai.messages if m.plain_text.startswith(head)]
    assert not [m for m in hung.messages if m.plain_text.startswith(head)]  # Y tế is not Điện lực
    async with store.begin() as repos:
        entries = await repos.audit.recent(20)
    assert [e[2] for e in entries if e[1] == "broadcast.send"] == ["unit:CDCS-DL"]


async def test_a_province_officer_types_a_units_name_or_code_and_is_offered_its_own_campaigns(
    people: People, store: Store
) -> None:
    hung, _ = await campaign_running(people)  # LDG-2026 is the district's: not for the province's schools
    await grant_by_account(store, "LDLD-CB", people.channel, people.user_id(888))
    tinh = people(888, "Tỉnh", "Cán bộ")
    await tinh.send("/thongbao")
    await tinh.send("Họp công đoàn trường")
    await tinh.press(said("announce.other_unit"))
    await tinh.send("truong thpt")
    assert said("announce.ask_audience", unit="Công đoàn cơ sở Trường THPT Thành phố Cao Bằng") in body(
        tinh.last
    )
    assert not any("Lao động giỏi" in label for label in choices(tinh.last))
    await tinh.press(said("announce.other_unit"))
    await tinh.send("CDCS-DL")
    assert said("announce.ask_audience", unit=DIEN_LUC) in body(tinh.last)
    assert any("Lao động giỏi" in label for label in choices(tinh.last))
    await hung.send("/thongbao")  # the district's officer cannot reach a school of the province
    await hung.send("Họp")
    await hung.press(said("announce.other_unit"))
    await hung.send("CDCS-THPT")
    assert said("problem.unit_out_of_scope", unit="CDCS-THPT") in body(hung.last)


async def test_a_broadcast_sent_in_quiet_hours_says_it_waits_until_they_end(
    people: People, store: Store, clock: ManualClock
) -> None:
    hung, _ = await campaign_running(people)
    async with store.begin() as repos:  # Mai keeps no quiet hours; Hùng keeps the default
        account = await repos.accounts.get(people.channel, people.user_id(MAI[0]))
        assert account is not None
        await repos.accounts.set_quiet_hours(account.id, 0, 0)
    clock.current = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)  # 22:00 in Vietnam: inside 21:00–07:00
    await hung.send("/thongbao")
    await hung.send("Họp công đoàn sáng mai")
    await hung.press("Tất cả đoàn viên")
    await hung.press("Xác nhận gửi")
    sent, held = body(hung.last).splitlines()
    assert sent == said("announce.sent", count="2")
    assert held == said("announce.held", held="1", at="07:00 ngày 03/03/2026")


@pytest.mark.parametrize("channel_kind", ["memory-buttons"], indirect=True)
async def test_where_quiet_hours_are_not_kept_a_broadcast_at_night_goes_at_once_and_says_nothing_held(
    memory_bot: MemoryBot, clock: ManualClock
) -> None:
    """THIDUA_QUIET_HOURS=false (`thidua demo`): Hùng keeps the default 21:00–07:00, and gets it now."""
    memory_bot.settings = memory_bot.settings.model_copy(update={"quiet_hours": False})
    await memory_bot.restart()
    hung = await linked(lambda *person: MemoryChat(lambda: memory_bot.runtime, *person), HUNG)
    clock.current = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)  # 22:00 in Vietnam
    await hung.send("/thongbao")
    await hung.send("Họp công đoàn sáng mai")
    await hung.press("Tất cả đoàn viên")
    await hung.press("Xác nhận gửi")
    await memory_bot.runtime.outbox.wait_idle()
    replies = [body(message) for message in hung.messages]
    assert said("announce.sent", count="1") in replies  # and nothing said of quiet hours under it
    assert (
        replies[-2]
        == said("announce.head", unit="Liên đoàn Lao động huyện Hà Quảng") + "\nHọp công đoàn sáng mai"
    )
