"""What the platform sandboxes share: the server they listen with, the faults tests inject into it, and
the queue of updates the bot polls for or receives on its webhook.

``SandboxServer`` is the base of TelegramSandbox and ZaloSandbox: ``add_fault`` (429, 5xx, slow answers,
dropped connections, 403, and the platform's own "no such chat"), ``go_down``/``go_up`` (connections
refused for a while), ``wait_delivered``, and the webhook pusher. A sandbox says which fault kinds it knows
(``fault_kinds``), how each error kind answers on its platform (``_fault_error``) and where its webhook is
(``_webhook_target``), and runs each API call through ``_carry_out``.
"""

from __future__ import annotations

import asyncio
import random
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import ClassVar, Generic, Literal, TypeVar

import aiohttp
from aiohttp import web

FaultKind = Literal["429", "5xx", "slow", "drop", "403", "400", "404"]
ChatId = TypeVar("ChatId", int, str)
Update = TypeVar("Update")

WEBHOOK_RETRY_SECONDS = 0.05  # between tries of an update the webhook did not take; the platforms wait longer
WEBHOOK_TIMEOUT = aiohttp.ClientTimeout(total=10)


@dataclass
class Fault(Generic[ChatId]):
    """A fault injected into the calls it matches: of one method (or any), to one chat (or any), each with
    probability ``rate`` (the sandbox's seeded random), for the next ``times`` of them (or without end).

    Kinds: "429" (flood control or quota; Telegram's answer names ``retry_after``), "5xx" (``status``),
    "slow" (the call is carried out, then answered ``delay`` seconds late), "drop" (the connection is closed
    without an answer, after carrying the call out if ``delivered``), "403" (the user blocked the bot), "400"
    on Telegram and "404" on Zalo (no such chat).
    """

    kind: FaultKind
    method: str | None = "sendmessage"
    chat_id: ChatId | None = None
    rate: float = 1.0
    times: int | None = None
    retry_after: int = 1
    status: int = 502
    delay: float = 0.0
    delivered: bool = True
    after: int = 0  # matching calls let through before it starts (the second part of a long message)
    hits: int = 0  # calls it has hit so far

    def matches(self, method: str, chat_id: ChatId | None) -> bool:
        """True when this fault applies to a call of ``method`` for ``chat_id``."""
        return (
            (self.times is None or self.times > 0)
            and (self.method is None or self.method == method)
            and (self.chat_id is None or self.chat_id == chat_id)
        )


