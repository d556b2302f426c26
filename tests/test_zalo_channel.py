"""The bot on Zalo, through the Zalo sandbox over HTTP: what works before linking without contact sharing
exists (a stranger's /start, /help, /language, numbered menus answered by number and by words), members
linked directly in the database registering and receiving a launch, long replies split at 2,000
characters, no markup reaching Zalo, odd updates, and the polling outage said in two lines."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable

import pytest

from bot.engine.events import Outgoing
from bot.sandbox.zalo import MAX_TEXT_LENGTH, ZaloSandbox
from messages import plain, text
from storage.database import Store
from tests.conftest import ZALO, People, ZaloBot
from tests.helpers.campaigns import campaign_running
from tests.helpers.choices import body, choices
from tests.helpers.flows import linked
from tests.helpers.roster import HUNG, MAI, NOW, STRANGER
from tests.helpers.zalo_chat import ZaloChat, link_in_database

pytestmark = [pytest.mark.sandbox, pytest.mark.parametrize("channel_kind", ZALO)]
POLLING = "bot.channels.zalo.polling"


def vi(key: str, **params: object) -> str:
    return plain(text("vi", key, **params))


async def linked_on_zalo(
    people: People, store: Store, person: tuple[int, str, str, str], code: str
) -> ZaloChat:
    """A roster member whose Zalo account is tied to ``code`` in the database, who has said /start."""
    chat = people(*person)
    assert isinstance(chat, ZaloChat)
    await link_in_database(store, chat, code, NOW)
    await chat.send("/start")
    return chat


async def until(condition: Callable[[], bool], seconds: float = 20.0) -> None:
    """Wait, bounded, for a condition nothing signals (a poller's state, a log line)."""
    for _ in range(int(seconds / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the condition never held")


def assert_fits_zalo(chat: ZaloChat) -> None:
    """Every message the chat received is plain text within Zalo's limit."""
    for message in chat.messages:
        assert len(message.text) <= MAX_TEXT_LENGTH
        assert "<b>" not in message.text and "&amp;" not in message.text and "<code>" not in message.text


async def test_a_stranger_starts_and_reads_the_welcome_as_plain_text(people: People) -> None:
    nam = people(*STRANGER)
    await nam.send("/start")
    assert vi("onboarding.welcome_typed") in nam.last_text  # no contact to share: a code or the phone
    assert isinstance(nam, ZaloChat)
    assert_fits_zalo(nam)


async def test_the_menu_is_numbered_and_answered_by_number_or_by_words(people: People, store: Store) -> None:
    mai = await linked_on_zalo(people, store, MAI, "DV001")
    assert "Hoàng Thị Mai" in body(mai.last)
    menu = choices(mai.last)
    assert vi("menu.choose_by_number") in mai.last_text and "1. " in mai.last_text
    help_number = next(n for n, label in enumerate(menu, start=1) if vi("menu.help") in label)
    await mai.choose(help_number)
    assert "/help (/huongdan)" in mai.last_text
    assert "/requests" not in mai.last_text  # members do not see officer commands
    await mai.send("/start")
    await mai.send("huong dan")  # the option's words, without accents or emoji
    assert "/help (/huongdan)" in mai.last_text
    assert_fits_zalo(mai)


async def test_help_and_the_language_switch(people: People, store: Store) -> None:
    mai = await linked_on_zalo(people, store, MAI, "DV001")
    await mai.send("/huongdan")
    assert "/language (/ngonngu)" in mai.last_text
    await mai.send("/ngonngu")
    await mai.press("English")
    assert mai.last_text == plain(text("en", "language.set"))
    await mai.send("/help")
    assert "Commands you can use" in mai.last_text
    await mai.send("/language")
    assert "Type a number" in mai.last_text  # the menu's hint in the person's language
    await mai.choose(1)
    assert mai.last_text == vi("language.set")


async def test_a_long_message_is_split_at_2000_on_line_breaks_and_markup_never_reaches_zalo(
    people: People, zalo_bot: ZaloBot, zalo_sandbox: ZaloSandbox
) -> None:
    nam = people(*STRANGER)
    assert isinstance(nam, ZaloChat)
    await nam.send("/start")
    lines = [f"<b>Dòng {n:03d}</b> &amp; " + "x" * 40 for n in range(60)]  # about 3,000 characters
    zalo = zalo_bot.runtime.zalo
    assert zalo is not None
    before = len(nam.messages)
    await zalo.deliver(nam.user_id, Outgoing("\n".join(lines)))
    parts = [message.text for message in nam.messages[before:]]
    assert len(parts) == 2 and all(len(part) <= MAX_TEXT_LENGTH for part in parts)
    assert "\n".join(parts) == "\n".join(
        line.replace("<b>", "").replace("</b>", "").replace("&amp;", "&") for line in lines
    )
    await nam.send("/<i>khongco</i>")  # what a person types comes back as typed, not as markup
    assert "/<i>khongco</i>" in nam.last_text
    assert all("<b>" not in text for _, params in zalo_sandbox.calls if (text := str(params.get("text", ""))))


async def test_stickers_images_and_unreadable_updates_get_polite_answers_or_are_skipped(
    people: People, store: Store, zalo_sandbox: ZaloSandbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    mai = await linked_on_zalo(people, store, MAI, "DV001")
    await mai.send_sticker()
    assert mai.last_text == vi("fallback.unsupported")
    await mai.send_image("https://zalo.example/photo/1.jpg", caption="ảnh")
    assert mai.last_text == vi("fallback.unsupported")
    secret = "0912345678 bí mật"
    zalo_sandbox.inject_raw("not an update")
    zalo_sandbox.inject_raw({"event_name": "message.text.received", "message": {"text": secret}})
    zalo_sandbox.inject_raw({"event_name": "message.unsupported.received"})  # no message: nothing to answer
    zalo_sandbox.wrap_next(1)  # Zalo sometimes wraps an update as {ok, result: {...}}
    await mai.send("/huongdan")  # polled after the odd ones, so answered only once they were skipped
    assert "/help (/huongdan)" in mai.last_text
    skipped = [r.getMessage() for r in caplog.records if "skipped an update" in r.getMessage()]
    assert len(skipped) == 2
    assert not any(secret in line or "0912345678" in line for line in caplog.text.splitlines())


async def test_an_outage_of_polling_is_one_line_when_it_starts_and_one_when_it_ends(
    people: People,
    store: Store,
    zalo_bot: ZaloBot,
    zalo_sandbox: ZaloSandbox,
    caplog: pytest.LogCaptureFixture,
) -> None:
    mai = await linked_on_zalo(people, store, MAI, "DV001")
    caplog.set_level(logging.INFO)
    zalo = zalo_bot.runtime.zalo
    assert zalo is not None
    await zalo_sandbox.go_down()
    await until(lambda: zalo.poller.outages.failed_polls >= 3)  # a few refused polls: still the one line
    await zalo_sandbox.go_up()
    await mai.send("/huongdan")  # sent during the outage's last pause, answered once polling is back
    assert "/help (/huongdan)" in mai.last_text
    lines = [r for r in caplog.records if r.name == POLLING]
    assert [("outage started" in r.getMessage(), "outage ended" in r.getMessage()) for r in lines] == [
        (True, False),
        (False, True),
    ]
    assert all(r.exc_info is None for r in lines)
    assert not any(zalo_sandbox.token in r.getMessage() for r in caplog.records)


async def test_an_invitation_on_zalo_is_what_the_person_types(people: People, store: Store) -> None:
    hung = await linked_on_zalo(people, store, HUNG, "DV002")
    await hung.send("/moi CDCS-DL")
    found = re.search(r"/start [\w-]+", hung.last_text)  # no deep links: what to type (URL-safe base64)
    assert found is not None, hung.last_text
    typed = found.group(0)
    nam = people(*STRANGER)
    await nam.send(typed)
    assert "Công đoàn cơ sở Điện lực Hà Quảng" in nam.last_text
    assert vi("onboarding.invite_invalid") not in nam.last_text
    # Typed by hand, as on a phone's keyboard: the case of its letters does not matter ("kDx2ESnk" was
    # refused as a wrong personal code when typed "kdx2esnk").
    binh = people(1010, "Bình", "Lê Văn", "0933000222")  # not on the roster either
    await binh.send(typed.lower() if typed != typed.lower() else typed.upper())
    assert "Công đoàn cơ sở Điện lực Hà Quảng" in binh.last_text


async def test_a_reply_that_meets_zalos_quota_waits_once_and_arrives_once(
    people: People, store: Store, zalo_sandbox: ZaloSandbox
) -> None:
    mai = await linked_on_zalo(people, store, MAI, "DV001")
    quota = zalo_sandbox.add_fault("429", chat_id=mai.user_id, times=1)
    replies = await mai.send("/huongdan")
    assert quota.hits == 1
    assert len(replies) == 1 and "/help (/huongdan)" in replies[0].text


async def test_a_reply_zalo_fails_once_is_sent_again_and_twice_gets_the_apology(
    people: People, zalo_sandbox: ZaloSandbox
) -> None:
    nam = people(*STRANGER)
    assert isinstance(nam, ZaloChat)
    # A gateway's 502 on the reply: it never went out, and the update was handled, so it is tried once more
    # (the apology said "an error handling your request" of something done).
    once = zalo_sandbox.add_fault("5xx", chat_id=nam.user_id, times=1)
    replies = await nam.send("/start")
    assert once.hits == 1 and len(replies) == 1 and vi("onboarding.welcome_typed") in replies[0].text
    zalo_sandbox.add_fault("5xx", chat_id=nam.user_id, times=2)
    await nam.send("/start")
    assert nam.last_text == vi("fallback.error")


async def test_a_message_zalo_hands_over_twice_is_answered_once(people: People) -> None:
    # Zalo's getUpdates has no offset and its webhook is retried: one message may come twice. Answered
    # twice, a title chosen once would be chosen, then unchosen.
    _, mai = await campaign_running(people)
    assert isinstance(mai, ZaloChat)
    await mai.send("/dangky LDG-2026")
    number = next(n for n, label in enumerate(choices(mai.last), start=1) if "Lao động giỏi" in label)
    before = len(mai.messages)
    await mai.send_twice(str(number))
    await mai.press("Xong")
    since = [message.text for message in mai.messages[before:]]
    assert sum(vi("register.ask_titles") in reply for reply in since) == 1  # the titles, drawn once
    assert vi("register.ask_pledges").splitlines()[0] in mai.last_text  # not "choose a title first"


async def test_a_step_waiting_for_typed_text_lists_its_choices_by_words_not_numbers(people: People) -> None:
    # There a typed number is the answer: "1", meant for "1. Quay lại", was taken as the announcement.
    hung = await linked(people, HUNG)
    await hung.send("/thongbao")
    asking = "Nội dung thông báo gửi ngay"
    for _ in range(3):  # a unit to choose first, where he leads several
        if asking in hung.last_text:
            break
        await hung.choose(1)
    shown = hung.last_text
    assert asking in shown and vi("menu.choose_by_words") in shown and "\n1. " not in shown
    assert "• " + vi("dialog.cancel") in shown
    await hung.send("huy")  # the choice's words still choose
    assert hung.last_text == vi("dialog.cancelled")
