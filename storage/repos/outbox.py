"""The durable outbox: one row per message per recipient, sent by the outbox worker."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from storage.loop_connection import Executor
from storage.prepared import Prepared, run
from storage.records import OutboxItem
from storage.repos.accounts import delivery_account_id, holds_role
from storage.repos.evaluation import assessed as sent_assessment
from storage.tables import (
    UTCDateTime,
    channel_accounts,
    initiatives,
    members,
    officer_roles,
    outbox,
    registrations,
    self_assessments,
    units,
)


@dataclass(frozen=True, slots=True)
class NewOutboxItem:
    """A message to queue for one chat."""

    channel: str
    chat_id: str
    account_id: int | None
    kind: str
    message: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Audience:
    """Who among a subtree's members: everyone, or by their registration or initiatives in a campaign."""

    name: str  # everyone, registered, unregistered, no_initiative, not_assessed
    campaign_id: int | None = None


def _audience_filter(audience: Audience) -> sa.ColumnElement[bool]:
    registered = sa.exists().where(
        registrations.c.member_id == members.c.id,
        registrations.c.campaign_id == audience.campaign_id,
        registrations.c.status == "active",
    )
    submitted = sa.exists().where(
        initiatives.c.author_member_id == members.c.id,
        initiatives.c.campaign_id == audience.campaign_id,
        initiatives.c.status.not_in(("draft", "withdrawn")),
    )
    assessed = sa.exists().where(
        self_assessments.c.registration_id == registrations.c.id,
        registrations.c.member_id == members.c.id,
        self_assessments.c.campaign_id == audience.campaign_id,
        self_assessments.c.status == "submitted",
    )
    collective, holder = registrations.alias("collective"), channel_accounts.alias("holder")
    # An officer of a collective still to self-assess gets a reminder of their own, which names their own
    # registration too (EvaluationRepo.officers_of_unassessed_collectives): never a second one here, also
    # where the role is held by another of their accounts than the one reached here (`grant --user`).
    leads_unassessed = sa.exists().where(
        collective.c.campaign_id == audience.campaign_id,
        collective.c.status == "active",
        officer_roles.c.unit_id == collective.c.unit_id,
        holder.c.member_id == members.c.id,
        holder.c.reachable.is_(True),
        holds_role(holder),
        ~sent_assessment(collective.c.id),
    )
    return {
        "everyone": sa.true(),
        "registered": registered,
        "unregistered": ~registered,
        "no_initiative": ~submitted,
        # still to send the evaluation's self-assessment
        "not_assessed": sa.and_(registered, ~assessed, ~leads_unassessed),
    }[audience.name]


def _waiting_before(now: datetime, holder: str) -> sa.ColumnElement[bool]:
    """An older message to the same chat is still waiting (a retry, quiet hours) or being sent: keep the
    chat's order."""
    older = outbox.alias("older")
    return sa.exists().where(
        older.c.channel == outbox.c.channel,
        older.c.chat_id == outbox.c.chat_id,
        older.c.status == "pending",
        older.c.id < outbox.c.id,
        sa.or_(older.c.not_before > now, older.c.claimed_by == holder, older.c.claimed_until >= now),
    )


def _claimable(now: datetime, holder: str) -> sa.ColumnElement[bool]:
    """Nobody sends the row: never claimed, released, or its holder stopped renewing the claim.

    Our own claims count as held whatever the clock says: the row is in our hands right now.
    """
    return sa.or_(
        outbox.c.claimed_by.is_(None),
        sa.and_(outbox.c.claimed_until < now, outbox.c.claimed_by != holder),
    )


# Run at each group commit of the outbox: built once.
_MARK_SENT = Prepared(
    outbox.update()
    .where(outbox.c.id.in_(sa.bindparam("ids", expanding=True)))
    .values(
        status="sent",
        sent_at=sa.bindparam("now", type_=outbox.c.sent_at.type),
        error=None,
        attempts=outbox.c.attempts + 1,
        claimed_by=None,
        claimed_until=None,
    )
)


