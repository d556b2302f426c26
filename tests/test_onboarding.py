"""Members link their chat account to the roster: by phone, by a join request, or through an invite.

Most run on every channel (``people``): where the contact cannot be shared (``memory-menus``, like Zalo) a
member proves who they are with a personal link code and a newcomer types their phone number; linking
without contact sharing has its own tests in tests/test_linking.py. What only Telegram has (the reply
keyboard that shares the contact, t.me invite links, per-chat command menus, older messages' buttons, the
sandbox bot's restart) stays on the sandbox, each test saying why.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
import sqlalchemy as sa

from bot.sandbox import TelegramSandbox
from messages import plain, text
from storage.database import Store
from storage.tables import join_requests, units
from tests.conftest import ADMIN_ID, BotHolder, People
from tests.helpers.chat import Chat
from tests.helpers.choices import choices
from tests.helpers.flows import (
    Person,
    can_share_contact,
    fresh_code,
    give_phone,
    join_as_stranger,
    linked,
    linked_member_code,
)
from tests.helpers.roster import HUNG, MAI, NOW, STRANGER
from tests.helpers.zalo_chat import ZaloChat

_INVITE_CODE = re.compile(r"start[?= ]([\w-]+)")  # codes are URL-safe base64: letters, digits, - and _


def invite_code(invite_text: str) -> str:
    """The code in an invite link, whatever the channel's link looks like."""
    found = _INVITE_CODE.search(invite_text)
    assert found is not None, invite_text
    return found.group(1)


async def prove_identity(person: Person, phone: str) -> list[object]:
    """At the link step: share one's own contact, or type one's personal link code where it cannot be."""
    if can_share_contact(person):
        return list(await person.press("Chia sẻ số điện thoại"))
    return list(await person.send(await fresh_code(person, phone)))


@pytest.mark.telegram
@pytest.mark.zalo
async def test_start_asks_for_the_phone_number_in_vietnamese(people: People) -> None:
    mai = people(*MAI)
    replies = await mai.send("/start")
    assert "Xin chào" in replies[-1].plain_text
    if can_share_contact(mai):
        assert choices(replies[-1]) == ["📱 Chia sẻ số điện thoại"]
    else:  # no share button: a personal code or the phone number is typed
        assert replies[-1].plain_text == said("onboarding.welcome_typed")
        assert choices(replies[-1]) == []


@pytest.mark.sandbox  # Telegram only: the phone is asked for with a reply-keyboard button sharing the contact
async def test_on_telegram_the_phone_is_asked_for_with_a_contact_button(chat: Callable[..., Chat]) -> None:
    mai = chat(*MAI)
    replies = await mai.send("/start")
    assert replies[-1].reply_keyboard[0][0].get("request_contact") is True


async def test_sharing_own_contact_links_the_member_and_greets_by_name_and_unit(
    people: People, store: Store
) -> None:
    mai = people(*MAI)
    await mai.send("/start")
    replies = await prove_identity(mai, MAI[3])
    texts = [m.plain_text for m in replies]  # type: ignore[attr-defined]
    assert any("Đã liên kết" in t for t in texts)
    assert "Hoàng Thị Mai" in mai.last_text and "Công đoàn cơ sở Điện lực Hà Quảng" in mai.last_text
    assert "❓ Hướng dẫn" in choices(mai.last)
    if not isinstance(mai, ZaloChat):  # Zalo shows no keyboard to take away
        assert any(m.remove_keyboard for m in replies)  # type: ignore[attr-defined]
    assert await linked_member_code(store, people.channel, people.user_id(MAI[0])) == "DV001"


async def test_a_phone_written_differently_on_the_roster_still_matches(people: People, store: Store) -> None:
    hung = people(*HUNG)  # the roster has +84987654321; Telegram shares 0987654321
    await hung.send("/start")
    if can_share_contact(hung):
        await hung.share_contact("84987654321")
        assert await linked_member_code(store, people.channel, people.user_id(HUNG[0])) == "DV002"
        return
    await hung.send("84987654321")  # typed: it becomes a request to link to the member it matches
    async with store.begin() as repos:
        request = await repos.join_requests.pending_of_user(people.channel, people.user_id(HUNG[0]))
        assert request is not None and request.kind == "link"
        member = await repos.members.by_code("DV002")
        assert member is not None and request.member_id == member.id


