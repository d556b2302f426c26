"""The updates a channel has fully answered, so tests and the demo can wait for one (``wait_processed``),
and those it has taken lately, so one the platform delivers twice is answered once (``TakenUpdates``)."""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Generic, TypeVar

UpdateId = TypeVar("UpdateId", int, str)


class AnsweredUpdates(Generic[UpdateId]):
    """The ids of the last ``size`` updates answered (Telegram's update_id, Zalo's message_id): waiters look
    right after sending, and a service answering for months must not keep every id it ever answered."""

    def __init__(self, size: int = 10_000) -> None:
        self._ids: set[UpdateId] = set()
        self._order: deque[UpdateId] = deque()
        self._size = size
        self._changed = asyncio.Condition()

    async def add(self, update_id: UpdateId) -> None:
        """Record that this update has been fully answered and wake whoever waits for it."""
        async with self._changed:
            if update_id not in self._ids:
                self._ids.add(update_id)
                self._order.append(update_id)
                if len(self._order) > self._size:
                    self._ids.discard(self._order.popleft())
            self._changed.notify_all()

    async def wait_for(self, update_id: UpdateId, timeout: float) -> None:
        """Return once this update has been answered; raises TimeoutError after ``timeout`` seconds."""
        async with self._changed:
            async with asyncio.timeout(timeout):  # not wait_for: on 3.11 it may swallow a cancellation
                await self._changed.wait_for(lambda: update_id in self._ids)


class TakenUpdates(Generic[UpdateId]):
    """The ids of the last ``size`` updates a channel took, to answer each once.

    Platforms deliver an update again: a webhook call whose answer was lost or late is retried, a polled
    batch is fetched again when its offset was not confirmed. Answered twice, a typed answer would fill the
    form's next step too. A restart forgets them; the platforms' repeats come within seconds.
    """

    def __init__(self, size: int = 10_000) -> None:
        self._ids: set[UpdateId] = set()
        self._order: deque[UpdateId] = deque()
        self._size = size

    def first_time(self, update_id: UpdateId) -> bool:
        """True, and remembered, if this update has not been taken yet; False for a repeat."""
        if update_id in self._ids:
            return False
        self._ids.add(update_id)
        self._order.append(update_id)
        if len(self._order) > self._size:
            self._ids.discard(self._order.popleft())
        return True
