"""``MemoryChannel``: a channel inside the process, with the capabilities it is given and no network.

It implements the engine's channel contract (``bot.engine.channel.Channel``): it answers events through the
router in the engine's per-chat order like any channel, delivers the outbox's messages and records every
message it would have sent, rendered for its capabilities. Tests talk to the bot through it
(tests/helpers/memory_chat.py); with buttons switched off it behaves as a channel with numbered menus and
plain text does.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from bot.channels.capabilities import TELEGRAM, ZALO, Capabilities, Markup
from bot.channels.render import render
from bot.engine.events import Button, FileOut, Incoming, Outgoing
from bot.engine.menus import Option
from bot.engine.outbox import Delivery, Outcome
from bot.engine.router import Router
from messages import plain

# As Telegram; tests give it a smaller upload_limit to see what a workbook too large to send becomes.
WITH_BUTTONS = TELEGRAM
# As Zalo: no buttons, no files sent, no contact sharing (people link with a code or a typed phone).
NUMBERED_MENUS = ZALO


@dataclass(frozen=True, slots=True)
class Sent:
    """One message the channel sent to a chat, as the person would see it."""

    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    menu: tuple[Option, ...] = ()
    ask_contact: str | None = None
    remove_keyboard: bool = False
    file: FileOut | None = None
    edit: bool = False  # shown in place of the message whose button was pressed
    markup: Markup = "html"  # how ``text`` is written: catalog HTML, or already plain

    @property
    def plain_text(self) -> str:
        """The text without markup (plain text is kept as is: a typed ``<b>`` is words, not a tag)."""
        return self.text if self.markup == "plain" else plain(self.text)


class MemoryChannel:
    """An in-process channel: the engine's ``Channel``, with no network and no pacing."""

    rate: float | None = None  # the outbox sends to it as fast as it can

    def __init__(self, capabilities: Capabilities, language: str, name: str = "memory") -> None:
        self.name = name
        self.capabilities = capabilities
        self._language = language  # the menu hint's language where the person's own is not known
        self._router: Router | None = None
        self._chats: defaultdict[str, list[Sent]] = defaultdict(list)

    def attach(self, router: Router) -> None:
        """Answer through ``router`` (the composition root calls this once)."""
        self._router = router

    async def start(self) -> None:
        """Nothing to connect: events arrive through ``receive``."""

    async def stop(self) -> None:
        """Nothing to close."""

    def invite_link(self, code: str) -> str:
        """A link that opens the bot with ``/start CODE``."""
        return f"memory://{self.name}/start?{code}"

    def sent(self, chat_id: str) -> list[Sent]:
        """Everything sent to ``chat_id`` so far, oldest first."""
        return list(self._chats[chat_id])

    async def receive(self, event: Incoming) -> None:
        """Answer one event, after every earlier event of the same chat."""
        router = self._attached()
        async with router.in_order(self.name, event.chat_id):
            chat = self._chats[event.chat_id]
            handled = await router.handle(event, self)
            language = (handled.who.account.language if handled.who else None) or self._language
            for reply in handled.replies:
                self._record(chat, reply, language)

    async def deliver(self, chat_id: str, message: Outgoing) -> Delivery:
        """Record one outbox message for ``chat_id`` in the chat's turn; in memory it always arrives."""
        router = self._attached()
        async with router.in_order(self.name, chat_id):
            if message.buttons and not self.capabilities.buttons:
                await router.remember_menu(self.name, chat_id, message.buttons)
            self._record(self._chats[chat_id], message, self._language)
        return Delivery(Outcome.SENT)

    def _attached(self) -> Router:
        if self._router is None:
            raise RuntimeError("the memory channel is not attached to a router")
        return self._router

    def _record(self, chat: list[Sent], message: Outgoing, language: str) -> None:
        shown = render(message, self.capabilities, language)
        markup = self.capabilities.markup
        for part in shown.parts[:-1]:
            chat.append(Sent(part, markup=markup))
        chat.append(
            Sent(
                shown.parts[-1],
                shown.buttons,
                shown.menu,
                shown.ask_contact,
                shown.remove_keyboard,
                shown.file,
                shown.replace,
                markup,
            )
        )