async def test_someone_elses_contact_is_refused_and_links_nothing(people: People, store: Store) -> None:
    mai = people(*MAI)
    if not can_share_contact(mai):
        pytest.skip("no contact can be shared on this channel")
    await mai.send("/start")
    await mai.share_contact("0987654321", contact_user_id=HUNG[0])
    assert "chính mình" in mai.last_text
    assert await linked_member_code(store, people.channel, people.user_id(MAI[0])) is None


async def test_a_hand_saved_contact_card_of_an_officer_is_refused(people: People, store: Store) -> None:
    intruder = people(1600, "Kẻ", "Mạo Danh", phone="0900000001")
    if not can_share_contact(intruder):
        pytest.skip("no contact can be shared on this channel")
    await intruder.send("/start")
    await intruder.share_contact("0987654321", card_only=True)  # Hùng's number, typed into a phone book
    assert "chính mình" in intruder.last_text
    assert await linked_member_code(store, people.channel, people.user_id(1600)) is None


async def test_a_linked_member_sending_start_again_gets_the_menu(people: People, store: Store) -> None:
    mai = await linked(people, MAI)
    replies = await mai.send("/start")
    assert len(replies) == 1 and "Hoàng Thị Mai" in replies[0].plain_text
    assert choices(replies[0])[:4] == ["📋 Phong trào", "💡 Nộp sáng kiến", "🗂 Của tôi", "❓ Hướng dẫn"]
    if can_share_contact(mai):
        await mai.share_contact()
    else:
        await mai.send(f"/start {await fresh_code(mai, MAI[3])}")
    assert "đã được liên kết" in mai.messages[-2].plain_text


@pytest.mark.telegram
@pytest.mark.zalo
async def test_the_main_menu_follows_each_persons_role_and_language(people: People, store: Store) -> None:
    # The menu is put together once per language and role, then reused (issue 13): an officer's rows never
    # reach a member, and a member who switched language gets the menu in theirs.
    def labels(language: str, *keys: str) -> list[str]:
        return [plain(text(language, f"menu.{key}")) for key in keys]

    hung, mai = await linked(people, HUNG), await linked(people, MAI)
    officer_menu = choices((await hung.send("/start"))[-1])
    assert set(labels("vi", "stats", "export", "review")) <= set(officer_menu)
    member_menu = choices((await mai.send("/start"))[-1])
    assert member_menu[:4] == labels("vi", "campaigns", "submit", "my", "help")
    assert not set(labels("vi", "stats", "export", "review")) & set(member_menu)
    await mai.send("/ngonngu")
    await mai.press("English")
    assert choices((await mai.send("/start"))[-1])[:4] == labels("en", "campaigns", "submit", "my", "help")
    assert choices((await hung.send("/start"))[-1]) == officer_menu


async def test_the_same_member_cannot_be_linked_from_a_second_account(people: People, store: Store) -> None:
    await linked(people, MAI)
    impostor = people(1500, "Giả", phone=MAI[3])
    await impostor.send("/start")
    await give_phone(impostor, MAI[3])
    assert "đã liên kết với một tài khoản khác" in impostor.last_text
    assert await linked_member_code(store, people.channel, people.user_id(1500)) is None


async def test_no_match_leads_to_a_join_request_that_an_officer_approves(
    people: People, store: Store
) -> None:
    hung = await linked(people, HUNG)
    nam = people(*STRANGER)
    await join_as_stranger(nam)
    assert "Đã gửi yêu cầu tham gia" in nam.last_text
    # The officer of the district federation above the base union is told at once.
    assert "Trần Văn Nam" in hung.last_text and "Yêu cầu tham gia mới" in hung.last_text
    await hung.press("Xem yêu cầu")
    request_message = hung.last
    assert "Trần Văn Nam" in request_message.plain_text and "0933 000 111" in request_message.plain_text
    await hung.send("/yeucau")  # a second copy of the list, as another officer would have
    await hung.press("Duyệt")
    assert "Đã duyệt" in hung.last_text
    assert "đã được duyệt" in nam.last_text
    assert await linked_member_code(store, people.channel, people.user_id(STRANGER[0])) is not None
    await nam.send("/start")
    assert "Trần Văn Nam" in nam.last_text and "Điện lực Hà Quảng" in nam.last_text


@pytest.mark.sandbox  # Telegram only: an older message keeps its buttons (a numbered menu answers the newest)
async def test_an_old_button_of_an_approved_request_changes_nothing(chat: Callable[..., Chat]) -> None:
    hung = chat(*HUNG)
    await hung.send("/start")
    await hung.share_contact()
    await join_as_stranger(chat(*STRANGER))
    await hung.press("Xem yêu cầu")
    request_message = hung.last
    await hung.send("/yeucau")  # a second copy of the list, as another officer would have
    await hung.press("Duyệt")
    await hung.press_in(request_message, "Từ chối")
    assert "đã được xử lý trước đó" in hung.last_text


