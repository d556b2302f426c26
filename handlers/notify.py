"""Notices to people other than the sender, each in the recipient's own language, through the outbox."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from bot.domain.records import Account
from bot.engine.buttons import ButtonData
from bot.engine.context import Ctx
from bot.engine.events import Button, Outgoing
from bot.engine.outbox import queue_messages
from messages import text


class Localized:
    """A notice parameter worded in each recipient's language."""

    def __init__(self, word: Callable[[str], str]) -> None:
        self.word = word

    def __call__(self, language: str) -> str:
        return self.word(language)


async def fellow_officers(ctx: Ctx, unit_id: int) -> list[Account]:
    """The officers of a unit who should hear of what the sender did for it: all of them but the sender."""
    officers = await ctx.repos.roles.accounts_of_unit_officers(unit_id)
    return [account for account in officers if account.id != ctx.who.account.id]


async def notify(
    ctx: Ctx,
    recipients: Sequence[Account],
    kind: str,
    key: str,
    buttons: Sequence[tuple[str, ButtonData]] = (),
    **params: object,
) -> int:
    """Queue the catalog text ``key`` (and buttons given as (label key, payload)) for every recipient.

    A parameter may be a ``Localized`` function of the language, for words that are themselves translated.
    """
    queued = 0
    by_language: dict[str, list[Account]] = {}
    for account in recipients:
        by_language.setdefault(account.language or ctx.settings.language, []).append(account)
    for language, accounts in by_language.items():
        row = tuple(Button(text(language, label), payload.pack()) for label, payload in buttons)
        worded = {
            name: value(language) if isinstance(value, Localized) else value for name, value in params.items()
        }
        message = Outgoing(text(language, key, **worded), (row,) if row else ())
        queued += await queue_messages(ctx.repos, accounts, message, kind, ctx.now)
    return queued
