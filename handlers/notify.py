"""Notices to people other than the sender, each in the recipient's own language, through the outbox."""

from __future__ import annotations

from collections.abc import Sequence

from bot.events import Button, Outgoing
from bot.outbox import queue_messages
from handlers.context import Ctx
from messages import text
from storage.records import Account


async def notify(
    ctx: Ctx,
    recipients: Sequence[Account],
    kind: str,
    key: str,
    buttons: Sequence[tuple[str, str]] = (),
    **params: object,
) -> int:
    """Queue the catalog text ``key`` (and buttons given as (label key, payload)) for every recipient."""
    queued = 0
    by_language: dict[str, list[Account]] = {}
    for account in recipients:
        by_language.setdefault(account.language or ctx.settings.language, []).append(account)
    for language, accounts in by_language.items():
        row = tuple(Button(text(language, label), payload) for label, payload in buttons)
        message = Outgoing(text(language, key, **params), (row,) if row else ())
        queued += await queue_messages(ctx.repos, accounts, message, kind, ctx.now)
    return queued