async def test_a_rejected_request_tells_the_person(people: People, store: Store) -> None:
    hung = await linked(people, HUNG)
    nam = people(*STRANGER)
    await join_as_stranger(nam)
    await hung.send("/yeucau")
    await hung.press("Từ chối")
    assert "Đã từ chối" in hung.last_text
    assert "chưa được chấp nhận" in nam.last_text
    assert await linked_member_code(store, people.channel, people.user_id(STRANGER[0])) is None


async def test_a_pending_request_is_mentioned_on_start(
    people: People,
) -> None:
    nam = people(*STRANGER)
    await join_as_stranger(nam)
    await nam.send("/start")
    assert "đang chờ cán bộ công đoàn duyệt" in nam.last_text


async def test_unit_search_ignores_diacritics_and_says_when_nothing_matches(
    people: People,
) -> None:
    nam = people(*STRANGER)
    await nam.send("/start")
    await give_phone(nam, STRANGER[3])
    await nam.press("Gửi yêu cầu tham gia")
    await nam.send("trung tam y te")
    assert "Công đoàn cơ sở Trung tâm Y tế huyện Hà Quảng" in choices(nam.last)
    await nam.send("không có đơn vị này")
    assert "Không tìm thấy đơn vị" in nam.last_text


async def test_the_back_button_returns_to_the_previous_step(
    people: People,
) -> None:
    nam = people(*STRANGER)
    await nam.send("/start")
    await give_phone(nam, STRANGER[3])
    await nam.press("Gửi yêu cầu tham gia")
    await nam.send("dien luc")
    await nam.press("Điện lực Hà Quảng")
    assert "họ và tên" in nam.last_text
    await nam.press("Quay lại")
    assert "Gõ một phần tên đơn vị" in nam.last_text


@pytest.mark.telegram
@pytest.mark.zalo
async def test_an_officers_invite_link_puts_the_newcomer_in_that_unit(people: People, store: Store) -> None:
    hung = await linked(people, HUNG)
    await hung.send("/moi CDCS-YT")
    invite_text = hung.last_text
    code = invite_code(invite_text)
    # Said for every channel: where there are no links to tap nor contacts to share (Zalo), typing works.
    assert f"/start {code}" in invite_text and "bấm" not in invite_text and "chia sẻ" not in invite_text
    if people.channel == "zalo":  # no link to speak of: the code is typed
        assert "liên kết" not in invite_text.lower() and invite_text.count(f"/start {code}") == 1
    nam = people(*STRANGER)
    await nam.send(f"/start {code}")
    assert "Trung tâm Y tế huyện Hà Quảng" in nam.last_text
    await give_phone(nam, STRANGER[3])
    await nam.press("Gửi yêu cầu tham gia")
    assert "họ và tên" in nam.last_text  # the unit came with the invite
    await nam.send("Trần Văn Nam")
    await nam.press("Gửi yêu cầu")
    assert "Trung tâm Y tế huyện Hà Quảng" in nam.last_text
    async with store.begin() as repos:
        unit = await repos.units.by_code("CDCS-YT")
        assert unit is not None
        pending = await repos.join_requests.pending_under([unit.path], 10)
    assert [request.full_name for request in pending] == ["Trần Văn Nam"]


async def test_a_name_typed_with_invisible_characters_reaches_the_officer_plain(
    people: People, store: Store
) -> None:
    # A right-to-left override made the officer read "man nav nart"; a zero-width space and a control
    # character hid in the stored name.
    hung = await linked(people, HUNG)
    await hung.send("/moi CDCS-YT")
    nam = people(*STRANGER)
    await nam.send(f"/start {invite_code(hung.last_text)}")
    await give_phone(nam, STRANGER[3])
    await nam.press("Gửi yêu cầu tham gia")
    await nam.send("\u202etrần văn\u200b nam\u202c\u0007")
    await nam.press("Gửi yêu cầu")
    async with store.begin() as repos:
        unit = await repos.units.by_code("CDCS-YT")
        assert unit is not None
        pending = await repos.join_requests.pending_under([unit.path], 10)
    assert [request.full_name for request in pending] == ["Trần Văn Nam"]


