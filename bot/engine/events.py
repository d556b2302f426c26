"""Channel-neutral events: what a person sent (``Incoming``) and what the bot answers (``Outgoing``).

Channel adapters translate their updates into ``Incoming`` and render ``Outgoing`` their own way (Telegram:
inline keyboards; Zalo: a numbered menu). Handlers only ever see these types.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, replace
from enum import StrEnum
from typing import Any


class Kind(StrEnum):
    """What sort of thing arrived."""

    COMMAND = "command"
    TEXT = "text"
    BUTTON = "button"
    CONTACT = "contact"
    FILE = "file"
    EDITED = "edited"
    UNSUPPORTED = "unsupported"  # stickers, voice, locations...


@dataclass(frozen=True, slots=True)
class Contact:
    """A shared phone contact; ``user_id`` is whose contact it is (None when the channel cannot tell)."""

    phone: str
    user_id: str | None


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file the person sent, kept by the channel's own file id."""

    file_id: str
    file_name: str | None
    mime_type: str | None
    size: int | None
    is_photo: bool


@dataclass(frozen=True, slots=True)
class Incoming:
    """One thing a person did in a chat."""

    channel: str
    user_id: str
    chat_id: str
    display_name: str
    kind: Kind
    is_private: bool = True
    language_hint: str | None = None
    text: str = ""
    command: str = ""  # without the slash, lower case
    args: tuple[str, ...] = ()
    payload: str = ""  # a pressed button's payload; on a text, the numbered menu option the text names
    tentative: bool = False  # a bare number or part of an option's words: a choice only where no step waits
    contact: Contact | None = None
    attachment: Attachment | None = None

    def visible(self) -> Incoming:
        """The event with the characters nobody sees taken out of what was typed (``INVISIBLE``)."""
        if not INVISIBLE.search(self.text) and not any(INVISIBLE.search(arg) for arg in self.args):
            return self
        return replace(
            self,
            text=INVISIBLE.sub("", self.text),
            args=tuple(cleaned for arg in self.args if (cleaned := INVISIBLE.sub("", arg))),
        )


# Typed characters that show nothing yet change what the rest shows: control codes (a line break and a tab
# stay), zero-width spaces, bidirectional marks, overrides and isolates (a right-to-left override showed an
# officer a name or a title backwards), the byte-order mark. Joiners stay: emoji are made with them.
INVISIBLE = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b\u200e\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff]"
)


@dataclass(frozen=True, slots=True)
class Button:
    """An inline button: a label and the payload it sends back when pressed."""

    label: str
    payload: str


@dataclass(frozen=True, slots=True)
class FileOut:
    """A file to send: a PNG photo or a document such as an XLSX workbook, as bytes or as a file the
    channel already holds (``file_id``, e.g. an attachment a member sent)."""

    name: str
    content: bytes = b""
    is_photo: bool = False
    file_id: str | None = None


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One message from the bot. ``text`` is Telegram-style HTML, every user-supplied part escaped."""

    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    ask_contact: str | None = None  # label of a "share my phone number" button, if the bot asks for it
    remove_keyboard: bool = False
    file: FileOut | None = None
    replace: bool = False  # edit the message whose button was pressed instead of sending a new one
    words_only: bool = False  # its step waits for typed text: a numbered menu would read "1" as a choice
    first_number: int = 1  # in a numbered menu, its first choice's: after the choices of the answer before it

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready form for the outbox (files are never queued)."""
        if self.file is not None:
            raise ValueError("files are sent directly, not through the outbox")
        data = asdict(self)
        data.pop("file")
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Outgoing:
        """The message back from its outbox form."""
        rows = tuple(tuple(Button(**button) for button in row) for row in data.get("buttons", ()))
        return cls(
            text=data["text"],
            buttons=rows,
            ask_contact=data.get("ask_contact"),
            remove_keyboard=bool(data.get("remove_keyboard")),
            replace=False,
        )


@dataclass(slots=True)
class Replies:
    """What a handler answers, collected and sent by the adapter once the handler returns."""

    messages: list[Outgoing] = field(default_factory=list)
