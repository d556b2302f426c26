"""The same conversations on every channel: in process with buttons, in process with numbered menus and plain
text (2,000 characters), and Telegram through the sandbox. Then what only a channel without buttons shows:
numbered menus answered by number or by words, and a step asking for a number still taking one."""

from __future__ import annotations

import pytest

from bot.app import Runtime
from bot.channels.memory import NUMBERED_MENUS, MemoryChannel
from bot.channels.render import render
from bot.engine.clock import ManualClock
from bot.engine.config import load_settings
from bot.engine.events import Button, Outgoing
from bot.engine.menus import read_choice
from messages import plain, text
from storage.database import Store
from storage.records import Pledge
from tests.conftest import People
from tests.helpers.campaigns import TITLE, campaign_running, register
from tests.helpers.flows import can_share_contact, fresh_code, linked, linked_member_code
from tests.helpers.initiatives import stored_initiative
from tests.helpers.memory_chat import MemoryChat
from tests.helpers.roster import HUNG, MAI, NOW


def vi(key: str, **params: object) -> str:
    return plain(text("vi", key, **params))


@pytest.mark.telegram
async def test_onboarding_links_a_member_by_the_shared_phone(people: People, store: Store) -> None:
    mai = people(*MAI)
    await mai.send("/start")
    if not can_share_contact(mai):
        pytest.skip("no contact sharing on this channel: tests/test_linking.py links by code and typed phone")
    assert vi("onboarding.welcome") in mai.last_text
    replies = await mai.share_contact()
    assert any(vi("onboarding.linked") in m.plain_text for m in replies)
    assert "Hoàng Thị Mai" in mai.last_text and "Công đoàn cơ sở Điện lực Hà Quảng" in mai.last_text
    assert await linked_member_code(store, people.channel, people.user_id(MAI[0])) == "DV001"


@pytest.mark.zalo
async def test_a_launch_reaches_members_through_the_outbox_and_a_member_registers(
    people: People, store: Store
) -> None:
    hung, mai = await campaign_running(people)
    announcement = [m for m in mai.messages if "phát động phong trào thi đua" in m.plain_text]
    assert len(announcement) == 1 and TITLE in announcement[0].plain_text
    assert "Hạn đăng ký: 25/03/2026 (còn 23 ngày)" in announcement[0].plain_text
    assert any("Đã gửi: 2/2" in m.plain_text for m in hung.messages)
    await mai.send("/phongtrao")
    assert TITLE in mai.last_text
    await mai.press(TITLE)
    await mai.press("Đăng ký thi đua")
    await mai.press("Lao động giỏi")
    await mai.press("Xong")
    await mai.send("Sáng kiến cải tiến kỹ thuật; sáng kiến; 2")
    await mai.press("Xác nhận đăng ký")
    assert "Đã ghi nhận đăng ký" in mai.last_text
    async with store.begin() as repos:
        campaign = await repos.campaigns.by_code("LDG-2026")
        member = await repos.members.by_code("DV001")
        assert campaign is not None and member is not None
        registration = await repos.registrations.of_member(campaign.id, member.id)
    assert registration is not None and registration.titles == ("good_worker",)
    assert registration.pledges == (Pledge("Sáng kiến cải tiến kỹ thuật", "sáng kiến", "2"),)


@pytest.mark.parametrize("channel_kind", ["memory-menus"], indirect=True)
async def test_a_numbered_menu_takes_a_number_where_only_a_choice_fits_and_a_number_answer_elsewhere(
    people: People, store: Store
) -> None:
    hung = await linked(people, HUNG)
    await hung.send("/taophongtrao")
    await hung.send("ldg-2026")
    await hung.send(TITLE)
    await hung.press("Bỏ qua")
    menu = hung.last.menu
    assert vi("menu.choose_by_number") in hung.last_text and "1. " in hung.last_text
    peak = next(option.number for option in menu if vi("campaigns.kind_peak") in option.label)
    await hung.choose(peak)  # the kind step takes buttons only: the number is the choice
    for answer in ("2/3/2026", "31/12/2026", "25/3"):
        await hung.send(answer)
    await hung.press("Bỏ qua")
    assert hung.last.menu  # the target step offers choices too, yet waits for a typed figure
    await hung.send("1")
    await hung.send("lao dong gioi")  # an option's words, typed without accents
    await hung.press("Xong")
    await hung.press("Xong")
    await hung.press("Lưu bản nháp")
    async with store.begin() as repos:
        campaign = await repos.campaigns.by_code("LDG-2026")
    assert campaign is not None
    assert (campaign.kind, campaign.initiative_target) == ("peak", 1)
    assert campaign.individual_titles == ("good_worker",)
    assert all("<b>" not in m.text and len(m.text) <= 2000 for m in hung.messages)