async def test_an_unknown_invite_code_is_explained_and_onboarding_goes_on(
    people: People,
) -> None:
    nam = people(*STRANGER)
    replies = await nam.send("/start NOPE1234")
    assert "không hợp lệ hoặc đã hết hạn" in replies[0].plain_text
    if can_share_contact(nam):
        assert choices(replies[-1]) == ["📱 Chia sẻ số điện thoại"]
    else:
        assert replies[-1].plain_text == said("onboarding.welcome_typed")


async def test_invite_outside_the_officers_subtree_is_refused(
    people: People,
) -> None:
    hung = await linked(people, HUNG)
    await hung.send("/invite CDCS-THPT")  # a school union under the education sector, not Hà Quảng
    assert hung.last_text == plain(text("vi", "invite.not_yours", code="CDCS-THPT"))


async def test_officer_commands_are_refused_to_members(
    people: People,
) -> None:
    mai = await linked(people, MAI)
    await mai.send("/requests")
    assert "chỉ dành cho cán bộ công đoàn" in mai.last_text


@pytest.mark.sandbox  # Telegram only: per-chat command menus (setMyCommands)
async def test_command_menus_are_set_per_language_and_role(
    chat: Callable[..., Chat], sandbox: TelegramSandbox
) -> None:
    default = [c["command"] for c in sandbox.commands[("default", "")]]
    assert "start" in default and "help" in default and "requests" not in default
    assert sandbox.commands[("default", "en")][1]["description"].startswith("Help")
    hung = chat(*HUNG)
    await hung.send("/start")
    await hung.share_contact()
    officer_menu = [c["command"] for c in sandbox.commands[("chat:" + str(HUNG[0]), "")]]
    assert "requests" in officer_menu and "invite" in officer_menu


@pytest.mark.sandbox  # Telegram only: ``restart`` restarts the sandbox bot
async def test_restart_in_the_middle_of_a_form_resumes_it(chat: Callable[..., Chat], bot: BotHolder) -> None:
    nam = chat(*STRANGER)
    await nam.send("/start")
    await nam.share_contact()
    await nam.press("Gửi yêu cầu tham gia")
    await nam.send("dien luc")
    await nam.press("Điện lực Hà Quảng")
    await bot.restart()
    await nam.send("Trần Văn Nam")
    assert "Kiểm tra lại yêu cầu tham gia" in nam.last_text and "Điện lực Hà Quảng" in nam.last_text


def said(key: str, **params: object) -> str:
    """A catalog text as the person reads it, in Vietnamese."""
    return plain(text("vi", key, **params))


async def test_a_newcomer_not_on_the_roster_is_told_once_then_offered_to_join(
    people: People,
) -> None:
    nam = people(*STRANGER)
    await nam.send("/start")
    replies = await give_phone(nam, STRANGER[3])
    assert len(replies) == 2  # without buttons, the offer's numbered menu follows its text
    assert replies[0].plain_text == said("onboarding.not_on_roster_intro", phone="0933 000 111")
    assert replies[1].plain_text.startswith(said("join.offer"))
    assert "0933 000 111" not in replies[1].plain_text  # the offer does not say the number again
    assert choices(replies[1])[0] == said("join.offer_button")


async def test_an_unlinked_person_typing_an_officer_command_is_not_told_it_is_for_members(
    people: People,
) -> None:
    nam = people(*STRANGER)
    await nam.send("/duyet")
    assert nam.last_text == said("fallback.link_first_officer")
    await nam.send("/cuatoi")  # a member's command still says it is for members
    assert nam.last_text == said("fallback.link_first")


async def test_a_linked_member_opening_an_invite_is_not_asked_for_a_phone_number(
    people: People,
) -> None:
    hung = await linked(people, HUNG)
    await hung.send("/moi CDCS-YT")
    code = invite_code(hung.last_text)
    mai = await linked(people, MAI)
    opened = await mai.send(f"/start {code}")
    assert opened[0].plain_text == said("onboarding.already_linked")
    assert not any("số điện thoại" in m.plain_text for m in opened)
    expired = await mai.send("/start NOPE1234")
    assert expired[0].plain_text == said("onboarding.invite_invalid_linked")
    assert not any("số điện thoại" in m.plain_text for m in expired)
    assert said("menu.prompt") in expired[-1].plain_text  # and the menu, as a plain /start gives


async def request_statuses(store: Store) -> dict[str, str]:
    """The newcomer's join requests: unit code -> status."""
    async with store.begin() as repos:
        rows = await repos.conn.execute(
            sa.select(units.c.code, join_requests.c.status).join(units, units.c.id == join_requests.c.unit_id)
        )
        return {code: status for code, status in rows}


