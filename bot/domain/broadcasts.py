"""Broadcasts: the one way to send to a unit's subtree. A launch's announcement, a due reminder and an
officer's /broadcast all create the broadcast, queue one outbox row per linked member below the unit, set
the broadcast's total and, where someone is accountable, write the audit entry, in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.engine.quiet import quiet_until
from storage.database import Repos
from storage.records import Unit
from storage.repos.outbox import Audience, NewOutboxItem


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """Who sent, as what action, about what; the broadcast's id and count are added to ``details``."""

    actor: str
    action: str
    target: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Sent:
    """A broadcast queued for a subtree: its id and how many members it reaches."""

    broadcast_id: int
    queued: int


async def send_to_subtree(
    repos: Repos,
    *,
    kind: str,
    title: str,
    unit: Unit,
    campaign_id: int | None,
    requested_by: int | None,
    messages: dict[str, dict[str, Any]],
    default_language: str,
    now: datetime,
    audience: Audience | None = None,
    skip_opted_out: bool = False,
    audit: AuditEntry | None = None,
    also: Sequence[NewOutboxItem] = (),
) -> Sent:
    """Queue ``messages`` (outbox JSON by language) for every linked member in ``unit``'s subtree (narrowed
    to ``audience``) and the messages ``also`` worded for their accounts alone (the audience leaves those
    accounts out), record the broadcast with its total, and audit it when ``audit`` is given."""
    broadcast_id = await repos.broadcasts.create(
        kind=kind,
        title=title,
        campaign_id=campaign_id,
        unit_id=unit.id,
        requested_by=requested_by,
        now=now,
    )
    queued = await repos.outbox.enqueue_for_subtree(
        path=unit.path,
        kind=kind,
        broadcast_id=broadcast_id,
        messages=messages,
        default_language=default_language,
        now=now,
        audience=audience,
        skip_opted_out=skip_opted_out,
    )
    await repos.outbox.enqueue(also, now, broadcast_id)
    queued += len(also)
    await repos.broadcasts.set_total(broadcast_id, queued, now)
    if audit is not None:
        details = {"broadcast": broadcast_id, "queued": queued, **audit.details}
        await repos.audit.record(audit.actor, audit.action, audit.target, details, now)
    return Sent(broadcast_id, queued)


@dataclass(frozen=True, slots=True)
class Held:
    """How many of a broadcast's recipients are in their quiet hours, and when the last of those ends."""

    count: int
    until: datetime | None


async def held_for_quiet_hours(repos: Repos, broadcast_id: int, now: datetime, zone: ZoneInfo) -> Held:
    """The recipients of a broadcast just queued whom the outbox holds until their quiet hours end."""
    count, until = 0, None
    for start, end, recipients in await repos.outbox.quiet_windows(broadcast_id):
        ends = quiet_until(now, zone, start, end)
        if ends is not None:
            count += recipients
            until = ends if until is None else max(until, ends)
    return Held(count, until)
