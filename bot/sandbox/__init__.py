"""Sandboxes that stand in for the messaging platforms in tests and terminal demos.

TelegramSandbox emulates the Telegram Bot API over HTTP; SandboxUser plays a user talking to the bot.
"""

from bot.sandbox.telegram import SandboxUser, SentMessage, TelegramSandbox

__all__ = ["SandboxUser", "SentMessage", "TelegramSandbox"]