@pytest.mark.parametrize("channel_kind", ["memory-menus"], indirect=True)
async def test_the_choices_of_an_answer_in_several_messages_are_numbered_on_and_all_answer(
    people: People, store: Store
) -> None:
    # /my answers with the initiatives, then the registrations, each with choices: both were numbered from 1,
    # and only the last message's could be typed ("1" opened the campaign, the initiative was out of reach).
    _, mai = await campaign_running(people)
    await register(mai)
    async with store.begin() as repos:
        campaign = await repos.campaigns.by_code("LDG-2026")
    assert campaign is not None
    await stored_initiative(store, "DV001", campaign.id, "Bảng tương tác trong dạy Toán", ["submitted"], NOW)
    await mai.send("/cuatoi")
    ideas, registrations = mai.messages[-2:]
    assert [o.number for o in ideas.menu] == [1] and [o.number for o in registrations.menu] == [2]
    assert registrations.plain_text.endswith(f"2. {TITLE}")
    await mai.choose(1)
    assert vi("initiative.status_submitted") in mai.messages[-1].plain_text
    assert "Bảng tương tác trong dạy Toán" in mai.messages[-1].plain_text
    await mai.send("/cuatoi")
    await mai.choose(2)
    assert "(mã LDG-2026)" in mai.last_text
    await mai.send("/cuatoi")
    await mai.send("bang tuong tac trong day toan")  # an earlier message's option, by its words
    assert "Bảng tương tác trong dạy Toán" in mai.messages[-1].plain_text
    assert vi("fallback.stray_text") not in mai.last_text
    await mai.send("/cuatoi")
    await mai.send("tuong tac")  # part of one option's words, where no step waits for text
    assert "Bảng tương tác trong dạy Toán" in mai.messages[-1].plain_text
    assert vi("initiative.status_submitted") in mai.messages[-1].plain_text


@pytest.mark.parametrize("channel_kind", ["memory-menus"], indirect=True)
async def test_part_of_an_options_words_is_the_answer_where_a_step_waits_for_text(
    people: People, store: Store
) -> None:
    _, mai = await campaign_running(people)
    await mai.send("/sangkien")
    await mai.send("Bảng tương tác trong dạy Toán")
    await mai.press("Kỹ thuật")
    assert any(vi("initiative.later_button") in o.label for o in mai.last.menu)  # "💾 Để sau" is offered
    await mai.send("Để sau giờ dạy mới chấm xong bài")  # the problem, whose first words name that option
    async with store.begin() as repos:
        member = await repos.members.by_code("DV001")
        assert member is not None
        [draft] = await repos.initiatives.of_member(member.id)
    assert draft.problem == "Để sau giờ dạy mới chấm xong bài" and draft.status == "draft"


async def test_a_number_typed_after_a_restart_still_means_the_option_the_person_saw(
    store: Store, db_url: str, clock: ManualClock
) -> None:
    settings = load_settings(_env_file=None, database_url=db_url)
    runtime = Runtime(settings, clock, memory=MemoryChannel(NUMBERED_MENUS, "vi"))
    await runtime.start()
    mai = MemoryChat(lambda: runtime, *MAI)
    await mai.send("/start")
    await mai.send(await fresh_code(mai, MAI[3]))
    await mai.send("/ngonngu")
    english = next(option.number for option in mai.last.menu if "English" in option.label)
    await runtime.stop()
    runtime = Runtime(settings, clock, memory=MemoryChannel(NUMBERED_MENUS, "vi"))  # a deploy in between
    await runtime.start()
    try:
        await mai.send(str(english))
        assert mai.last_text == plain(text("en", "language.set"))
        async with store.begin() as repos:
            account = await repos.accounts.get("memory", str(MAI[0]))
        assert account is not None and account.language == "en"
    finally:
        await runtime.stop()


def test_rendering_without_buttons_numbers_the_choices_drops_markup_and_splits_at_the_limit() -> None:
    long = "\n".join(f"<b>Dòng {n}</b> &amp; tiếp" for n in range(400))
    message = Outgoing(long, ((Button("✅ Đăng ký thi đua", "a"), Button("Rút &amp; hủy", "b")),))
    shown = render(message, NUMBERED_MENUS, "vi")
    assert len(shown.parts) > 1 and all(len(part) <= 2000 for part in shown.parts)
    assert "<b>" not in "".join(shown.parts) and "Dòng 0 & tiếp" in shown.parts[0]
    assert shown.parts[-1].endswith("1. ✅ Đăng ký thi đua\n2. Rút & hủy") and not shown.buttons
    for typed, payload in (
        ("2", "b"),
        ("dang ky thi dua", "a"),
        ("ĐĂNG KÝ THI ĐUA", "a"),
        ("rút & hủy", "b"),
    ):
        choice = read_choice(typed, shown.menu)
        assert choice is not None and choice.option.payload == payload
    assert read_choice("3", shown.menu) is None
    # Part of one option's words is a tentative choice (the router takes it where no step waits for text);
    # too short, cut inside a word, or part of two options' words, it names none.
    part = read_choice("đăng ký", shown.menu)
    assert part is not None and (part.option.payload, part.tentative) == ("a", True)
    whole = read_choice("đăng ký thi đua", shown.menu)
    assert whole is not None and not whole.tentative
    assert read_choice("thi", shown.menu) is None and read_choice("ang ky", shown.menu) is None
    two = render(
        Outgoing("?", ((Button("Thi đua tháng 5", "x"), Button("Thi đua cả năm", "y")),)),
        NUMBERED_MENUS,
        "vi",
    )
    assert read_choice("thi đua", two.menu) is None
