"""The delivery summary an officer receives when a broadcast they started has gone out to everyone."""

from __future__ import annotations

from datetime import datetime

from bot.engine.events import Outgoing
from bot.engine.outbox import BroadcastDone, queue_messages
from messages import formatting, text
from storage.database import Repos


def summary_reporter(default_language: str) -> BroadcastDone:
    """The outbox worker's hook: queue the summary for whoever asked for the broadcast."""

    async def report(repos: Repos, broadcast_id: int, now: datetime) -> None:
        found = await repos.broadcasts.progress([broadcast_id])
        requester = found[0].requested_by if found else None
        if requester is None:
            return
        progress = found[0]
        account = await repos.accounts.by_id(requester)
        if account is None:
            return
        language = account.language or default_language
        number = formatting.number
        summary = text(
            language,
            "broadcasts.summary",
            title=progress.title,
            total=number(progress.total, language),
            sent=number(progress.sent, language),
            uncertain=number(progress.uncertain, language),
            unreachable=number(progress.unreachable, language),
            failed=number(progress.failed, language),
        )
        await queue_messages(repos, [account], Outgoing(summary), "broadcast_summary", now)

    return report