class OutboxRepo:
    """Reads and writes ``outbox``."""

    def __init__(self, conn: Executor) -> None:
        self.conn = conn
        self.queued = False  # this transaction queued rows: the worker has news once it commits

    async def enqueue(
        self, items: Sequence[NewOutboxItem], now: datetime, broadcast_id: int | None = None
    ) -> None:
        """Queue messages to be sent as soon as the worker can, as part of a broadcast if one is given."""
        if not items:
            return
        self.queued = True
        await self.conn.execute(
            outbox.insert(),
            [
                {
                    "channel": item.channel,
                    "chat_id": item.chat_id,
                    "account_id": item.account_id,
                    "kind": item.kind,
                    "broadcast_id": broadcast_id,
                    "message": item.message,
                    "status": "pending",
                    "attempts": 0,
                    "not_before": now,
                    "created_at": now,
                }
                for item in items
            ],
        )

    async def enqueue_for_subtree(
        self,
        *,
        path: str,
        kind: str,
        broadcast_id: int | None,
        messages: dict[str, dict[str, Any]],
        default_language: str,
        now: datetime,
        audience: Audience | None = None,
        skip_opted_out: bool = False,
    ) -> int:
        """Queue one row per member of the subtree, to the account they are reached on, in its language,
        optionally only for an audience of a campaign and only for those who did not switch reminders off.

        One INSERT ... SELECT per language, so a launch to 100,000 members never loads them into Python.
        """
        self.queued = True
        queued = 0
        language = sa.func.coalesce(channel_accounts.c.language, default_language)
        filters = [units.c.path.startswith(path), channel_accounts.c.id == delivery_account_id(members.c.id)]
        if skip_opted_out:
            filters.append(channel_accounts.c.reminders_off.is_(False))
        if audience is not None:
            filters.append(_audience_filter(audience))
        for lang, message in messages.items():
            recipients = (
                sa.select(
                    channel_accounts.c.channel,
                    channel_accounts.c.chat_id,
                    channel_accounts.c.id,
                    sa.literal(kind),
                    sa.literal(broadcast_id),
                    sa.literal(message, sa.JSON),
                    sa.literal("pending"),
                    sa.literal(0),
                    sa.literal(now, outbox.c.not_before.type),
                    sa.literal(now, outbox.c.created_at.type),
                )
                .join(members, members.c.id == channel_accounts.c.member_id)
                .join(units, units.c.id == members.c.unit_id)
                .where(*filters, language == lang)
            )
            result = await self.conn.execute(
                outbox.insert().from_select(
                    [
                        "channel",
                        "chat_id",
                        "account_id",
                        "kind",
                        "broadcast_id",
                        "message",
                        "status",
                        "attempts",
                        "not_before",
                        "created_at",
                    ],
                    recipients,
                )
            )
            queued += result.rowcount
        return queued

    async def quiet_windows(self, broadcast_id: int) -> list[tuple[int, int, int]]:
        """(quiet start, quiet end, how many) of the accounts a broadcast's rows go to, by window: a few
        rows however large the broadcast."""
        query = (
            sa.select(channel_accounts.c.quiet_start, channel_accounts.c.quiet_end, sa.func.count())
            .select_from(outbox)
            .join(channel_accounts, channel_accounts.c.id == outbox.c.account_id)
            .where(outbox.c.broadcast_id == broadcast_id)
            .group_by(channel_accounts.c.quiet_start, channel_accounts.c.quiet_end)
        )
        return [(start, end, count) for start, end, count in await self.conn.execute(query)]

    async def pending_count(self) -> int:
        """Messages not yet sent nor given up: the outbox's depth."""
        query = sa.select(sa.func.count()).select_from(outbox).where(outbox.c.status == "pending")
        return int((await self.conn.execute(query)).scalar_one())

    async def count_recipients(self, *, path: str, audience: Audience | None, skip_opted_out: bool) -> int:
        """How many accounts ``enqueue_for_subtree`` would queue with these filters."""
        filters = [units.c.path.startswith(path), channel_accounts.c.id == delivery_account_id(members.c.id)]
        if skip_opted_out:
            filters.append(channel_accounts.c.reminders_off.is_(False))
        if audience is not None:
            filters.append(_audience_filter(audience))
        query = (
            sa.select(sa.func.count())
            .select_from(channel_accounts)
            .join(members, members.c.id == channel_accounts.c.member_id)
            .join(units, units.c.id == members.c.unit_id)
            .where(*filters)
        )
        return int((await self.conn.execute(query)).scalar_one())

    async def claim_due(self, now: datetime, holder: str, until: datetime, limit: int) -> list[OutboxItem]:
        """Claim up to ``limit`` due, unclaimed messages for ``holder`` until ``until``, oldest first.

        The select and the claim are one transaction: on PostgreSQL the rows are locked with
        ``FOR UPDATE SKIP LOCKED``, so two instances never claim one row; SQLite's transactions already
        hold the single write lock from BEGIN IMMEDIATE.
        """
        query = (
            sa.select(
                outbox.c.id,
                outbox.c.channel,
                outbox.c.chat_id,
                outbox.c.account_id,
                outbox.c.kind,
                outbox.c.message,
                outbox.c.attempts,
                outbox.c.broadcast_id,
                channel_accounts.c.quiet_start,
                channel_accounts.c.quiet_end,
                outbox.c.failing_since,
            )
            .outerjoin(channel_accounts, channel_accounts.c.id == outbox.c.account_id)
            .where(
                outbox.c.status == "pending",
                outbox.c.not_before <= now,
                _claimable(now, holder),
                ~_waiting_before(now, holder),
            )
            .order_by(outbox.c.not_before, outbox.c.id)
            .limit(limit)
        )
        if self.conn.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True, of=outbox)
        items = [
            OutboxItem(
                r[0],
                r[1],
                r[2],
                r[3],
                r[4],
                dict(r[5]),
                r[6],
                r[7],
                (r[8], r[9]) if r[8] is not None else None,
                r[10],
            )
            for r in await self.conn.execute(query)
        ]
        if items:
            await self.conn.execute(
                outbox.update()
                .where(outbox.c.id.in_([item.id for item in items]))
                .values(claimed_by=holder, claimed_until=until)
            )
        return items

    async def renew_claims(self, holder: str, until: datetime) -> int:
        """Extend every claim ``holder`` still has on a pending message; returns how many."""
        result = await self.conn.execute(
            outbox.update()
            .where(outbox.c.claimed_by == holder, outbox.c.status == "pending")
            .values(claimed_until=until)
        )
        return result.rowcount

    async def release(self, holder: str, item_ids: Sequence[int] | None = None) -> None:
        """Give up ``holder``'s claims (on these messages, or all of them) so anyone may send them."""
        query = outbox.update().where(outbox.c.claimed_by == holder)
        if item_ids is not None:
            query = query.where(outbox.c.id.in_(list(item_ids)))
        await self.conn.execute(query.values(claimed_by=None, claimed_until=None))

    async def defer(self, item_id: int, not_before: datetime) -> None:
        """Hold a message until later without counting an attempt (quiet hours); nobody holds it meanwhile."""
        await self.conn.execute(
            outbox.update()
            .where(outbox.c.id == item_id)
            .values(not_before=not_before, claimed_by=None, claimed_until=None)
        )

    async def next_due_at(self, now: datetime, holder: str) -> datetime | None:
        """When ``holder`` could next claim a message: the earliest moment a pending message that is first
        in its chat's line is due and free (another holder's claim lapsed), if there is one."""
        older = outbox.alias("older")
        first_in_line = ~sa.exists().where(
            older.c.channel == outbox.c.channel,
            older.c.chat_id == outbox.c.chat_id,
            older.c.status == "pending",
            older.c.id < outbox.c.id,
        )
        free_at = sa.case(
            (
                sa.and_(outbox.c.claimed_by.is_not(None), outbox.c.claimed_until > outbox.c.not_before),
                outbox.c.claimed_until,
            ),
            else_=outbox.c.not_before,
        )
        query = sa.select(sa.type_coerce(sa.func.min(free_at), UTCDateTime())).where(
            outbox.c.status == "pending",
            sa.or_(outbox.c.claimed_by.is_(None), outbox.c.claimed_by != holder),
            first_in_line,
        )
        found: datetime | None = (await self.conn.execute(query)).scalar_one_or_none()
        return found

    async def finish(self, item_id: int, status: str, now: datetime, error: str | None = None) -> None:
        """Close a message as sent, uncertain, unreachable or failed, and release its claim."""
        await self.conn.execute(
            outbox.update()
            .where(outbox.c.id == item_id)
            .values(
                status=status,
                sent_at=now if status == "sent" else None,
                error=error,
                attempts=outbox.c.attempts + 1,
                claimed_by=None,
                claimed_until=None,
            )
        )

    async def mark_sent(self, item_ids: Sequence[int], now: datetime) -> None:
        """Close many messages as sent in one statement, releasing their claims."""
        if item_ids:
            await run(self.conn, _MARK_SENT, {"ids": list(item_ids), "now": now})

    async def retry_later(
        self,
        item_id: int,
        not_before: datetime,
        error: str,
        *,
        failing_since: datetime | None,
    ) -> None:
        """Put the message back for later and release it. A network failure counts an attempt and keeps
        ``failing_since``, the start of the outage; a 429 (``failing_since`` None) only waits."""
        values: dict[str, Any] = {
            "not_before": not_before,
            "error": error,
            "claimed_by": None,
            "claimed_until": None,
        }
        if failing_since is not None:
            values["attempts"] = outbox.c.attempts + 1
            values["failing_since"] = sa.func.coalesce(outbox.c.failing_since, failing_since)
        await self.conn.execute(outbox.update().where(outbox.c.id == item_id).values(**values))

    async def statuses(self, chat_id: str | None = None) -> list[tuple[str, str, str]]:
        """(chat_id, kind, status) of every row, optionally for one chat: for reports and tests."""
        query = sa.select(outbox.c.chat_id, outbox.c.kind, outbox.c.status).order_by(outbox.c.id)
        if chat_id is not None:
            query = query.where(outbox.c.chat_id == chat_id)
        return [(c, k, s) for c, k, s in await self.conn.execute(query)]
