"""Help, language, cancel, stale dialogs, and the polite answers to input the bot does not expect.

Most run on every channel (``people``); the few that check what only Telegram has (stickers and edits,
groups, old buttons' callback data, the per-chat command menu, a failing Bot API call) stay on the sandbox.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from bot.engine.clock import ManualClock
from bot.sandbox import TelegramSandbox
from messages import plain, text
from storage.database import Store
from tests.conftest import ZALO, BotHolder, People
from tests.helpers.chat import Chat, labels
from tests.helpers.flows import give_phone, linked
from tests.helpers.roster import MAI, STRANGER
from tests.helpers.zalo_chat import ZaloChat


@pytest.mark.telegram
@pytest.mark.zalo
async def test_help_lists_the_commands_with_their_vietnamese_aliases(people: People) -> None:
    mai = await linked(people, MAI)
    await mai.send("/huongdan")
    assert "/help (/huongdan)" in mai.last_text
    assert "/language (/ngonngu)" in mai.last_text
    assert "/requests" not in mai.last_text  # members do not see officer commands


@pytest.mark.sandbox  # Telegram only: it restarts the bot and reads Telegram's per-chat command menu
async def test_language_switch_is_remembered_across_a_restart(
    chat: Callable[..., Chat], bot: BotHolder, sandbox: TelegramSandbox
) -> None:
    mai = await linked(chat, MAI)
    await mai.send("/ngonngu")
    await mai.press("English")
    assert mai.last_text == "Switched to English."
    assert sandbox.commands[(f"chat:{MAI[0]}", "")][1]["description"].startswith("Help")
    await bot.restart()
    await mai.send("/help")
    assert "Commands you can use" in mai.last_text
    await mai.send("/language")
    await mai.press("Tiếng Việt")
    assert mai.last_text == "Đã chuyển sang tiếng Việt."


@pytest.mark.telegram
async def test_cancel_in_the_middle_of_a_form_forgets_it(people: People) -> None:
    nam = people(*STRANGER)
    await nam.send("/start")
    await give_phone(nam, STRANGER[3])
    await nam.press("Gửi yêu cầu tham gia")
    await nam.send("/huy")
    assert nam.last_text == "Đã hủy thao tác đang làm."
    await nam.send("dien luc")
    assert "chưa hiểu" in nam.last_text
    await nam.send("/cancel")
    assert "Không có thao tác nào" in nam.last_text


async def test_a_stale_form_expires_politely(people: People, clock: ManualClock) -> None:
    nam = people(*STRANGER)
    await nam.send("/start")
    await give_phone(nam, STRANGER[3])
    await nam.press("Gửi yêu cầu tham gia")
    clock.advance(timedelta(hours=25))
    await nam.send("dien luc")
    assert "quá lâu nên đã được hủy" in nam.last_text
    await nam.send("dien luc")
    assert "chưa hiểu" in nam.last_text


async def test_unknown_commands_and_stray_text_get_clear_answers(people: People) -> None:
    mai = await linked(people, MAI)
    await mai.send("/khongco")
    assert mai.last_text == "Không có lệnh /khongco. Gõ /huongdan để xem các lệnh."
    await mai.send("xin chào bot 👋")
    assert "chưa hiểu" in mai.last_text


@pytest.mark.sandbox  # Telegram only: stickers, edited messages and documents are Telegram updates
async def test_stickers_edits_and_documents_get_clear_answers(chat: Callable[..., Chat]) -> None:
    mai = await linked(chat, MAI)
    await mai.act(mai.user.send_sticker())
    assert mai.last_text == plain(text("vi", "fallback.unsupported"))
    await mai.act(mai.user.edit_last_message("sửa lại"))
    assert mai.last_text == plain(text("vi", "fallback.edited"))
    await mai.act(mai.user.send_document("baocao.pdf", b"%PDF-1.4", "application/pdf"))
    assert mai.last_text == plain(text("vi", "fallback.unsupported"))


@pytest.mark.parametrize("channel_kind", ZALO)
async def test_on_zalo_a_sticker_is_answered_without_naming_buttons_or_contact_sharing(
    people: People,
) -> None:
    mai = await linked(people, MAI)
    assert isinstance(mai, ZaloChat)
    await mai.send_sticker()
    assert mai.last_text == plain(text("vi", "fallback.unsupported"))
    assert "nút bấm" not in mai.last_text and "chia sẻ" not in mai.last_text  # Zalo has neither


async def test_over_long_and_html_like_text_is_refused_or_escaped(people: People, store: Store) -> None:
    nam = people(*STRANGER)
    await nam.send("/start")
    await give_phone(nam, STRANGER[3])
    await nam.press("Gửi yêu cầu tham gia")
    await nam.send("x" * 4000)
    assert "từ 2 đến 100 ký tự" in nam.last_text
    await nam.send("<b>dien</b> & luc")
    assert "«<b>dien</b> & luc»" in nam.last_text  # shown back as typed, not as bold
    await nam.send("dien luc")
    await nam.press("Điện lực Hà Quảng")
    await nam.send("y" * 4000)
    assert "từ 4 đến 100 ký tự" in nam.last_text
    await nam.send("<i>Trần</i> & Nam 🎉")
    assert "<i>Trần</i> & Nam 🎉" in nam.last_text
    async with store.begin() as repos:
        assert await repos.join_requests.pending_of_user(people.channel, people.user_id(STRANGER[0])) is None


@pytest.mark.sandbox  # Telegram only: groups
async def test_in_a_group_the_bot_answers_commands_only_and_asks_for_a_private_chat(
    chat: Callable[..., Chat], sandbox: TelegramSandbox, bot: BotHolder
) -> None:
    mai = chat(*MAI)
    update_id = await mai.user.send_in_group("/start", group_id=-100555)
    assert bot.runtime.telegram is not None
    await bot.runtime.telegram.wait_processed(update_id)
    assert "tin nhắn riêng" in sandbox.messages(-100555)[-1].plain_text
    update_id = await mai.user.send_in_group("chào cả nhà", group_id=-100555)
    await bot.runtime.telegram.wait_processed(update_id)
    assert len(sandbox.messages(-100555)) == 1


@pytest.mark.sandbox  # Telegram only: an old message's button still carries its callback data
async def test_an_old_button_of_a_finished_flow_changes_nothing(chat: Callable[..., Chat]) -> None:
    nam = chat(*STRANGER)
    await nam.send("/start")
    await nam.share_contact()
    offer = nam.last
    await nam.press("Gửi yêu cầu tham gia")
    await nam.send("/huy")
    await nam.press_in(offer, "Gửi yêu cầu tham gia")
    assert "Nút này đã cũ" in nam.last_text


@pytest.mark.sandbox  # Telegram only: the sandbox makes the Bot API call fail
async def test_a_crash_in_a_handler_gets_a_polite_apology(
    chat: Callable[..., Chat], sandbox: TelegramSandbox
) -> None:
    mai = chat(*MAI)
    # The first reply is refused (a 400; a 502 is sent again and a 429 waited out instead): the bot
    # apologises.
    sandbox.add_fault("400", chat_id=MAI[0], times=1)
    await mai.send("/start")
    assert "đã có lỗi" in mai.last_text
    assert labels(mai.last) == []