class SandboxServer(ABC, Generic[ChatId, Update]):
    """An aiohttp server for a sandbox: the faults and outages tests inject, the count of messages
    delivered, and the updates queued for the bot (fetched by polling, or pushed to its webhook)."""

    fault_kinds: ClassVar[frozenset[str]]

    def __init__(self, seed: int) -> None:
        self.delivered = 0  # messages the bot has sent (files and stickers included)
        self._delivery = asyncio.Event()
        self.changes = 0  # messages the bot has sent, edited or deleted: what a watching chat must redraw
        self._changed = asyncio.Event()
        self._faults: list[Fault[ChatId]] = []
        self._random = random.Random(seed)
        self._address: tuple[str, int] | None = None
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None
        self._stopping = False
        self._updates: deque[Update] = deque()
        self._arrived = asyncio.Event()  # set when an update arrives or something pollers must see changes
        self._pusher: asyncio.Task[None] | None = None
        self.webhook_answers: list[int] = []  # the bot's HTTP status for each webhook call, 0: no answer

    # ------------------------------------------------------------ serving

    async def _listen(self, runner: web.AppRunner, host: str, port: int) -> None:
        """Serve ``runner``'s app on host:port (port 0 picks a free port) and remember the address."""
        self._stopping = False
        self._runner = runner
        await runner.setup()
        self._site = web.TCPSite(runner, host, port)
        await self._site.start()
        self._address = runner.addresses[0][:2]

    async def stop(self) -> None:
        """End pending long polls and stop serving; safe to call twice."""
        self._stopping = True
        self._wake_pollers()
        if self._pusher is not None:
            await self._pusher
            self._pusher = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
            self._site = None

    @property
    def api_url(self) -> str:
        """The server's root URL; the bot calls f"{api_url}/bot{token}/{method}"."""
        if self._runner is None or self._address is None:
            raise RuntimeError("the sandbox is not started")
        host, port = self._address
        return f"http://{host}:{port}"

    # ------------------------------------------------------------ test controls

    def add_fault(
        self,
        kind: FaultKind,
        *,
        method: str | None = "sendMessage",
        chat_id: ChatId | None = None,
        rate: float = 1.0,
        times: int | None = None,
        retry_after: int = 1,
        status: int = 502,
        delay: float = 0.0,
        delivered: bool = True,
        after: int = 0,
    ) -> Fault[ChatId]:
        """Inject a fault (see ``Fault``) into matching calls from now on; the first matching fault that
        its rate draws applies. Returns it, so a test can read its ``hits`` or remove it."""
        if kind not in self.fault_kinds:
            raise ValueError(f"this sandbox has no {kind!r} fault (it has {sorted(self.fault_kinds)})")
        fault = Fault(
            kind,
            method.lower() if method is not None else None,
            chat_id,
            rate,
            times,
            retry_after,
            status,
            delay,
            delivered,
            after,
        )
        self._faults.append(fault)
        return fault

    def remove_fault(self, fault: Fault[ChatId]) -> None:
        """Stop injecting this fault."""
        self._faults.remove(fault)

    def clear_faults(self) -> None:
        """Stop injecting every fault added with ``add_fault``."""
        self._faults.clear()

    async def go_down(self) -> None:
        """Stop listening (connections are refused) and close the open ones, until ``go_up``."""
        if self._site is None or self._runner is None:
            raise RuntimeError("the sandbox is not serving")
        await self._site.stop()
        self._site = None
        server = self._runner.server
        if server is not None:
            for connection in list(server.connections):
                connection.force_close()
            # Give clients in this process a moment to see the hang-up, as they would after a real outage
            # (there is nothing on this side to wait for: the news arrives at their end of the sockets).
            await asyncio.sleep(0.05)

    async def go_up(self) -> None:
        """Listen again on the same address after ``go_down``."""
        if self._runner is None or self._address is None:
            raise RuntimeError("the sandbox is not started")
        if self._site is None:
            self._site = web.TCPSite(self._runner, *self._address)
            await self._site.start()

    async def wait_delivered(self, at_least: int) -> None:
        """Return once the bot has sent at least this many messages in all (bound it with a timeout)."""
        while self.delivered < at_least:
            await self._delivery.wait()

    async def wait_changed(self, seen: int) -> None:
        """Return once ``changes`` has moved past ``seen`` (bound it with a timeout)."""
        while self.changes == seen:
            await self._changed.wait()

    # ------------------------------------------------------------ used by the sandboxes

    def _announce_change(self) -> None:
        """A message was sent, edited or deleted: wake ``wait_changed``."""
        self.changes += 1
        self._changed.set()
        self._changed = asyncio.Event()

    def _wake_pollers(self) -> None:
        """Wake every long poll and the webhook pusher to look at the queue and the webhook again."""
        self._arrived.set()
        self._arrived = asyncio.Event()

    def _start_pusher(self) -> None:
        """Start pushing queued updates to the webhook, unless a pusher is already at it."""
        if self._pusher is None or self._pusher.done():
            self._pusher = asyncio.get_running_loop().create_task(self._push_to_webhook())

    async def _push_to_webhook(self) -> None:
        """POST each queued update to the webhook in order; one is dropped once the bot answers 2xx."""
        async with aiohttp.ClientSession(timeout=WEBHOOK_TIMEOUT) as session:
            while (target := self._webhook_target()) is not None and not self._stopping:
                arrived = self._arrived
                if not self._updates:
                    await arrived.wait()
                    continue
                update = self._updates[0]
                url, headers = target
                try:
                    async with session.post(url, json=update, headers=headers) as answer:
                        status = answer.status
                except (aiohttp.ClientError, TimeoutError):
                    status = 0
                self.webhook_answers.append(status)
                if 200 <= status < 300:
                    if self._updates and self._updates[0] is update:
                        self._updates.popleft()
                else:
                    await asyncio.sleep(WEBHOOK_RETRY_SECONDS)

    def _count_delivered(self) -> None:
        """Count one more message sent by the bot and wake ``wait_delivered``."""
        self.delivered += 1
        self._delivery.set()
        self._delivery = asyncio.Event()
        self._announce_change()

    async def _carry_out(
        self,
        request: web.Request,
        method: str,
        chat_id: ChatId | None,
        call: Callable[[], Awaitable[object]],
    ) -> object:
        """Carry out an API call of ``method`` (lower case) for ``chat_id`` the way the fault it draws says,
        if any: raise the error the fault stands for, answer late, or hang up without an answer."""
        fault = self._draw_fault(method, chat_id)
        if fault is None:
            return await call()
        error = self._fault_error(fault)
        if error is not None:
            raise error
        result = None if fault.kind == "drop" and not fault.delivered else await call()
        if fault.kind == "slow":
            await asyncio.sleep(fault.delay)
        if fault.kind == "drop":
            request.protocol.force_close()  # the answer never leaves: the client sees the server hang up
        return result

    def _draw_fault(self, method: str, chat_id: ChatId | None) -> Fault[ChatId] | None:
        """The injected fault this call meets, if any (counting it against the fault's ``times``)."""
        for fault in self._faults:
            if not fault.matches(method, chat_id):
                continue
            if fault.after > 0:
                fault.after -= 1
            elif self._random.random() < fault.rate:
                fault.hits += 1
                if fault.times is not None:
                    fault.times -= 1
                return fault
        return None

    @abstractmethod
    def _webhook_target(self) -> tuple[str, dict[str, str]] | None:
        """The webhook's URL and the headers each call to it carries, or None while no webhook is set."""

    @abstractmethod
    def _fault_error(self, fault: Fault[ChatId]) -> Exception | None:
        """The error a fault of an error kind (429, 5xx, 403, 400 or 404) answers with on this platform;
        None for the kinds that carry the call out ("slow", "drop")."""
