"""``choices``: what a message offers to choose, on any channel, so a test need not know how it is shown;
``body`` its text without a numbered menu; ``carries_file`` and ``file_content`` the file it carries.

Telegram shows inline buttons or a reply keyboard (the contact request); the in-process channel shows buttons,
or a numbered menu where it has none, and its contact request; Zalo shows a numbered menu in the text and
carries no file, only a photo by its URL.
"""

from __future__ import annotations

from bot.channels.memory import Sent
from bot.sandbox import SentMessage
from bot.sandbox.zalo import ZaloSent
from tests.helpers.chat import labels
from tests.helpers.zalo_chat import menu, menu_body


def choices(message: SentMessage | Sent | ZaloSent) -> list[str]:
    """Every choice's label of one message, in the order shown."""
    if isinstance(message, SentMessage):
        return labels(message)
    if isinstance(message, ZaloSent):
        return menu(message)
    shown = [button.label for row in message.buttons for button in row]
    shown += [option.label for option in message.menu]
    return shown + ([message.ask_contact] if message.ask_contact else [])


def carries_file(message: SentMessage | Sent | ZaloSent) -> bool:
    """The message carries a photo or a document (on Zalo only a photo, by its URL)."""
    if isinstance(message, ZaloSent):
        return message.kind == "photo"
    return message.file is not None if isinstance(message, Sent) else message.kind in ("photo", "document")


def file_content(message: SentMessage | Sent | ZaloSent) -> bytes | None:
    """The bytes of the file the bot made and sent with this message (not a file re-sent by its id; never on
    Zalo, where a bot sends no file, only a photo's URL)."""
    if isinstance(message, ZaloSent):
        return None
    if isinstance(message, Sent):
        return message.file.content if message.file is not None and message.file.content else None
    return message.file_bytes


def body(message: SentMessage | Sent | ZaloSent) -> str:
    """A message's text as the person reads it, without the numbered menu a channel without buttons adds."""
    if isinstance(message, ZaloSent):
        return menu_body(message)
    if isinstance(message, Sent) and message.menu:
        return message.plain_text.rpartition("\n\n")[0]  # the menu is the last block: hint, then options
    return message.plain_text
