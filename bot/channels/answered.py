"""The updates a channel has fully answered, so tests and the demo can wait for one (``wait_processed``),
and those it has taken lately, so one the platform delivers twice is answered once (``TakenUpdates``). Both
keep the newest ``KEPT`` ids only: a waiter asks right after sending, a platform repeats within seconds, and
a service runs for months."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, TypeVar

UpdateId = TypeVar("UpdateId", int, str)
Key = TypeVar("Key", bound=Hashable)
Value = TypeVar("Value")

KEPT = 10_000


def keep_newest(kept: OrderedDict[Key, Value], key: Key, value: Value, most: int = KEPT) -> None:
    """Set ``key`` to ``value`` in ``kept``, forgetting the oldest entry once there are more than ``most``."""
    kept[key] = value
    if len(kept) > most:
        kept.popitem(last=False)


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
            keep_newest(self._ids, update_id, None, self._kept)
            self._changed.notify_all()

    async def wait_for(self, update_id: UpdateId, timeout: float) -> None:
        """Return once this update has been answered; raises TimeoutError after ``timeout`` seconds."""
        async with self._changed:
            async with asyncio.timeout(timeout):  # not wait_for: on 3.11 it may swallow a cancellation
                await self._changed.wait_for(lambda: update_id in self._ids)


class TakenUpdates(Generic[Key]):
    """The keys of the newest ``kept`` updates a channel took, to answer each once.

    Platforms deliver an update again: a webhook call whose answer was lost or late is retried, a polled
    batch is fetched again when its offset was not confirmed (Zalo's getUpdates has none). Answered twice, a
    typed answer would fill the form's next step too, a typed choice be made twice. A restart forgets them;
    the platforms' repeats come within seconds.
    """

    def __init__(self, kept: int = KEPT) -> None:
        self._keys: OrderedDict[Key, None] = OrderedDict()
        self._kept = kept

    def first_time(self, key: Key) -> bool:
        """True, and remembered, if this update has not been taken yet; False for a repeat."""
        if key in self._keys:
            return False
        keep_newest(self._keys, key, None, self._kept)
        return True
