"""Long polling of the Zalo Bot API: one update per getUpdates call, an idle poll (error_code 408) is not an
error, and network failures or server errors are waited out with a growing pause.

An outage is one log line when it starts and one when it ends (``bot.channels.outages.OutageLog``), never
a line per failed poll. Each update is handed to the channel as it comes, in the order Zalo gave them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from bot.channels.outages import OutageLog
from bot.channels.zalo.client import IDLE, ZaloApiError, ZaloClient, ZaloError

log = logging.getLogger(__name__)

FIRST_PAUSE = 0.5  # seconds after the first failed poll; doubled after each failure up to LONGEST_PAUSE
LONGEST_PAUSE = 30.0


class ZaloPoller:
    """Calls getUpdates in a loop and hands each update (as parsed JSON) to ``on_update``."""

    def __init__(
        self,
        client: ZaloClient,
        on_update: Callable[[object], Awaitable[None]],
        timeout: int,
        *,
        first_pause: float = FIRST_PAUSE,
    ) -> None:
        self._client = client
        self._on_update = on_update
        self._timeout = timeout
        self._first_pause = first_pause
        self.outages = OutageLog("zalo polling", "the Zalo Bot API", log)

    async def run(self) -> None:
        """Poll until cancelled."""
        pause = self._first_pause
        while True:
            try:
                update = await self._client.call(
                    "getUpdates", {"timeout": str(self._timeout)}, wait=self._timeout
                )
            except ZaloApiError as error:
                if error.error_code != IDLE:
                    pause = await self._failed(error, pause)
                    continue
                update = None
            except ZaloError as error:
                pause = await self._failed(error, pause)
                continue
            self.outages.succeeded()
            pause = self._first_pause
            if update is not None:
                await self._on_update(update)

    async def _failed(self, error: ZaloError, pause: float) -> float:
        """Note the failure, wait ``pause`` seconds, and return the next pause."""
        self.outages.failed(f"{type(error).__name__}: {error.reason}")
        await asyncio.sleep(pause)
        return min(pause * 2, LONGEST_PAUSE)
