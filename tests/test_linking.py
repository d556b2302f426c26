"""Linking where no contact can be shared (Zalo; here ``memory-menus``): personal one-time codes, a typed
phone that an officer confirms, invitations; and a member on two channels reached once.

The code tests run on every channel (``people``): a code links wherever it is typed. The typed-phone tests
check what each kind of channel does with a typed number: ask for the share button where there is one, else
ask an officer to confirm.
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import openpyxl
import pytest
import sqlalchemy as sa

from bot.app import Runtime
from bot.channels.memory import NUMBERED_MENUS, WITH_BUTTONS, MemoryChannel
from bot.domain.linking import issue_member_code
from bot.domain.officers import grant_officer
from bot.engine.clock import ManualClock
from bot.engine.config import load_settings
from bot.sandbox import TelegramSandbox
from bot.sandbox.zalo import ZaloSandbox
from messages import formatting, plain, text
from storage.database import Store
from storage.tables import link_code_failures
from tests.conftest import People
from tests.helpers.chat import Chat
from tests.helpers.choices import carries_file, choices, file_content
from tests.helpers.evaluation import OPENS, at_local, campaign_with_registrations, collective_registered
from tests.helpers.flows import can_share_contact, give_phone, grant_by_account, linked, linked_member_code
from tests.helpers.memory_chat import MemoryChat
from tests.helpers.roster import HUNG, MAI, MEMBERS_CSV, NOW, STRANGER, UNITS_CSV
from tests.helpers.zalo_chat import ZaloChat

CODE = re.compile(r"\b[A-Z2-9]{4}-[A-Z2-9]{4}\b")


def said(key: str, **params: object) -> str:
    """A catalog text as the person reads it, in Vietnamese."""
    return plain(text("vi", key, **params))


async def code_for(store: Store, clock: ManualClock, member_code: str) -> str:
    """A new personal code for a roster member, made by the domain function behind the officers' sheet."""
    async with store.begin() as repos:
        member = await repos.members.by_code(member_code)
        assert member is not None
        issued = await issue_member_code(repos, "test", member, clock.now(), timedelta(days=30))
    return issued.code


@pytest.mark.zalo
async def test_a_member_links_with_a_personal_code_typed_any_way(
    people: People, store: Store, clock: ManualClock
) -> None:
    code = await code_for(store, clock, "DV001")
    mai = people(*MAI)
    await mai.send("/start")
    replies = await mai.send(code.lower().replace("-", " "))  # "abcd efgh" reads as ABCD-EFGH
    assert any(said("onboarding.linked") in m.plain_text for m in replies)
    assert "Hoàng Thị Mai" in mai.last_text and "Điện lực Hà Quảng" in mai.last_text
    assert await linked_member_code(store, people.channel, people.user_id(MAI[0])) == "DV001"


async def test_start_with_a_personal_code_links_at_once(
    people: People, store: Store, clock: ManualClock
) -> None:
    code = await code_for(store, clock, "DV001")
    mai = people(*MAI)
    replies = await mai.send(f"/start {code}")
    assert any(said("onboarding.linked") in m.plain_text for m in replies)
    assert await linked_member_code(store, people.channel, people.user_id(MAI[0])) == "DV001"


async def test_a_used_code_is_refused(people: People, store: Store, clock: ManualClock) -> None:
    code = await code_for(store, clock, "DV001")
    mai = people(*MAI)
    await mai.send(f"/start {code}")
    other = people(1500, "Giả", "Mạo", phone="0900000002")
    await other.send("/start")
    await other.send(code)
    assert other.last_text == said("onboarding.code_used")
    assert await linked_member_code(store, people.channel, people.user_id(1500)) is None


