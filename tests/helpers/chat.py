"""``Chat``: a sandbox user whose every action waits until the real bot has answered it.

A test reads like the story it checks: ``await mai.send("/start")``, ``await mai.press("Đăng ký")``,
``mai.last.plain_text``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.app import Runtime
from bot.sandbox import SandboxUser, SentMessage


class Chat:
    """One person's private chat with the bot."""

    def __init__(self, user: SandboxUser, runtime: Callable[[], Runtime]) -> None:
        self.user = user
        self._runtime = runtime  # looked up on each call: a test may restart the bot

    @property
    def runtime(self) -> Runtime:
        """The bot this person talks to now (a restart replaces it)."""
        return self._runtime()

    @property
    def user_id(self) -> str:
        """The person's id as their account stores it."""
        return str(self.user.user_id)

    async def _act(self, action: Awaitable[int]) -> list[SentMessage]:
        before = len(self.user.messages())
        update_id = await action
        runtime = self._runtime()
        assert runtime.telegram is not None
        await runtime.telegram.wait_processed(update_id)
        await runtime.outbox.wait_idle()
        return self.user.messages()[before:]

    async def send(self, text: str) -> list[SentMessage]:
        """Send a text or a command; returns the new messages the bot sent to this chat."""
        return await self._act(self.user.send(text))

    async def press(self, label: str) -> list[SentMessage]:
        """Press the newest button whose label contains ``label``."""
        return await self._act(self.user.press(label))

    async def press_in(self, message: SentMessage, label: str) -> list[SentMessage]:
        """Press a button of an older message."""
        return await self._act(self.user.press_in(message, label))

    async def share_contact(
        self, phone: str | None = None, *, contact_user_id: int | None = None, card_only: bool = False
    ) -> list[SentMessage]:
        """Share a phone contact (by default one's own)."""
        return await self._act(
            self.user.share_contact(phone, contact_user_id=contact_user_id, card_only=card_only)
        )

    async def act(self, action: Awaitable[int]) -> list[SentMessage]:
        """Any other sandbox action (a sticker, a document, an edit), waited for like the rest."""
        return await self._act(action)

    @property
    def messages(self) -> list[SentMessage]:
        """Everything the bot sent to this chat so far."""
        return self.user.messages()

    @property
    def last(self) -> SentMessage:
        """The bot's newest message to this chat."""
        return self.user.last()

    @property
    def last_text(self) -> str:
        """The newest message as the person reads it (no HTML tags)."""
        return self.last.plain_text


def labels(message: SentMessage) -> list[str]:
    """Every button label of a message, inline or reply keyboard, row by row."""
    rows = message.inline_keyboard or message.reply_keyboard or []
    return [str(button["text"]) for row in rows for button in row]
