"""The updates a channel has fully answered, so tests and the demo can wait for one (``wait_processed``)."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from typing import Generic, TypeVar

UpdateId = TypeVar("UpdateId", int, str)

KEPT = 10_000  # the newest ids kept: a waiter asks right after sending, and a service runs for months


class AnsweredUpdates(Generic[UpdateId]):
    """The ids of the newest ``kept`` updates answered (Telegram's update_id, Zalo's message_id)."""

    def __init__(self, kept: int = KEPT) -> None:
        self._ids: OrderedDict[UpdateId, None] = OrderedDict()
        self._kept = kept
        self._changed = asyncio.Condition()

    def __len__(self) -> int:
        return len(self._ids)

    async def add(self, update_id: UpdateId) -> None:
        """Record that this update has been fully answered and wake whoever waits for it."""
        async with self._changed:
            self._ids[update_id] = None
            if len(self._ids) > self._kept:
                self._ids.popitem(last=False)
            self._changed.notify_all()

    async def wait_for(self, update_id: UpdateId, timeout: float) -> None:
        """Return once this update has been answered; raises TimeoutError after ``timeout`` seconds."""
        async with self._changed:
            async with asyncio.timeout(timeout):  # not wait_for: on 3.11 it may swallow a cancellation
                await self._changed.wait_for(lambda: update_id in self._ids)
