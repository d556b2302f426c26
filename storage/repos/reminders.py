"""Reminder rules and their planned sendings; the database is the truth the scheduler's clock wakes up to."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from storage.loop_connection import Executor
from storage.records import ReminderRule, Sending
from storage.tables import reminder_rules as rules
from storage.tables import reminder_sendings as sendings
from storage.tables import units

_RULE = (
    rules.c.id,
    rules.c.kind,
    rules.c.campaign_id,
    rules.c.unit_id,
    rules.c.audience,
    rules.c.calendar_key,
    rules.c.text,
    rules.c.owner_account_id,
    rules.c.status,
    rules.c.sender_unit_id,
)
_SENDING = (sendings.c.id, sendings.c.due_at, sendings.c.status)


def _rule(row: Sequence[Any]) -> ReminderRule:
    return ReminderRule(*row)


def _sending(row: Sequence[Any]) -> Sending:
    return Sending(row[0], _rule(row[3:]), row[1], row[2])


class ReminderRepo:
    """Reads and writes ``reminder_rules`` and ``reminder_sendings``."""

    def __init__(self, conn: Executor) -> None:
        self.conn = conn
        # Set when this transaction planned or cancelled sendings: the scheduler is woken after the commit.
        self.plans_changed = False

    async def create_rule(
        self,
        *,
        kind: str,
        unit_id: int,
        audience: str,
        campaign_id: int | None = None,
        calendar_key: str | None = None,
        text: str | None = None,
        owner_account_id: int | None = None,
        sender_unit_id: int | None = None,
        now: datetime,
    ) -> int:
        """Store an active rule; returns its id."""
        result = await self.conn.execute(
            rules.insert().values(
                kind=kind,
                unit_id=unit_id,
                audience=audience,
                campaign_id=campaign_id,
                calendar_key=calendar_key,
                text=text,
                owner_account_id=owner_account_id,
                sender_unit_id=sender_unit_id,
                status="active",
                created_at=now,
            )
        )
        assert result.inserted_primary_key is not None
        return int(result.inserted_primary_key[0])

    async def plan(self, rule_id: int, due_ats: Sequence[datetime]) -> None:
        """Plan the rule's sendings at these moments."""
        if due_ats:
            await self.conn.execute(
                sendings.insert(),
                [{"rule_id": rule_id, "due_at": due, "status": "planned"} for due in due_ats],
            )
            self.plans_changed = True

    def _select(self) -> sa.Select[Any]:
        return sa.select(*_SENDING, *_RULE).join(rules, rules.c.id == sendings.c.rule_id)

    async def due(self, now: datetime) -> list[Sending]:
        """Planned sendings whose time has come, oldest first."""
        rows = await self.conn.execute(
            self._select()
            .where(sendings.c.status == "planned", sendings.c.due_at <= now)
            .order_by(sendings.c.due_at, sendings.c.id)
        )
        return [_sending(row) for row in rows]

    async def planned(
        self, *, after: datetime | None = None, paths: Sequence[str] | None = None
    ) -> list[Sending]:
        """Planned sendings (after a moment, within subtrees), soonest first."""
        query = self._select().where(sendings.c.status == "planned")
        if after is not None:
            query = query.where(sendings.c.due_at > after)
        if paths is not None:
            if not paths:
                return []
            query = query.join(units, units.c.id == rules.c.unit_id).where(
                sa.or_(*(units.c.path.startswith(path) for path in paths))
            )
        rows = await self.conn.execute(query.order_by(sendings.c.due_at, sendings.c.id))
        return [_sending(row) for row in rows]

    async def get(self, sending_id: int) -> Sending | None:
        """The sending with this id, if any."""
        row = (await self.conn.execute(self._select().where(sendings.c.id == sending_id))).first()
        return _sending(row) if row else None

    async def settle(self, sending_id: int, status: str, now: datetime) -> bool:
        """Move a planned sending to sent, missed or cancelled; False if it was no longer planned (so a
        second instance, or a second tick, never sends it twice)."""
        result = await self.conn.execute(
            sendings.update()
            .where(sendings.c.id == sending_id, sendings.c.status == "planned")
            .values(status=status, processed_at=now)
        )
        return result.rowcount == 1

    async def link_broadcast(self, sending_id: int, broadcast_id: int) -> None:
        """Remember which broadcast carried a sending, for its progress."""
        await self.conn.execute(
            sendings.update().where(sendings.c.id == sending_id).values(broadcast_id=broadcast_id)
        )

    async def cancel_rule(self, rule_id: int, now: datetime) -> int:
        """Cancel a rule and its planned sendings; returns how many sendings were cancelled."""
        await self.conn.execute(rules.update().where(rules.c.id == rule_id).values(status="cancelled"))
        result = await self.conn.execute(
            sendings.update()
            .where(sendings.c.rule_id == rule_id, sendings.c.status == "planned")
            .values(status="cancelled", processed_at=now)
        )
        self.plans_changed = True
        return result.rowcount

    async def statuses(self, rule_id: int) -> list[tuple[datetime, str]]:
        """(due_at, status) of every sending of a rule, for reports and tests."""
        rows = await self.conn.execute(
            sa.select(sendings.c.due_at, sendings.c.status)
            .where(sendings.c.rule_id == rule_id)
            .order_by(sendings.c.due_at)
        )
        return [(due, status) for due, status in rows]

    async def active_rule(self, kind: str, unit_id: int, calendar_key: str) -> ReminderRule | None:
        """The unit's active rule of this kind for a calendar event, if switched on."""
        row = (
            await self.conn.execute(
                sa.select(*_RULE).where(
                    rules.c.kind == kind,
                    rules.c.unit_id == unit_id,
                    rules.c.calendar_key == calendar_key,
                    rules.c.status == "active",
                )
            )
        ).first()
        return _rule(row) if row else None

    async def switched_on(self, kind: str, unit_id: int) -> set[str]:
        """The calendar events for which the unit has an active rule of this kind, by key."""
        rows = await self.conn.execute(
            sa.select(rules.c.calendar_key).where(
                rules.c.kind == kind,
                rules.c.unit_id == unit_id,
                rules.c.calendar_key.is_not(None),
                rules.c.status == "active",
            )
        )
        return {key for (key,) in rows}

    async def active_rules(self, kind: str) -> list[ReminderRule]:
        """Every active rule of a kind."""
        rows = await self.conn.execute(
            sa.select(*_RULE).where(rules.c.kind == kind, rules.c.status == "active")
        )
        return [_rule(row) for row in rows]

    async def last_due(self, rule_ids: Sequence[int]) -> dict[int, datetime]:
        """The latest moment a sending of each rule was planned for, by rule id (those with none left out)."""
        if not rule_ids:
            return {}
        latest = sa.func.max(sendings.c.due_at)
        query = (
            sa.select(sendings.c.rule_id, sa.type_coerce(latest, sendings.c.due_at.type))
            .where(sendings.c.rule_id.in_(set(rule_ids)))
            .group_by(sendings.c.rule_id)
        )
        return {rule_id: due for rule_id, due in await self.conn.execute(query)}

    async def set_text(self, rule_id: int, text: str | None) -> None:
        """Replace a rule's own words (None: the catalog's text)."""
        await self.conn.execute(rules.update().where(rules.c.id == rule_id).values(text=text))
