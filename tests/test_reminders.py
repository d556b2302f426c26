"""Scheduled reminders with a controllable clock: the right local time, the right members, quiet hours,
opt-outs, a bot that was down across a reminder's time, and two instances sharing one database.

They run on every channel (``people``); the one that restarts the bot stays on the Telegram sandbox."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from bot.app import Runtime
from bot.engine.clock import ManualClock
from bot.engine.scheduler import ReminderScheduler
from handlers.reminder_notices import REMINDER_WORDING
from messages import plain, text
from messages.formatting import VIETNAM
from storage.database import Store
from tests.conftest import BotHolder, People
from tests.helpers.campaigns import campaign_running
from tests.helpers.chat import Chat
from tests.helpers.choices import body, choices
from tests.helpers.flows import linked
from tests.helpers.memory_chat import MemoryChat
from tests.helpers.roster import HOA

REMINDER = "hết hạn đăng ký phong trào"


def at_local(day: int, month: int, hour: int, minute: int = 0) -> datetime:
    """A moment in 2026, Vietnam time, as UTC."""
    return datetime(2026, month, day, hour, minute, tzinfo=VIETNAM).astimezone(UTC)


def reminders_of(person: Chat | MemoryChat) -> list[str]:
    return [m.plain_text for m in person.messages if REMINDER in m.plain_text]


async def tick(runtime: Runtime) -> None:
    await runtime.reminders.tick()
    await runtime.outbox.wait_idle()


async def planned_moments(store: Store) -> list[datetime]:
    async with store.begin() as repos:
        return [sending.due_at for sending in await repos.reminders.planned()]


async def test_launch_plans_reminders_at_eight_in_the_morning_before_the_deadline(
    people: People, store: Store
) -> None:
    await campaign_running(people)  # LDG-2026: registration closes on 25/3
    assert await planned_moments(store) == [at_local(18, 3, 8), at_local(22, 3, 8), at_local(24, 3, 8)]


@pytest.mark.telegram
@pytest.mark.zalo
async def test_a_reminder_reaches_only_the_unregistered_and_opens_the_registration(
    people: People, store: Store, clock: ManualClock
) -> None:
    hung, mai = await campaign_running(people)
    hoa = await linked(people, HOA)  # outside the campaign's subtree
    await hung.send("/dangky LDG-2026")
    await hung.press("Lao động giỏi")
    await hung.press("Xong")
    await hung.press("Bỏ qua")
    await hung.press("Xác nhận đăng ký")
    clock.current = at_local(18, 3, 7, 59)
    await tick(mai.runtime)
    assert reminders_of(mai) == []  # not yet
    clock.current = at_local(18, 3, 8)
    await tick(mai.runtime)
    assert len(reminders_of(mai)) == 1 and "Còn 7 ngày" in reminders_of(mai)[0]
    assert reminders_of(hung) == [] and reminders_of(hoa) == []
    await tick(mai.runtime)
    assert len(reminders_of(mai)) == 1  # a second tick sends nothing twice
    await mai.press("Đăng ký ngay")
    assert body(mai.last) == plain(text("vi", "register.ask_titles"))


async def test_quiet_hours_defer_and_opt_outs_skip(people: People, store: Store, clock: ManualClock) -> None:
    hung, mai = await campaign_running(people)
    async with store.begin() as repos:
        mai_account = await repos.accounts.get(people.channel, mai.user_id)
        hung_account = await repos.accounts.get(people.channel, hung.user_id)
        assert mai_account is not None and hung_account is not None
        await repos.accounts.set_quiet_hours(mai_account.id, 7 * 60, 9 * 60)  # sleeps in until nine
        await repos.accounts.set_reminders_off(hung_account.id, True)
    clock.current = at_local(18, 3, 8)
    await tick(mai.runtime)
    assert reminders_of(mai) == [] and reminders_of(hung) == []
    clock.current = at_local(18, 3, 9)
    await hung.runtime.outbox.wait_idle()
    assert len(reminders_of(mai)) == 1
    assert reminders_of(hung) == []  # switched off; announcements still came
    assert any("phát động phong trào" in m.plain_text for m in hung.messages)


@pytest.mark.sandbox  # Telegram only until the memory channel can restart: it stops and starts the bot
async def test_a_bot_down_across_a_reminder_sends_it_within_grace_and_reports_it_beyond(
    chat: Callable[..., Chat], store: Store, bot: BotHolder, clock: ManualClock
) -> None:
    hung, mai = await campaign_running(chat)
    await bot.runtime.stop()
    clock.current = at_local(18, 3, 10)  # two hours late: within the six-hour grace
    bot.runtime = type(bot.runtime)(bot.settings, clock, poll_timeout=1)
    await bot.runtime.start()
    await bot.runtime.outbox.wait_idle()
    assert len(reminders_of(mai)) == 1
    await bot.runtime.stop()
    clock.current = at_local(22, 3, 15)  # seven hours late
    bot.runtime = type(bot.runtime)(bot.settings, clock, poll_timeout=1)
    await bot.runtime.start()
    await bot.runtime.outbox.wait_idle()
    assert len(reminders_of(mai)) == 1
    assert any("đã bị lỡ" in m.plain_text and "08:00 ngày 22/03/2026" in m.plain_text for m in hung.messages)
    async with store.begin() as repos:
        statuses = [s.status for s in await repos.reminders.planned()]
    assert statuses == ["planned"]  # the one on 24/3 still waits


async def test_two_instances_sharing_a_database_send_each_reminder_once(
    people: People, store: Store, clock: ManualClock
) -> None:
    _, mai = await campaign_running(people)
    runtime, settings = mai.runtime, mai.runtime.settings
    await runtime.reminders.stop()  # two fresh instances instead, driven by hand
    wake = runtime.outbox.wake
    first = ReminderScheduler(
        store, clock, settings, on_queued=wake, wording=REMINDER_WORDING, instance="first"
    )
    second = ReminderScheduler(
        store, clock, settings, on_queued=wake, wording=REMINDER_WORDING, instance="second"
    )
    assert await first.renew() is True
    assert await second.renew() is False  # the lease is held
    clock.current = at_local(18, 3, 8)
    await second.tick()
    await first.tick()
    await second.tick()
    await first.tick()
    await runtime.outbox.wait_idle()
    assert len(reminders_of(mai)) == 1
    # The first instance dies without handing over: once its lease expires, the second takes over.
    clock.advance(timedelta(seconds=61))
    assert await second.renew() is True
    clock.current = at_local(22, 3, 8)
    await second.tick()
    await runtime.outbox.wait_idle()
    assert len(reminders_of(mai)) == 2


async def test_an_officer_switches_on_calendar_days_for_the_unit(
    people: People, store: Store, clock: ManualClock
) -> None:
    hung, mai = await campaign_running(people)
    await hung.send("/nhacviec")
    await hung.press("Lịch năm công đoàn")
    await hung.press("Quốc tế Lao động 1/5")
    await hung.press("Lời riêng")
    await hung.send("Chúc mừng 1/5! Chiều nay liên hoan tại hội trường.")
    await hung.press("Tết Nguyên đán")
    assert "✅ Tết Nguyên đán" in choices(hung.last)
    moments = await planned_moments(store)
    assert at_local(1, 5, 8) in moments
    assert datetime(2027, 1, 30, 8, tzinfo=VIETNAM).astimezone(UTC) in moments  # Tết 2027 falls on 6/2
    clock.current = at_local(1, 5, 8)
    await tick(mai.runtime)
    assert any("Chiều nay liên hoan tại hội trường" in m.plain_text for m in mai.messages)
    await hung.send("/nhacviec")
    await hung.press("Lịch năm công đoàn")
    await hung.press("Tết Nguyên đán")  # switched off again
    assert datetime(2027, 1, 30, 8, tzinfo=VIETNAM).astimezone(UTC) not in await planned_moments(store)


def said(language: str, key: str, **params: object) -> str:
    """A catalog text as the person reads it."""
    return plain(text(language, key, **params))


async def test_a_moment_that_cannot_be_read_or_has_passed_is_explained_and_asked_again(
    people: People, store: Store
) -> None:
    hung, _ = await campaign_running(people)
    await hung.send("/nhacviec")
    await hung.press("Nhắc việc mới")
    await hung.send("Nộp báo cáo sơ kết quý I")
    for typed, key, shown in (
        ("hôm qua", "parse.time.format", "hôm qua"),
        ("25/13 25:00", "parse.time.format", "25/13 25:00"),
        ("25/13 8:00", "parse.date.not_exist", "25/13"),
        ("hôm qua 8:00", "parse.date.format", "hôm qua"),
        ("1/3/2026 8:00", "problem.reminder_in_past", None),
    ):
        replies = await hung.send(typed)
        explained = said("vi", key, text=shown) if shown is not None else said("vi", key)
        assert [body(m) for m in replies] == [explained, said("vi", "announce.ask_when")], typed
    await hung.send("10/3 8:00")  # still at the same step: a good answer moves on
    await hung.press("Tất cả đoàn viên")
    await hung.press("Xác nhận gửi")
    assert body(hung.last) == said("vi", "announce.scheduled", at="08:00 ngày 10/03/2026")


async def plan_reminder(officer: Chat | MemoryChat, words: str, when: str) -> None:
    """The officer plans a reminder to every member of their unit through /nhacviec."""
    await officer.send("/nhacviec")
    await officer.press("Nhắc việc mới")
    await officer.send(words)
    await officer.send(when)
    await officer.press("Tất cả đoàn viên")
    await officer.press("Xác nhận gửi")


def received(person: Chat | MemoryChat, words: str) -> int:
    return sum(words in m.plain_text for m in person.messages)


async def test_a_reminder_confirmed_seconds_before_its_moment_goes_out_at_the_next_renewal(
    people: People, clock: ManualClock, store: Store
) -> None:
    hung, mai = await campaign_running(people)
    clock.current = at_local(10, 3, 13, 59) + timedelta(seconds=50)
    await plan_reminder(hung, "Họp ban chấp hành", "10/3 14:00")
    await hung.runtime.reminders.wait_idle()
    clock.current = at_local(10, 3, 14, 0) + timedelta(seconds=10)
    await hung.runtime.reminders.renew()  # the 20-second lease renewal: it finds the sending due, sends it
    await hung.runtime.outbox.wait_idle()
    assert received(mai, "Họp ban chấp hành") == 1
    async with store.begin() as repos:  # sent, not reported missed
        custom = [r for r in await repos.reminders.active_rules("custom")]
        assert [status for _, status in await repos.reminders.statuses(custom[0].id)] == ["sent"]


async def test_a_new_plan_wakes_the_scheduler_which_sends_what_is_due(
    people: People, clock: ManualClock
) -> None:
    hung, mai = await campaign_running(people)
    clock.current = at_local(10, 3, 13, 59) + timedelta(seconds=50)
    await plan_reminder(hung, "Họp ban chấp hành", "10/3 14:00")
    await hung.runtime.reminders.wait_idle()
    clock.current = at_local(10, 3, 14, 0) + timedelta(seconds=5)
    # No renewal and no tick by hand: confirming another reminder is a plan change, which wakes the
    # scheduler at once; its rebuild finds the first reminder due and sends it.
    await plan_reminder(hung, "Nộp báo cáo tháng", "10/3 17:00")
    await hung.runtime.reminders.wait_idle()
    await hung.runtime.outbox.wait_idle()
    assert received(mai, "Họp ban chấp hành") == 1 and received(mai, "Nộp báo cáo tháng") == 0


async def test_an_officers_one_off_reminder_fills_its_placeholders(
    people: People, clock: ManualClock
) -> None:
    hung, mai = await campaign_running(people)
    await hung.send("/nhacviec")
    await hung.press("Nhắc việc mới")
    assert "{date}" in hung.last_text and "{deadline}" in hung.last_text  # the placeholders are offered
    await hung.send("{unit} nhắc: hôm nay {date}, hạn {deadline} (còn {days_left} ngày) — {campaign}. {khác}")
    await hung.send("10/3 8:00")
    await hung.press("Chưa đăng ký")  # the unregistered of a campaign: its deadline can be named
    await hung.press("Xác nhận gửi")
    clock.current = at_local(10, 3, 8)
    await hung.runtime.reminders.tick()
    await hung.runtime.outbox.wait_idle()
    filled = "Liên đoàn Lao động huyện Hà Quảng nhắc: hôm nay 10/03/2026, hạn 25/03/2026 (còn 15 ngày)"
    assert filled in mai.last_text and "{khác}" in mai.last_text and "{date}" not in mai.last_text


async def test_a_district_officers_reminder_to_a_base_union_below_comes_from_the_district(
    people: People, clock: ManualClock
) -> None:
    hung, mai = await campaign_running(people)  # Hùng leads the district; Mai is in Điện lực, below it
    clock.current = at_local(10, 3, 13, 0)
    await hung.send("/nhacviec")
    await hung.press("Nhắc việc mới")
    await hung.send("Nộp danh sách sáng kiến")
    await hung.send("10/3 14:00")
    await hung.press(said("vi", "announce.other_unit"))
    await hung.send("CDCS-DL")
    await hung.press("Tất cả đoàn viên")
    await hung.press("Xác nhận gửi")
    await hung.runtime.reminders.wait_idle()
    clock.current = at_local(10, 3, 14, 0) + timedelta(seconds=10)
    await hung.runtime.reminders.renew()
    await hung.runtime.outbox.wait_idle()
    head = said("vi", "reminders.custom_head", unit="Liên đoàn Lao động huyện Hà Quảng")
    reminder = f"{head}\nNộp danh sách sáng kiến"
    assert [m.plain_text for m in mai.messages if "Nộp danh sách sáng kiến" in m.plain_text] == [reminder]
    assert reminder not in [m.plain_text for m in hung.messages]  # Y tế, Hùng's base union, is not Điện lực
