"""``ZaloChat``: a person talking to the real bot on the Zalo sandbox over HTTP, with ``MemoryChat``'s API.

``await mai.send("/start")``, ``await mai.press("Đăng ký")`` (types the option's words, as a person
answering a numbered menu would), ``await mai.choose(2)`` (types its number), ``mai.send_photo(...)`` (an
image Zalo hands over by its URL), ``mai.last_text``. Each action waits until the bot has answered it and
the outbox is idle; every message read through it (``messages``, ``last``) is checked against Zalo's rules
(``assert_fits_zalo``).
``link_in_database`` ties a Zalo account to a roster member directly.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime

from bot.app import Runtime
from bot.domain.vn.textkeys import search_key
from bot.sandbox.zalo import MAX_TEXT_LENGTH, ZaloSandbox, ZaloSent, ZaloUser
from messages import plain, text
from storage.database import Store

_NOT_WORDS = re.compile(r"[^\w ]+")
_OPTION = re.compile(r"^(\d+\.|•) (.+)$")  # "1. label", or "• label" where a number is an answer
# The line a menu starts with: a bulleted list in a message's text is no menu without it.
_HINTS = {
    plain(text(lang, key))
    for lang in ("vi", "en")
    for key in ("menu.choose_by_number", "menu.choose_by_words")
}
_MARKUP = re.compile(r"</?(b|i|u|s|a|code|pre|tg-spoiler|blockquote)\b[^>]*>|&(amp|lt|gt|quot);")
# Words that send a Zalo person looking for what Zalo does not have: a button to press, a contact to share.
_NOT_ON_ZALO = re.compile(
    r"\bbấm\b|chia sẻ số điện thoại|\bpress\b|\btap\b|share (my|your) phone", re.IGNORECASE
)
_PHOTOS = "https://photo.zalo.example/"  # where the sandbox's persons' photos are said to live


def assert_fits_zalo(message: ZaloSent, typed: Iterable[str] = ()) -> None:
    """A message the bot sent obeys Zalo's rules: at most 2,000 characters, plain text (no HTML tag or
    entity, which Zalo would show as typed), and never asks to press a button or share a contact (Zalo has
    neither); what the person typed themselves may be echoed."""
    assert len(message.text) <= MAX_TEXT_LENGTH, f"{len(message.text)} characters: {message.text[:80]!r}"
    echoed = " ".join(typed)
    for markup in _MARKUP.finditer(message.text):
        assert markup.group() in echoed, f"markup reaches Zalo: {message.text!r}"
    for words in _NOT_ON_ZALO.finditer(message.text):
        assert words.group() in echoed, f"asks for what Zalo has not: {message.text!r}"


def menu(message: ZaloSent) -> list[str]:
    """The labels of a message's numbered menu (its last block: the hint, then "1. ..." lines), in order."""
    block = message.text.rpartition("\n\n")[2].splitlines()
    if not block or block[0] not in _HINTS:
        return []
    options = [_OPTION.match(line) for line in block[1:]]
    if not options or not all(options):
        return []
    return [found.group(2) for found in options if found]


def menu_body(message: ZaloSent) -> str:
    """The message's text without its numbered menu."""
    return message.text.rpartition("\n\n")[0] if menu(message) else message.text


class ZaloChat:
    """One person's private chat with the bot on the Zalo sandbox."""

    def __init__(
        self,
        sandbox: ZaloSandbox,
        runtime: Callable[[], Runtime],
        user_id: int | str,
        first_name: str,
        last_name: str | None = None,
        phone: str | None = None,
        language_code: str = "vi",
    ) -> None:
        self._runtime = runtime  # looked up on each call, as the other chats do
        self.name = " ".join(part for part in (first_name, last_name) if part)
        self.user: ZaloUser = sandbox.user(f"z{user_id}", self.name)
        self.user_id = self.user.user_id
        self.phone = phone
        self.language_code = language_code  # Zalo tells no language: kept for the same signature
        self._photos = 0  # photos sent so far, numbering their URLs
        self._typed: list[str] = []  # what this person typed, which the bot may echo as typed

    @property
    def runtime(self) -> Runtime:
        """The bot this person talks to now (a restart replaces it)."""
        return self._runtime()

    async def _act(self, action: Awaitable[str]) -> list[ZaloSent]:
        before = len(self.messages)
        message_id = await action
        runtime = self._runtime()
        assert runtime.zalo is not None
        await runtime.zalo.wait_processed(message_id)
        await runtime.outbox.wait_idle()
        return self.messages[before:]

    async def send(self, text: str) -> list[ZaloSent]:
        """Send a text or a command; returns the new messages the bot sent to this chat."""
        self._typed.append(text)
        return await self._act(self.user.send_text(text))

    async def send_twice(self, text: str) -> list[ZaloSent]:
        """Send a text that Zalo hands the bot twice (the same message id); returns the new messages."""
        self._typed.append(text)
        return await self._act(self.user.send_text(text, times=2))

    async def send_image(self, photo_url: str, caption: str | None = None) -> list[ZaloSent]:
        """Send a photo by its URL, as Zalo hands it to the bot."""
        return await self._act(self.user.send_image(photo_url, caption))

    async def send_photo(self, content: bytes) -> list[ZaloSent]:
        """Send a photo: Zalo hands the bot only its URL (the bytes stay with Zalo)."""
        self._photos += 1
        return await self.send_image(f"{_PHOTOS}{self.user_id}/{self._photos}-{len(content)}.jpg")

    async def send_sticker(self) -> list[ZaloSent]:
        """Send a sticker."""
        return await self._act(self.user.send_sticker())

    async def press(self, label: str) -> list[ZaloSent]:
        """Choose the newest menu option whose label contains ``label`` by typing its words."""
        for message in reversed(self.messages):
            for option in menu(message):
                if label in option:
                    return await self.send(search_key(_NOT_WORDS.sub(" ", option)))
        raise AssertionError(f"no choice {label!r} in this chat")

    async def choose(self, number: int) -> list[ZaloSent]:
        """Type an option's number, as a person answering a numbered menu does."""
        return await self.send(str(number))

    async def share_contact(self, *args: object, **kwargs: object) -> list[ZaloSent]:
        """Zalo has no contact sharing."""
        raise AssertionError("this channel cannot share a contact")

    @property
    def messages(self) -> list[ZaloSent]:
        """Everything the bot sent to this chat so far, each checked against Zalo's rules."""
        sent = self.user.messages()
        for message in sent:
            assert_fits_zalo(message, self._typed)
        return sent

    @property
    def last(self) -> ZaloSent:
        """The bot's newest message to this chat, checked against Zalo's rules."""
        message = self.user.last()
        assert_fits_zalo(message, self._typed)
        return message

    @property
    def last_text(self) -> str:
        """The newest message as the person reads it (Zalo's texts are plain)."""
        return self.last.plain_text


async def link_in_database(store: Store, chat: ZaloChat, member_code: str, now: datetime) -> None:
    """Tie ``chat``'s Zalo account to the roster member ``member_code``, as linking will."""
    async with store.begin() as repos:
        member = await repos.members.by_code(member_code)
        assert member is not None, member_code
        account = await repos.accounts.touch("zalo", chat.user_id, chat.user_id, chat.name, now)
        await repos.accounts.link(account.id, member.id, now)
