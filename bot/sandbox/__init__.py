"""Sandboxes that stand in for the messaging platforms in tests and terminal demos.

TelegramSandbox emulates the Telegram Bot API over HTTP; SandboxUser plays a user talking to the bot.
ZaloSandbox emulates the Zalo Bot Platform API; ZaloUser plays a Zalo user.
"""

from bot.sandbox.telegram import SandboxUser, SentMessage, TelegramSandbox
from bot.sandbox.zalo import ZaloSandbox, ZaloSent, ZaloUser

__all__ = ["SandboxUser", "SentMessage", "TelegramSandbox", "ZaloSandbox", "ZaloSent", "ZaloUser"]
