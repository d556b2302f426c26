"""The channel contract and per-chat order: what the engine asks of every channel, and the one lock per
(channel, chat) that every channel's incoming path goes through.

A channel (Telegram, the in-process ``MemoryChannel``, Zalo next) has a name and declared capabilities, is
started and stopped with the service, delivers the outbox's messages at its own rate and makes invite
links. Updates of one chat are answered strictly in order, different chats concurrently, whatever the channel.
A channel that can take its updates by webhook also hands the web server a ``Webhook``: its path, the header
its platform puts the secret in, and the call that takes one update's JSON.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from bot.engine.events import Outgoing
from bot.engine.outbox import Delivery


class ChannelStartError(Exception):
    """A channel could not start; the message is one line naming the setting or the address, never a token."""


class Abilities(Protocol):
    """A channel's capabilities as the engine and the handlers read them
    (``bot.channels.capabilities.Capabilities``)."""

    @property
    def buttons(self) -> bool:
        """Inline buttons under a message, or a numbered menu without them."""
        ...

    @property
    def text_limit(self) -> int:
        """Characters in one message."""
        ...

    @property
    def contact(self) -> bool:
        """People can share their verified phone number."""
        ...

    @property
    def files_out(self) -> bool:
        """The bot can send files it holds (a member's attachment) on it."""
        ...

    @property
    def upload_limit(self) -> int:
        """Bytes in one file the bot sends on it (0 where it sends none)."""
        ...

    @property
    def delivers_files(self) -> bool:
        """A chart or a workbook the bot makes reaches the person, as a file or as a signed link."""
        ...


class Channel(Protocol):
    """What the composition root, the router and the outbox need of a channel."""

    @property
    def name(self) -> str:
        """The channel's name in accounts and outbox rows (``telegram``, ``memory``)."""
        ...

    @property
    def capabilities(self) -> Abilities:
        """What its messages may carry."""
        ...

    @property
    def rate(self) -> float | None:
        """Outbox messages per second it takes, or None for no pacing."""
        ...

    async def start(self) -> None:
        """Connect and begin receiving; raise with one line naming the setting when it cannot."""
        ...

    async def stop(self) -> None:
        """Stop receiving, finish the updates in hand and close connections."""
        ...

    async def deliver(self, chat_id: str, message: Outgoing) -> Delivery:
        """Send one outbox message to ``chat_id`` and say how it went."""
        ...

    def invite_link(self, code: str) -> str | None:
        """A link that opens the bot with ``/start CODE``; None where the platform has none (the code is
        typed)."""
        ...


class MalformedUpdate(ValueError):
    """A webhook body that is not an update of the channel's platform (answered 400, handled no further)."""


@dataclass(frozen=True, slots=True)
class Webhook:
    """One webhook route of the web server: ``POST path`` with ``secret`` in the header ``secret_header``.

    ``receive`` takes the decoded JSON body and returns as soon as the update is handed over (handling
    goes on after the answer, in its chat's turn); it raises MalformedUpdate for a body it cannot read.
    """

    path: str
    secret_header: str
    secret: str
    receive: Callable[[object], Awaitable[None]]


@runtime_checkable
class TakesWebhooks(Protocol):
    """A channel that can run in webhook mode (THIDUA_WEBHOOK_URL set)."""

    def webhook(self) -> Webhook | None:
        """Its route while in webhook mode, None while it polls."""
        ...


class ChatOrder:
    """One lock per (channel, chat), held while an update is answered and its replies are sent.

    A lock lives only while someone holds or waits for it, so a million chats cost nothing at rest.
    """

    def __init__(self) -> None:
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}
        self._waiting: dict[tuple[str, str], int] = {}

    def turn(self, channel: str, chat_id: str) -> Turn:
        """Wait until every earlier update of this chat is answered, then hold the chat until done."""
        return Turn(self, (channel, chat_id))

    def _join(self, key: tuple[str, str]) -> asyncio.Lock:
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
        self._waiting[key] = self._waiting.get(key, 0) + 1
        return lock

    def _leave(self, key: tuple[str, str]) -> None:
        self._waiting[key] -= 1
        if not self._waiting[key]:
            del self._waiting[key], self._locks[key]


class Turn:
    """One update's turn in its chat (``ChatOrder.turn``): a plain context manager, as every update enters
    one (a generator-based one cost twice as much, issue 13)."""

    __slots__ = ("_key", "_lock", "_order")

    def __init__(self, order: ChatOrder, key: tuple[str, str]) -> None:
        self._order = order
        self._key = key

    async def __aenter__(self) -> None:
        self._lock = self._order._join(self._key)
        try:
            await self._lock.acquire()
        except BaseException:  # cancelled while waiting: no longer in the line
            self._order._leave(self._key)
            raise

    async def __aexit__(self, *_: object) -> None:
        self._lock.release()
        self._order._leave(self._key)
