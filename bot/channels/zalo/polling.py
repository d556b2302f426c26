"""Long polling of the Zalo Bot API: one update per getUpdates call, an idle poll (error_code 408) is not an
error, and network failures or server errors are waited out with a growing pause (``OutageLog.pause``).

An outage is one log line when it starts and one when it ends (``bot.engine.outages.OutageLog``), never
a line per failed poll. Each update is handed to the channel as it comes, in the order Zalo gave them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from bot.channels.zalo.client import IDLE, ZaloApiError, ZaloClient, ZaloError
from bot.engine.outages import OutageLog

log = logging.getLogger(__name__)


class ZaloPoller:
    """Calls getUpdates in a loop and hands each update (as parsed JSON) to ``on_update``."""

    def __init__(
        self,
        client: ZaloClient,
        on_update: Callable[[object], Awaitable[None]],
        timeout: int,
    ) -> None:
        self._client = client
        self._on_update = on_update
        self._timeout = timeout
        self.outages = OutageLog("zalo polling", "the Zalo Bot API", log)

    async def run(self) -> None:
        """Poll until cancelled."""
        while True:
            try:
                update = await self._client.call(
                    "getUpdates", {"timeout": str(self._timeout)}, wait=self._timeout
                )
            except ZaloApiError as error:
                if error.error_code != IDLE:
                    await self._failed(error)
                    continue
                update = None
            except ZaloError as error:
                await self._failed(error)
                continue
            self.outages.succeeded()
            if update is not None:
                await self._on_update(update)

    async def _failed(self, error: ZaloError) -> None:
        """Note the failure and wait before the next poll."""
        self.outages.failed(f"{type(error).__name__}: {error.reason}")
        await asyncio.sleep(self.outages.pause())