async def test_a_code_of_a_member_linked_on_this_channel_is_refused_and_kept(
    people: People, store: Store, clock: ManualClock
) -> None:
    await linked(people, MAI)
    code = await code_for(store, clock, "DV001")  # for another channel, say; typed here by someone else
    other = people(1500, "Giả", "Mạo", phone="0900000002")
    await other.send(f"/start {code}")
    assert other.last_text == said("onboarding.code_taken")
    assert await linked_member_code(store, people.channel, people.user_id(1500)) is None


async def test_an_expired_or_replaced_code_is_refused(
    people: People, store: Store, clock: ManualClock
) -> None:
    old = await code_for(store, clock, "DV001")
    clock.advance(timedelta(days=31))  # THIDUA_LINK_CODE_DAYS is 30
    mai = people(*MAI)
    await mai.send("/start")
    await mai.send(old)
    assert mai.last_text == said("onboarding.code_expired")
    first = await code_for(store, clock, "DV001")
    newest = await code_for(store, clock, "DV001")  # a new sheet: the unused older code stops working
    await mai.send(first)
    assert mai.last_text == said("onboarding.wrong_code")
    await mai.send(newest)
    assert await linked_member_code(store, people.channel, people.user_id(MAI[0])) == "DV001"


async def test_guessing_codes_is_limited_to_five_wrong_tries_an_hour(
    people: People, store: Store, clock: ManualClock
) -> None:
    right = await code_for(store, clock, "DV001")
    guesser = people(1600, "Đoán", "Mò", phone="0900000001")
    await guesser.send("/start")
    for guess in ("AAAA-AAAA", "BBBB-BBBB", "CCCC-CCCC", "DDDD-DDDD", "EEEE-EEEE"):
        await guesser.send(guess)
        assert guesser.last_text == said("onboarding.wrong_code")
    await guesser.send(right)  # even the right code waits
    assert guesser.last_text == said("onboarding.too_many_tries")
    assert await linked_member_code(store, people.channel, people.user_id(1600)) is None
    assert await failures_kept(store) == 5
    clock.advance(timedelta(minutes=61))
    await guesser.send("FFFF-FFFF")  # a new window: the old tries are forgotten, not only no longer counted
    assert guesser.last_text == said("onboarding.wrong_code")
    assert await failures_kept(store) == 1
    await guesser.send(right)
    assert await linked_member_code(store, people.channel, people.user_id(1600)) == "DV001"


async def failures_kept(store: Store) -> int:
    """The wrong codes the database still holds, of anyone."""
    async with store.begin() as repos:
        count = sa.select(sa.func.count()).select_from(link_code_failures)
        return int((await repos.conn.execute(count)).scalar_one())


@pytest.mark.zalo
async def test_a_typed_phone_is_confirmed_by_an_officer_where_no_contact_can_be_shared(
    people: People, store: Store
) -> None:
    hung = await linked(people, HUNG)  # leads LĐLĐ Hà Quảng, above Mai's base union
    mai = people(*MAI)
    await mai.send("/start")
    await mai.send("0912 345 678")
    if can_share_contact(mai):  # a typed number proves nothing where the verified one can be shared
        assert mai.last_text == said("onboarding.press_share")
        return
    assert mai.last_text == said("onboarding.link_requested", phone="0912 345 678")
    assert "Hoàng Thị Mai" in hung.last_text and said("requests.open_button") in choices(hung.last)
    await hung.send("/yeucau")
    assert "DV001" in hung.last_text and "0912 345 678" in hung.last_text
    await hung.press("Duyệt")
    assert "Hoàng Thị Mai" in hung.last_text and "Đã xác nhận" in hung.last_text
    assert mai.last_text.startswith(said("requests.link_approved_notice"))
    assert await linked_member_code(store, people.channel, people.user_id(MAI[0])) == "DV001"
    await mai.send("/start")
    assert "Hoàng Thị Mai" in mai.last_text


