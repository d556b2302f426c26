"""Dialog state service: start, advance, go back, finish; stale dialogs expire politely.

The state lives in the database per chat, so a restart, or a second instance, continues a half-filled form.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from storage.database import Repos
from storage.records import DialogState


class Dialogs:
    """The dialog of one chat, read and written within the update's transaction."""

    def __init__(self, repos: Repos, channel: str, chat_id: str, now: datetime, expiry: timedelta) -> None:
        self._repos = repos
        self._channel = channel
        self._chat_id = chat_id
        self._now = now
        self._expiry = expiry
        self.state: DialogState | None = None
        self.expired: DialogState | None = None  # a dialog found stale on this update, now forgotten

    async def load(self, state: DialogState | None) -> None:
        """Take the chat's dialog as the update's transaction read it (``DialogRepo.opening``), dropping it
        if it has gone stale."""
        if state is not None and self._now - state.updated_at > self._expiry:
            await self._repos.dialogs.clear(self._channel, self._chat_id)
            self.expired, state = state, None
        self.state = state

    def is_in(self, flow: str) -> bool:
        """True when the chat is in this flow."""
        return self.state is not None and self.state.flow == flow

    @property
    def data(self) -> dict[str, Any]:
        """The draft of the open dialog (empty when there is none)."""
        return dict(self.state.data) if self.state else {}

    async def start(self, flow: str, step: str, **data: Any) -> None:
        """Open a flow at its first step, replacing any other dialog of the chat."""
        await self._save(DialogState(flow, step, data, [], self._now))

    async def advance(self, step: str, **data: Any) -> None:
        """Move the open flow to ``step``, merging ``data`` into the draft; the way back is remembered."""
        assert self.state is not None, "advance() needs an open dialog"
        merged = {**self.state.data, **data}
        await self._save(
            replace(
                self.state,
                step=step,
                data=merged,
                back_stack=[*self.state.back_stack, self.state.step],
                updated_at=self._now,
            )
        )

    async def update(self, **data: Any) -> None:
        """Change the draft without moving."""
        assert self.state is not None, "update() needs an open dialog"
        await self._save(replace(self.state, data={**self.state.data, **data}, updated_at=self._now))

    async def back(self) -> bool:
        """Return to the previous step; False when already at the first."""
        if self.state is None or not self.state.back_stack:
            return False
        *rest, previous = self.state.back_stack
        await self._save(replace(self.state, step=previous, back_stack=rest, updated_at=self._now))
        return True

    async def finish(self) -> DialogState | None:
        """Close the dialog; returns what it was."""
        state = self.state
        if state is not None:
            await self._repos.dialogs.clear(self._channel, self._chat_id)
        self.state = None
        return state

    async def _save(self, state: DialogState) -> None:
        await self._repos.dialogs.save(self._channel, self._chat_id, state)
        self.state = state