@pytest.mark.sandbox  # Telegram only: it presses older messages' buttons
async def test_approval_elsewhere_closes_the_newcomers_other_pending_requests(
    chat: Callable[..., Chat], store: Store
) -> None:
    hung = chat(*HUNG)
    await hung.send("/start")
    await hung.share_contact()
    await hung.send("/moi CDCS-YT")
    code = invite_code(hung.last_text)
    nam = chat(*STRANGER)
    await join_as_stranger(nam)  # to Điện lực first
    await nam.send(f"/start {code}")  # then through an invite to the health centre
    await nam.share_contact()
    await nam.press("Gửi yêu cầu tham gia")
    await nam.send("Trần Văn Nam")
    await nam.press("Gửi yêu cầu")
    header, first, second = await hung.send("/yeucau")
    assert header.plain_text == said("requests.header", count=2)
    await hung.press_in(second, "Duyệt")  # the newer one: the health centre
    assert await request_statuses(store) == {"CDCS-DL": "superseded", "CDCS-YT": "approved"}
    await hung.send("/yeucau")
    assert hung.last_text == said("requests.none")
    await hung.press_in(first, "Duyệt")  # the Điện lực request's old button
    assert hung.last_text == said("requests.already_decided")


async def test_linking_by_phone_closes_the_pending_request(people: People, store: Store) -> None:
    nam = people(*STRANGER)
    await join_as_stranger(nam)
    async with store.begin() as repos:
        unit = await repos.units.by_code("CDCS-DL")
        assert unit is not None
        await repos.members.insert(
            code="DV009",
            full_name="Trần Văn Nam",
            phone="+84933000111",
            email=None,
            unit_id=unit.id,
            source="import",
            now=NOW,
        )
    if can_share_contact(nam):
        await nam.share_contact()
    else:
        await nam.send(f"/start {await fresh_code(nam, STRANGER[3])}")
    assert await linked_member_code(store, people.channel, people.user_id(STRANGER[0])) == "DV009"
    assert await request_statuses(store) == {"CDCS-DL": "superseded"}


async def test_the_newcomer_is_told_which_units_officers_will_look_at_the_request(
    people: People,
) -> None:
    await linked(people, HUNG)
    nam = people(*STRANGER)
    await join_as_stranger(nam)
    district = "Liên đoàn Lao động huyện Hà Quảng"  # Hùng's: the base union has no officer of its own
    assert nam.last_text == said("join.sent", unit="Công đoàn cơ sở Điện lực Hà Quảng", officers=district)
    assert district in nam.last_text


@pytest.mark.sandbox  # Telegram only: THIDUA_ADMINS names telegram: or zalo: accounts, no in-process one
async def test_a_request_with_no_officer_above_goes_to_the_administrators(
    chat: Callable[..., Chat],
) -> None:
    admin = chat(ADMIN_ID, "Quản", "Trị")
    await admin.send("/start")
    nam = chat(*STRANGER)
    await join_as_stranger(nam, search="thpt", unit="THPT")
    school = "Công đoàn cơ sở Trường THPT Thành phố Cao Bằng"
    assert nam.last_text == said("join.sent_to_admins", unit=school)
    assert admin.last_text == said("requests.new_notice", name="Trần Văn Nam", unit=school)
    await admin.press("Xem yêu cầu")
    assert "Trần Văn Nam" in admin.last_text and school in admin.last_text
    await admin.press("Duyệt")
    assert nam.last_text == said("requests.approved_notice", unit=school)


async def test_a_request_nobody_can_review_says_so(
    people: People,
) -> None:
    nam = people(*STRANGER)  # the administrator has never written to the bot, so cannot be told
    await join_as_stranger(nam, search="thpt", unit="THPT")
    assert nam.last_text == said("join.sent_to_nobody", unit="Công đoàn cơ sở Trường THPT Thành phố Cao Bằng")


@pytest.mark.sandbox  # Telegram only: an invite is a t.me link that opens the bot with /start CODE
async def test_on_telegram_an_invite_is_a_t_me_link(chat: Callable[..., Chat]) -> None:
    hung = chat(*HUNG)
    await hung.send("/start")
    await hung.share_contact()
    await hung.send("/moi CDCS-YT")
    assert "https://t.me/thidua_bot?start=" + invite_code(hung.last_text) in hung.last_text