async def test_a_declined_link_request_tells_the_person_and_links_nothing(
    people: People, store: Store
) -> None:
    hung = await linked(people, HUNG)
    mai = people(*MAI)
    await mai.send("/start")
    if can_share_contact(mai):
        pytest.skip("a typed phone asks for the share button on this channel")
    await mai.send("0912345678")
    await mai.send("/start")
    assert mai.last_text == said("onboarding.link_pending")
    await mai.send("0912 345 678")  # typed again: the officers are not asked twice
    assert mai.last_text == said("onboarding.link_pending")
    assert sum("Yêu cầu liên kết mới" in m.plain_text for m in hung.messages) == 1
    await hung.send("/yeucau")
    await hung.press("Từ chối")
    assert hung.last_text == said("requests.link_rejected", name="Hoàng Thị Mai")
    assert mai.last_text == said("requests.link_rejected_notice")
    assert await linked_member_code(store, people.channel, people.user_id(MAI[0])) is None


async def test_an_invitation_works_without_contact_sharing(people: People, store: Store) -> None:
    hung = await linked(people, HUNG)
    await hung.send("/moi CDCS-YT")
    found = re.search(r"start[?= ]([\w-]+)", hung.last_text)  # a link, or the command to type on Zalo
    assert found is not None
    invite = found.group(1)
    nam = people(*STRANGER)
    welcome = await nam.send(f"/start {invite}")
    if not can_share_contact(nam):
        assert welcome[-1].plain_text == said(
            "onboarding.welcome_invited_typed", unit="Công đoàn cơ sở Trung tâm Y tế huyện Hà Quảng"
        )
    await give_phone(nam, STRANGER[3])
    await nam.press("Gửi yêu cầu tham gia")
    await nam.send("Trần Văn Nam")
    await nam.press("Gửi yêu cầu")
    await hung.send("/yeucau")
    await hung.press("Duyệt")
    assert nam.last_text.startswith(
        said("requests.approved_notice", unit="Công đoàn cơ sở Trung tâm Y tế huyện Hà Quảng")
    )
    assert await linked_member_code(store, people.channel, people.user_id(STRANGER[0])) is not None


async def test_officers_get_their_units_codes_as_a_sheet_where_files_can_be_sent(
    people: People, store: Store
) -> None:
    hung = await linked(people, HUNG)
    await hung.send("/inma CDCS-DL")
    if not carries_file(hung.last):  # a channel that sends no files (Zalo) says how else to get them
        assert hung.last_text == said(
            "codes.no_files", unit="Công đoàn cơ sở Điện lực Hà Quảng", code="CDCS-DL"
        )
        return
    content = file_content(hung.last)
    assert content
    rows = list(openpyxl.load_workbook(io.BytesIO(content)).active.iter_rows(values_only=True))
    assert rows[0] == ("Mã đoàn viên", "Họ và tên", "Đơn vị", "Mã liên kết", "Hết hạn")
    [(_, name, unit, code, _)] = [row for row in rows[1:] if row and row[0] == "DV001"]
    assert (name, unit) == ("Hoàng Thị Mai", "Công đoàn cơ sở Điện lực Hà Quảng")
    assert CODE.fullmatch(str(code))
    assert len([row for row in rows[1:] if row and row[0] and str(row[0]).startswith("DV")]) == 1
    mai = people(*MAI)
    await mai.send(f"/start {code}")
    assert await linked_member_code(store, people.channel, people.user_id(MAI[0])) == "DV001"


