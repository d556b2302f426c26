"""``MemoryChat``: a person talking to the real bot through the in-process ``MemoryChannel``, no HTTP.

It reads like ``tests/helpers/chat.py``'s ``Chat``: ``await mai.send("/start")``, ``await mai.press("Đăng
ký")``, ``mai.last_text``. On a channel without buttons, pressing types the option's words as a person
would (without accents, in lower case): a number would be the answer at a step that waits for typed text.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace

from bot.app import Runtime
from bot.channels.memory import MemoryChannel, Sent
from bot.domain.vn.textkeys import search_key
from bot.engine.events import Attachment, Contact, Incoming, Kind

_NOT_WORDS = re.compile(r"[^\w ]+")


class MemoryChat:
    """One person's private chat with the bot over the memory channel."""

    def __init__(
        self,
        runtime: Callable[[], Runtime],
        user_id: int,
        first_name: str,
        last_name: str | None = None,
        phone: str | None = None,
        language_code: str = "vi",
    ) -> None:
        self._runtime = runtime  # looked up on each call: a test may restart the bot
        self.user_id = str(user_id)
        self.name = " ".join(part for part in (first_name, last_name) if part)
        self.phone = phone
        self.language_code = language_code
        self._files = 0  # files sent so far, numbering their ids

    @property
    def runtime(self) -> Runtime:
        """The bot this person talks to (the current one, after a restart)."""
        return self._runtime()

    @property
    def channel(self) -> MemoryChannel:
        """The channel this person talks through."""
        channel = self._runtime().memory
        assert channel is not None
        return channel

    def _event(self, kind: Kind, **fields: object) -> Incoming:
        return Incoming(
            channel=self.channel.name,
            user_id=self.user_id,
            chat_id=self.user_id,
            display_name=self.name,
            kind=kind,
            language_hint=self.language_code,
            **fields,
        )

    async def _act(self, event: Incoming) -> list[Sent]:
        before = len(self.messages)
        await self.channel.receive(event)
        await self._runtime().outbox.wait_idle(look_again=False)  # the notices this event queued
        return self.messages[before:]

    async def send(self, text: str) -> list[Sent]:
        """Send a text or a command; returns the new messages the bot sent to this chat."""
        if text.startswith("/"):
            head, *args = text.split()
            command = head[1:].lower()
            return await self._act(self._event(Kind.COMMAND, text=text, command=command, args=tuple(args)))
        return await self._act(self._event(Kind.TEXT, text=text))

    async def press(self, label: str) -> list[Sent]:
        """Choose the newest option whose label contains ``label``: its button, or its words typed."""
        for message in reversed(self.messages):
            for row in message.buttons:
                for button in row:
                    if label in button.label:
                        return await self._act(self._event(Kind.BUTTON, payload=button.payload))
            for option in message.menu:
                if label in option.label:
                    return await self.send(search_key(_NOT_WORDS.sub(" ", option.label)))
            if message.ask_contact and label in message.ask_contact:
                return await self.share_contact()
        raise AssertionError(f"no choice {label!r} in this chat")

    async def act(self, kind: Kind, **fields: object) -> list[Sent]:
        """Any other event (a file, an edit, a sticker), waited for like the rest."""
        return await self._act(self._event(kind, **fields))

    async def press_payload(self, payload: str) -> list[Sent]:
        """Press a button carrying ``payload``, drawn by the bot or forged."""
        return await self._act(self._event(Kind.BUTTON, payload=payload))

    async def choose(self, number: int) -> list[Sent]:
        """Type an option's number, as a person answering a numbered menu does."""
        return await self.send(str(number))

    async def share_contact(
        self, phone: str | None = None, *, contact_user_id: int | None = None, card_only: bool = False
    ) -> list[Sent]:
        """Share a phone contact (by default one's own; only where the channel can)."""
        if not self.channel.capabilities.contact:
            raise AssertionError("this channel cannot share a contact")
        number = phone or self.phone
        assert number is not None, "this person has no phone"
        whose = None if card_only else str(contact_user_id) if contact_user_id else self.user_id
        return await self._act(self._event(Kind.CONTACT, contact=Contact(number, whose)))

    async def send_photo(self, content: bytes) -> list[Sent]:
        """Send a photo, as the channel reports one: a file event with the channel's own file id."""
        return await self._send_file(Attachment("", None, "image/jpeg", len(content), is_photo=True))

    async def send_document(
        self, file_name: str, content: bytes, mime_type: str = "application/octet-stream"
    ) -> list[Sent]:
        """Send a file as a document."""
        return await self._send_file(Attachment("", file_name, mime_type, len(content), is_photo=False))

    async def _send_file(self, attachment: Attachment) -> list[Sent]:
        if not self.channel.capabilities.files_in:
            raise AssertionError("this channel cannot receive files")
        self._files += 1
        file_id = f"{self.channel.name}-{self.user_id}-{self._files}"
        return await self._act(self._event(Kind.FILE, attachment=replace(attachment, file_id=file_id)))

    @property
    def messages(self) -> list[Sent]:
        """Everything the bot sent to this chat so far."""
        return self.channel.sent(self.user_id)

    @property
    def last(self) -> Sent:
        """The bot's newest message to this chat."""
        return self.messages[-1]

    @property
    def last_text(self) -> str:
        """The newest message as the person reads it (no markup)."""
        return self.last.plain_text
