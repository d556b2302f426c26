"""``attached``: the file a message carries, on any channel, so a test need not know how it was sent;
``sends_files``: whether the person's channel can send them at all."""

from __future__ import annotations

from dataclasses import dataclass

from bot.channels.memory import Sent
from bot.sandbox import SentMessage
from bot.sandbox.zalo import ZaloSent
from tests.helpers.chat import Chat
from tests.helpers.memory_chat import MemoryChat
from tests.helpers.zalo_chat import ZaloChat


@dataclass(frozen=True)
class Attached:
    """A file as the person receives it."""

    name: str
    content: bytes
    is_photo: bool


def attached(message: SentMessage | Sent | ZaloSent) -> Attached | None:
    """The photo or document a message carries, or None for text alone (always on Zalo, where a bot sends
    no file: at most a photo's address)."""
    if isinstance(message, ZaloSent):
        return None
    if isinstance(message, SentMessage):
        if message.file_bytes is None:
            return None
        return Attached(message.file_name or "", message.file_bytes, message.kind == "photo")
    if message.file is None:
        return None
    return Attached(message.file.name, message.file.content, message.file.is_photo)


def sends_files(person: Chat | MemoryChat | ZaloChat) -> bool:
    """Whether the channel this person talks through can send photos and documents."""
    name = (
        "memory" if isinstance(person, MemoryChat) else "zalo" if isinstance(person, ZaloChat) else "telegram"
    )
    return next(c for c in person.runtime.channels if c.name == name).capabilities.files_out