def test_the_cli_writes_the_codes_of_a_subtree_to_print(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.cli import main  # the CLI sets up logging of its own: imported where it runs

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("THIDUA_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
    (tmp_path / "units.csv").write_text(UNITS_CSV, encoding="utf-8")
    (tmp_path / "members.csv").write_text(MEMBERS_CSV, encoding="utf-8")
    assert main(["import", "units", "units.csv"]) == 0
    assert main(["import", "members", "members.csv"]) == 0
    capsys.readouterr()
    assert main(["codes", "export", "--unit", "LDLD-HQ", "--out", "codes.xlsx"]) == 0
    assert capsys.readouterr().out.startswith("codes.xlsx: 2 link codes, valid until the end of ")
    rows = list(openpyxl.load_workbook(tmp_path / "codes.xlsx").active.iter_rows(values_only=True))
    assert sorted(row[0] for row in rows[1:3]) == ["DV001", "DV002"]
    assert all(CODE.fullmatch(str(row[3])) for row in rows[1:3])
    assert main(["codes", "export", "--unit", "NOPE", "--out", "codes.xlsx"]) == 2
    assert "no such unit" in capsys.readouterr().err


# --------------------------------------------------------------------------- one member, two channels


class OnChannel(MemoryChat):
    """A person on one of the runtime's in-process channels, named."""

    def __init__(self, runtime: Runtime, channel: str, *person: object) -> None:
        super().__init__(lambda: runtime, *person)  # type: ignore[arg-type]
        self._channel = channel

    @property
    def channel(self) -> MemoryChannel:
        """The named channel."""
        return next(
            c for c in self.runtime.channels if isinstance(c, MemoryChannel) and c.name == self._channel
        )


@pytest.fixture
async def two_channels(store: Store, db_url: str, clock: ManualClock) -> AsyncIterator[Runtime]:
    """The bot on two in-process channels: "memory" with buttons and contact, "zalo" like Zalo."""
    settings = load_settings(_env_file=None, database_url=db_url)
    runtime = Runtime(
        settings,
        clock,
        memory=MemoryChannel(WITH_BUTTONS, "vi"),
        more_memory=[MemoryChannel(NUMBERED_MENUS, "vi", name="zalo")],
    )
    await runtime.start()
    yield runtime
    await runtime.stop()


async def on_both(runtime: Runtime, clock: ManualClock) -> tuple[OnChannel, OnChannel, OnChannel]:
    """Hùng on the first channel; Mai linked there, then on "zalo" with the code /malienket gave her."""
    hung = OnChannel(runtime, "memory", *HUNG)
    await hung.send("/start")
    await hung.share_contact()
    mai = OnChannel(runtime, "memory", *MAI)
    await mai.send("/start")
    await mai.share_contact()
    await mai.send("/malienket")
    [code] = CODE.findall(mai.last_text)
    clock.advance(timedelta(minutes=2))
    mai_zalo = OnChannel(runtime, "zalo", *MAI)
    await mai_zalo.send("/start")
    await mai_zalo.send(code)
    assert said("onboarding.linked") in mai_zalo.messages[-2].plain_text
    return hung, mai, mai_zalo


async def broadcast(hung: OnChannel, words: str) -> None:
    """Hùng sends a notice to everyone in LĐLĐ Hà Quảng: Mai and himself, two people."""
    await hung.send("/thongbao")
    await hung.send(words)
    await hung.press("Tất cả đoàn viên")
    assert "— 2 người" in hung.last_text
    await hung.press("Xác nhận gửi")


def copies(person: OnChannel, words: str) -> int:
    return sum(words in m.plain_text for m in person.messages)


async def test_a_member_on_two_channels_gets_one_copy_on_the_one_used_last(
    two_channels: Runtime, clock: ManualClock
) -> None:
    hung, mai, mai_zalo = await on_both(two_channels, clock)
    await broadcast(hung, "Họp công đoàn sáng thứ Hai")
    assert (copies(mai, "Họp công đoàn sáng thứ Hai"), copies(mai_zalo, "Họp công đoàn sáng thứ Hai")) == (
        0,
        1,
    )
    clock.advance(timedelta(minutes=2))
    await mai.send("/start")  # back on the first channel
    await broadcast(hung, "Nộp báo cáo quý I")
    assert (copies(mai, "Nộp báo cáo quý I"), copies(mai_zalo, "Nộp báo cáo quý I")) == (1, 0)


async def test_a_second_channel_keeps_the_reminder_settings_of_the_first(
    two_channels: Runtime, clock: ManualClock
) -> None:
    mai = OnChannel(two_channels, "memory", *MAI)
    await mai.send("/start")
    await mai.share_contact()
    await mai.send("/nhacnho")
    await mai.press("Tắt nhắc nhở")
    await mai.send("/malienket")
    [code] = CODE.findall(mai.last_text)
    mai_zalo = OnChannel(two_channels, "zalo", *MAI)
    await mai_zalo.send(f"/start {code}")
    await mai_zalo.send("/nhacnho")
    assert said("preferences.state_off") in mai_zalo.last_text.split("\n")[1]


async def test_a_member_on_two_channels_chooses_where_to_be_reached(
    two_channels: Runtime, clock: ManualClock
) -> None:
    hung, mai, mai_zalo = await on_both(two_channels, clock)
    await mai_zalo.send("/nhacnho")
    assert (
        said("preferences.reached_on", channel=said("preferences.reached_last", channel="Zalo"))
        in mai_zalo.last_text
    )
    await mai_zalo.press("Nhận qua Memory")
    assert said("preferences.reached_on", channel="Memory") in mai_zalo.last_text
    clock.advance(timedelta(minutes=2))
    await mai_zalo.send("/start")  # used last, but not chosen
    await broadcast(hung, "Họp công đoàn sáng thứ Hai")
    assert (copies(mai, "Họp công đoàn sáng thứ Hai"), copies(mai_zalo, "Họp công đoàn sáng thứ Hai")) == (
        1,
        0,
    )
    await mai_zalo.send("/nhacnho")
    await mai_zalo.press("Kênh dùng gần nhất")
    await broadcast(hung, "Nộp báo cáo quý I")
    assert (copies(mai, "Nộp báo cáo quý I"), copies(mai_zalo, "Nộp báo cáo quý I")) == (0, 1)


async def test_an_officer_on_two_channels_is_told_once_and_settings_follow_the_person(
    two_channels: Runtime, clock: ManualClock
) -> None:
    hung = OnChannel(two_channels, "memory", *HUNG)
    await hung.send("/start")
    await hung.share_contact()
    await hung.send("/malienket")
    [code] = CODE.findall(hung.last_text)
    clock.advance(timedelta(minutes=2))
    hung_zalo = OnChannel(two_channels, "zalo", *HUNG)
    await hung_zalo.send(f"/start {code}")
    nam = OnChannel(two_channels, "memory", *STRANGER)
    await nam.send("/start")
    await nam.share_contact()
    await nam.press("Gửi yêu cầu tham gia")
    await nam.send("dien luc")
    await nam.press("Điện lực Hà Quảng")
    await nam.send("Trần Văn Nam")
    await nam.press("Gửi yêu cầu")
    notice = said("requests.new_notice", name="Trần Văn Nam", unit="Công đoàn cơ sở Điện lực Hà Quảng")
    assert (copies(hung, notice), copies(hung_zalo, notice)) == (0, 1)
    await hung_zalo.send("/nhacnho")
    await hung_zalo.press("Tắt nhắc nhở")
    await hung.send("/nhacnho")
    assert said("preferences.state_off") in hung.last_text.split("\n")[1]


@pytest.mark.parametrize("granted_to", ["member", "account"])
async def test_a_collectives_officer_on_two_channels_is_reminded_once(
    two_channels: Runtime, store: Store, clock: ManualClock, granted_to: str
) -> None:
    # Mai registered herself and leads Điện lực, registered as a collective; she is linked on both channels,
    # Zalo used last. Her role is her roster entry's (`grant --member`), or her first account's alone
    # (`grant --user`): there, only that account is an officer and opens the collective's self-assessment.
    campaign = await campaign_with_registrations(store, ["DV001"], ["advanced_worker"])  # opens 20/3
    await collective_registered(store, [campaign])
    _, mai, mai_zalo = await on_both(two_channels, clock)
    if granted_to == "member":
        await grant_officer(store, "CDCS-DL", member_code="DV001", actor="test", now=NOW)
    else:
        await grant_by_account(store, "CDCS-DL", mai.channel.name, mai.user_id)
    clock.current = at_local(OPENS.day, OPENS.month, 8)
    await two_channels.reminders.tick()
    await two_channels.outbox.wait_idle()
    collective = said(
        "reminders.evaluation_collective_today",
        title=campaign.title,
        deadline=formatting.day(OPENS),
        unit="Công đoàn cơ sở Điện lực Hà Quảng",
    )
    reminded = [
        (person, m.plain_text)
        for person in (mai, mai_zalo)
        for m in person.messages
        if m.plain_text.startswith("🗳")
    ]
    [(where, reminder)] = reminded  # one reminder, naming the collective and her own registration
    assert reminder.startswith(collective) and said("reminders.evaluation_own_too") in reminder
    assert where is (mai_zalo if granted_to == "member" else mai)
    await where.press(said("reminders.evaluation_button"))
    assert choices(where.last) == [campaign.title, f"{campaign.title} — Công đoàn cơ sở Điện lực Hà Quảng"]


async def test_codes_and_typed_phones_are_never_logged(
    people: People, store: Store, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)  # what `thidua run` writes (python-telegram-bot logs updates at DEBUG)
    code = await code_for(store, clock, "DV001")
    mai = people(*MAI)
    await mai.send("/start")
    await mai.send(code)
    nam = people(*STRANGER)
    await nam.send("/start")
    await give_phone(nam, "0933 000 111")
    await mai.send("/malienket")
    [own] = CODE.findall(mai.last_text)
    logged = caplog.text
    assert await linked_member_code(store, people.channel, people.user_id(MAI[0])) == "DV001"
    for secret in (code, code.replace("-", ""), own, own.replace("-", ""), "0933000111", "0933 000 111"):
        assert secret not in logged


@pytest.mark.sandbox
async def test_a_member_on_telegram_and_zalo_gets_one_copy_over_the_real_sandboxes(
    store: Store, db_url: str, clock: ManualClock, sandbox: TelegramSandbox, zalo_sandbox: ZaloSandbox
) -> None:
    settings = load_settings(
        _env_file=None,
        database_url=db_url,
        telegram_token=sandbox.token,
        telegram_api_url=sandbox.api_url,
        zalo_token=zalo_sandbox.token,
        zalo_api_url=zalo_sandbox.api_url,
    )
    runtime = Runtime(settings, clock, poll_timeout=1)
    await runtime.start()
    try:
        hung = await linked(lambda *p: Chat(sandbox.user(*p[:3], phone=p[3]), lambda: runtime), HUNG)
        mai = await linked(lambda *p: Chat(sandbox.user(*p[:3], phone=p[3]), lambda: runtime), MAI)
        await mai.send("/malienket")
        [code] = CODE.findall(mai.last_text)
        clock.advance(timedelta(minutes=2))
        mai_zalo = ZaloChat(zalo_sandbox, lambda: runtime, *MAI)
        await mai_zalo.send("/start")
        await mai_zalo.send(code)  # linked on Zalo too, and used it last
        await hung.send("/thongbao")
        await hung.send("Họp công đoàn sáng thứ Hai")
        await hung.press("Tất cả đoàn viên")
        assert "— 2 người" in hung.last_text  # two people, whatever their channels
        await hung.press("Xác nhận gửi")
        await runtime.outbox.wait_idle()
        on_telegram = sum("Họp công đoàn sáng thứ Hai" in m.plain_text for m in mai.messages)
        on_zalo = sum("Họp công đoàn sáng thứ Hai" in m.text for m in mai_zalo.messages)
        assert (on_telegram, on_zalo) == (0, 1)
    finally:
        await runtime.stop()
