"""Issue 10, items 12, 17 and 18: reminders planned by every launch, calendar days with their dates and the
officer's own words filled in, unit search in any word order, and what members and officers are shown.
The conversations run on every channel (``people``)."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime

import pytest

from bot.demo import seed
from bot.domain.officers import grant_officer
from bot.engine.clock import ManualClock
from messages import plain, text
from messages.formatting import VIETNAM
from storage.database import Store
from storage.migrate import upgrade_async
from storage.records import CoAuthor
from tests.conftest import People
from tests.helpers.campaigns import campaign_running
from tests.helpers.choices import body, choices
from tests.helpers.flows import give_phone, linked
from tests.helpers.roster import HUNG, NOW, STRANGER
from tests.test_insights import registered_and_recognised


def said(language: str, key: str, **params: object) -> str:
    """A catalog text as the person reads it."""
    return plain(text(language, key, **params))


def at_local(day: int, month: int, hour: int, year: int = 2026) -> datetime:
    """A moment, Vietnam time, as UTC."""
    return datetime(year, month, day, hour, tzinfo=VIETNAM).astimezone(UTC)


async def test_the_demo_seed_launches_through_the_same_path_and_plans_reminders(db_url: str) -> None:
    await upgrade_async(
        db_url
    )  # `thidua db upgrade`, which PostgreSQL needs (the demo's SQLite does it itself)
    store = Store(db_url)
    now = at_local(2, 3, 9)
    try:
        await seed(store, now)
        async with store.begin() as repos:
            planned = await repos.reminders.planned()
            by_campaign: dict[str, list[datetime]] = {}
            for sending in planned:
                assert sending.rule.campaign_id is not None
                campaign = await repos.campaigns.get(sending.rule.campaign_id)
                assert campaign is not None
                by_campaign.setdefault(campaign.code, []).append(sending.due_at)
    finally:
        await store.close()
    # LDG-2026 closes registration 20 days after today (22/3), TCN-2026 on 25/4; XSD is still a draft.
    assert by_campaign == {
        "LDG-2026": [at_local(15, 3, 8), at_local(19, 3, 8), at_local(21, 3, 8)],
        "TCN-2026": [at_local(18, 4, 8), at_local(22, 4, 8), at_local(24, 4, 8)],
    }


async def test_calendar_days_show_their_dates_and_own_words_fill_the_placeholders(
    people: People, clock: ManualClock
) -> None:
    hung, mai = await campaign_running(people)
    await hung.send("/nhacviec")
    await hung.press("Lịch năm công đoàn")
    shown = hung.last_text
    # Tết 2026 has passed (17/2); the coming one falls on 6/2/2027, reminded a week before.
    tet = said("vi", "calendar_name.tet")
    assert f"{tet}: 06/02/2027 (nhắc 30/01/2027)" in shown
    assert "01/05/2026 (nhắc 20/04/2026, 25/04/2026)" in shown
    await hung.press("Tháng Công nhân")
    await hung.press("Lời riêng")
    assert "{date}" in hung.last_text and "{days_left}" in hung.last_text and "{unit}" in hung.last_text
    await hung.send("{unit}: Tháng Công nhân bắt đầu {date}, còn {days_left} ngày. Giữ nguyên {khác}.")
    await hung.send("/nhacviec")
    name = said("vi", "calendar_name.workers_month")
    planned = [line for line in hung.last_text.splitlines() if "20/04/2026" in line]
    assert planned and planned[0].endswith(name)  # not an empty description
    clock.current = at_local(20, 4, 8)
    await mai.runtime.reminders.tick()
    await mai.runtime.outbox.wait_idle()
    filled = "Liên đoàn Lao động huyện Hà Quảng: Tháng Công nhân bắt đầu 01/05/2026, còn 11 ngày."
    assert filled + " Giữ nguyên {khác}." in mai.last_text


async def test_unit_search_takes_words_in_any_order_without_accents(people: People) -> None:
    nam = people(*STRANGER)
    await nam.send("/start")
    await give_phone(nam, STRANGER[3])
    await nam.press("Gửi yêu cầu tham gia")
    for typed in ("thpt cao bang", "Cao Bằng THPT", "truong  thanh pho"):
        await nam.send(typed)
        assert choices(nam.last)[0] == "Công đoàn cơ sở Trường THPT Thành phố Cao Bằng", typed
    await nam.send("thpt dien luc")  # every word must match
    assert said("vi", "join.no_unit", query="thpt dien luc") in nam.last_text


async def test_a_newcomers_typed_name_is_written_as_names_are(people: People, store: Store) -> None:
    nam = people(*STRANGER)
    await nam.send("/start")
    await give_phone(nam, STRANGER[3])
    await nam.press("Gửi yêu cầu tham gia")
    await nam.send("dien luc")
    await nam.press("Điện lực Hà Quảng")
    await nam.send("  trần văn  NAM ")
    assert "Trần Văn Nam" in nam.last_text
    await nam.press("Gửi yêu cầu")
    async with store.begin() as repos:
        pending = await repos.join_requests.pending_of_user(people.channel, nam.user_id)
    assert pending is not None and pending.full_name == "Trần Văn Nam"


@pytest.mark.telegram
@pytest.mark.zalo
async def test_a_broadcast_to_the_unregistered_carries_the_register_button(people: People) -> None:
    hung, mai = await campaign_running(people)
    await hung.send("/thongbao")
    await hung.send("Đề nghị các đồng chí hoàn thành đăng ký thi đua trong tuần này.")
    await hung.press("Chưa đăng ký")
    await hung.press("Xác nhận gửi")
    notice = [m for m in mai.messages if "hoàn thành đăng ký thi đua" in m.plain_text]
    assert len(notice) == 1 and choices(notice[0]) == [said("vi", "reminders.registration_button")]
    assert notice[0] == mai.last
    await mai.press(said("vi", "reminders.registration_button"))
    assert said("vi", "register.ask_titles") in [body(m) for m in mai.messages[-2:]]


async def test_past_the_deadline_a_message_to_the_unregistered_carries_no_register_button(
    people: People, clock: ManualClock
) -> None:
    hung, mai = await campaign_running(people)
    await hung.send("/nhacviec")  # planned before the deadline 25/3, sent after it
    await hung.press("Nhắc việc mới")
    await hung.send("Các đồng chí chưa đăng ký vẫn hưởng ứng phong trào.")
    await hung.send("27/3 8:00")
    await hung.press("Chưa đăng ký")
    await hung.press("Xác nhận gửi")
    clock.current = datetime(2026, 3, 27, 1, 0, tzinfo=UTC)  # 08:00 in Vietnam, two days past the deadline
    await hung.runtime.reminders.tick()
    await hung.runtime.outbox.wait_idle()
    await hung.send("/thongbao")
    await hung.send("Các đồng chí chưa đăng ký vẫn tham gia các hoạt động.")
    await hung.press("Chưa đăng ký")
    await hung.press("Xác nhận gửi")
    notices = [m for m in mai.messages if "Các đồng chí chưa đăng ký vẫn" in m.plain_text]
    assert len(notices) == 2 and [choices(m) for m in notices] == [[], []]  # it would only be refused


async def test_the_review_report_names_co_authors_and_pastes_as_plain_text(
    people: People, store: Store
) -> None:
    hung, _ = await registered_and_recognised(people, store)
    async with store.begin() as repos:
        mai_member = await repos.members.by_code("DV001")
        assert mai_member is not None
        [initiative] = await repos.initiatives.of_member(mai_member.id)
        await repos.initiatives.set_coauthors(initiative.id, 70, [CoAuthor("Bế Văn Toàn", 30)], NOW)
    await hung.send("/tongket LDG-2026")
    report = hung.last
    assert re.search(r"<[a-z/]", report.text) is None  # no bold or italics to lose when pasted
    words = report.plain_text
    assert "«Đọc công tơ từ xa» của Hoàng Thị Mai, Bế Văn Toàn — 80.000.000 đ" in words
    assert "Bế Văn Toàn (Công đoàn cơ sở Điện lực Hà Quảng): 1" in words
    assert [char for char in words if unicodedata.category(char) == "So"] == []
    assert all(line == line.strip() for line in words.splitlines())


async def test_invite_without_a_code_offers_the_units_below_with_their_codes(
    people: People, store: Store
) -> None:
    await grant_officer(store, "CDN-GD", member_code="DV002", actor="test", now=NOW)
    hung = await linked(people, HUNG)  # leads LDLD-HQ and CDN-GD, each with base unions below
    await hung.send("/moi")
    assert choices(hung.last) == [
        said("vi", "invite.unit_button", name=name, code=code)
        for name, code in (
            ("Liên đoàn Lao động huyện Hà Quảng", "LDLD-HQ"),
            ("Công đoàn cơ sở Trung tâm Y tế huyện Hà Quảng", "CDCS-YT"),
            ("Công đoàn cơ sở Điện lực Hà Quảng", "CDCS-DL"),
            ("Công đoàn ngành Giáo dục", "CDN-GD"),
            ("Công đoàn cơ sở Trường THPT Thành phố Cao Bằng", "CDCS-THPT"),
        )
    ]
    await hung.press("CDCS-DL")
    link = hung.last_text.splitlines()[1]  # the channel's link that opens the bot with /start CODE
    assert "Công đoàn cơ sở Điện lực Hà Quảng" in hung.last_text and "start" in link
    await hung.send("/taophongtrao")
    await hung.send("tcn-2026")
    await hung.send("Tháng Công nhân 2026")
    await hung.press("Bỏ qua")
    await hung.press(said("vi", "campaigns.kind_peak"))
    assert choices(hung.last)[:2] == [
        said("vi", "newcampaign.unit_button", name="Liên đoàn Lao động huyện Hà Quảng", code="LDLD-HQ"),
        said("vi", "newcampaign.unit_button", name="Công đoàn ngành Giáo dục", code="CDN-GD"),
    ]


async def test_a_members_page_and_cuatoi_show_the_titles_and_pledges_registered(
    people: People,
) -> None:
    _, mai = await campaign_running(people)
    await mai.send("/dangky LDG-2026")
    await mai.press("Lao động giỏi")
    await mai.press("Chiến sĩ thi đua cơ sở")
    await mai.press("Xong")
    await mai.send("Sáng kiến cải tiến kỹ thuật; sáng kiến; 2\nĐào tạo nâng cao tay nghề; khóa; 1")
    await mai.send("Đọc công tơ từ xa")
    await mai.press("Xác nhận đăng ký")
    expected = [
        said("vi", "register.summary_titles", titles="Lao động giỏi, Chiến sĩ thi đua cơ sở"),
        said(
            "vi",
            "register.summary_pledge",
            content="Sáng kiến cải tiến kỹ thuật",
            unit="sáng kiến",
            figure="2",
        ),
        said("vi", "register.summary_pledge", content="Đào tạo nâng cao tay nghề", unit="khóa", figure="1"),
        said("vi", "register.summary_initiative", initiative="Đọc công tơ từ xa"),
    ]
    await mai.send("/cuatoi")
    assert all(line in mai.last_text for line in expected), mai.last_text
    await mai.send("/phongtrao")
    await mai.press("Lao động giỏi, lao động sáng tạo 2026")
    assert all(line in mai.last_text for line in expected), mai.last_text
