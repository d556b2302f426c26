"""Initiatives for tests stored directly, as the form and the council's review would leave them (the chat
flows themselves are what the initiative tests drive)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from bot.domain.vn.textkeys import search_key
from storage.database import Store


async def stored_initiative(
    store: Store,
    member_code: str,
    campaign_id: int,
    title: str,
    statuses: Sequence[str],
    now: datetime,
    *,
    details: Mapping[str, object] | None = None,
    scores: Mapping[str, int] | None = None,
    actor: str = "test",
) -> int:
    """The member's initiative in the campaign, titled ``title`` (with ``details``, other fields of the
    form), created at ``now`` and moved through ``statuses`` in order, ``scores`` given with the last move."""
    async with store.begin() as repos:
        member = await repos.members.by_code(member_code)
        assert member is not None
        initiative_id = await repos.initiatives.create_draft(
            author_member_id=member.id, unit_id=member.unit_id, campaign_id=campaign_id, now=now
        )
        fields = {"title": title, "title_key": search_key(title), **(details or {})}
        await repos.initiatives.update_fields(initiative_id, fields, now)
        for number, to_status in enumerate(statuses, start=1):
            current = await repos.initiatives.get(initiative_id)
            assert current is not None
            await repos.initiatives.move(
                initiative_id,
                version=current.version,
                from_statuses=(current.status,),
                to_status=to_status,
                actor=actor,
                note="",
                now=now,
                scores=dict(scores) if scores is not None and number == len(statuses) else None,
            )
    return initiative_id
