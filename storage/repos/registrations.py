"""Registrations (đăng ký thi đua) of members and of collectives, and their counts within a subtree.

A member's registration becoming active or withdrawn moves the counter of their unit for the campaign
(``registration_counts``, storage/repos/counters.py) in the same transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from storage.loop_connection import Executor
from storage.prepared import Prepared, fetch
from storage.records import Pledge, Registration
from storage.repos.counters import bump
from storage.tables import members, registration_counts, registrations, units

COLUMNS = (  # what a Registration is built from (``registration_from_row``)
    registrations.c.id,
    registrations.c.campaign_id,
    registrations.c.member_id,
    registrations.c.unit_id,
    registrations.c.titles,
    registrations.c.pledges,
    registrations.c.initiative_title,
    registrations.c.status,
    registrations.c.updated_at,
)


def registration_from_row(row: Sequence[Any]) -> Registration:
    """A registration from a row of ``COLUMNS`` (first nine values)."""
    pledges = tuple(Pledge(**pledge) for pledge in row[5])
    return Registration(row[0], row[1], row[2], row[3], tuple(row[4]), pledges, row[6], row[7], row[8])


# Asked on every member's /campaigns: built once (see storage/repos/accounts.py's _IDENTITY).
_OF_MEMBER_IN = Prepared(
    sa.select(*COLUMNS).where(
        registrations.c.campaign_id.in_(sa.bindparam("campaign_ids", expanding=True)),
        registrations.c.member_id == sa.bindparam("member_id"),
    )
)


class RegistrationRepo:
    """Reads and writes ``registrations``."""

    def __init__(self, conn: Executor) -> None:
        self.conn = conn

    async def get(self, registration_id: int) -> Registration | None:
        """The registration with this id, if any."""
        row = (
            await self.conn.execute(sa.select(*COLUMNS).where(registrations.c.id == registration_id))
        ).first()
        return registration_from_row(row) if row else None

    async def of_member(self, campaign_id: int, member_id: int) -> Registration | None:
        """The member's registration for the campaign, active or withdrawn."""
        query = sa.select(*COLUMNS).where(
            registrations.c.campaign_id == campaign_id, registrations.c.member_id == member_id
        )
        row = (await self.conn.execute(query)).first()
        return registration_from_row(row) if row else None

    async def of_member_in(self, campaign_ids: Sequence[int], member_id: int) -> dict[int, Registration]:
        """The member's registrations for any of these campaigns, active or withdrawn, by campaign id."""
        if not campaign_ids:
            return {}
        key = {"campaign_ids": list(campaign_ids), "member_id": member_id}
        rows = await fetch(self.conn, _OF_MEMBER_IN, key)
        found = [registration_from_row(row) for row in rows]
        return {registration.campaign_id: registration for registration in found}

    async def of_unit(self, campaign_id: int, unit_id: int) -> Registration | None:
        """The collective registration of a unit for the campaign, active or withdrawn."""
        query = sa.select(*COLUMNS).where(
            registrations.c.campaign_id == campaign_id, registrations.c.unit_id == unit_id
        )
        row = (await self.conn.execute(query)).first()
        return registration_from_row(row) if row else None

    async def all_of_member(self, member_id: int) -> list[Registration]:
        """Every registration of the member, newest first."""
        rows = await self.conn.execute(
            sa.select(*COLUMNS)
            .where(registrations.c.member_id == member_id)
            .order_by(registrations.c.updated_at.desc())
        )
        return [registration_from_row(row) for row in rows]

    async def collective_within(self, campaign_id: int, paths: Sequence[str]) -> list[Registration]:
        """Active collective registrations of units inside these subtrees."""
        if not paths:
            return []
        rows = await self.conn.execute(
            sa.select(*COLUMNS)
            .join(units, units.c.id == registrations.c.unit_id)
            .where(
                registrations.c.campaign_id == campaign_id,
                registrations.c.status == "active",
                sa.or_(*(units.c.path.startswith(path) for path in paths)),
            )
            .order_by(units.c.path)
        )
        return [registration_from_row(row) for row in rows]

    async def members_within(
        self, campaign_id: int, paths: Sequence[str], limit: int
    ) -> list[tuple[int, str, str]]:
        """(member id, full name, unit name) of members inside these subtrees with an active registration for
        the campaign, by unit and name, at most ``limit``."""
        if not paths:
            return []
        rows = await self.conn.execute(
            sa.select(members.c.id, members.c.full_name, units.c.name)
            .join(members, members.c.id == registrations.c.member_id)
            .join(units, units.c.id == members.c.unit_id)
            .where(
                registrations.c.campaign_id == campaign_id,
                registrations.c.status == "active",
                sa.or_(*(units.c.path.startswith(path) for path in paths)),
            )
            .order_by(units.c.path, members.c.full_name)
            .limit(limit)
        )
        return [(member_id, name, unit) for member_id, name, unit in rows]

    async def save(
        self,
        *,
        campaign_id: int,
        member_id: int | None,
        unit_id: int | None,
        titles: Sequence[str],
        pledges: Sequence[Pledge],
        initiative_title: str | None,
        registered_by: str,
        now: datetime,
    ) -> None:
        """Create or replace the registration (a withdrawn one becomes active again)."""
        values = {
            "titles": list(titles),
            "pledges": [asdict(pledge) for pledge in pledges],
            "initiative_title": initiative_title,
            "status": "active",
            "registered_by": registered_by,
            "updated_at": now,
        }
        if member_id is None:
            result = await self.conn.execute(
                registrations.update()
                .where(registrations.c.campaign_id == campaign_id, registrations.c.unit_id == unit_id)
                .values(**values)
            )
            if result.rowcount == 0:
                await self._insert(campaign_id, None, unit_id, now, values)
            return
        # The member's unit and their registration's status before, in one read: what the counter needs.
        before = (
            await self.conn.execute(
                sa.select(members.c.unit_id, registrations.c.status)
                .outerjoin(
                    registrations,
                    sa.and_(
                        registrations.c.member_id == members.c.id, registrations.c.campaign_id == campaign_id
                    ),
                )
                .where(members.c.id == member_id)
            )
        ).one()
        member_unit, status = before[0], before[1]
        if status is None:
            await self._insert(campaign_id, member_id, None, now, values)
        else:
            await self.conn.execute(
                registrations.update()
                .where(registrations.c.campaign_id == campaign_id, registrations.c.member_id == member_id)
                .values(**values)
            )
        if status != "active":
            await bump(self.conn, registration_counts, {(campaign_id, member_unit): {"registered": 1}})

    async def _insert(
        self,
        campaign_id: int,
        member_id: int | None,
        unit_id: int | None,
        now: datetime,
        values: dict[str, Any],
    ) -> None:
        await self.conn.execute(
            registrations.insert().values(
                campaign_id=campaign_id, member_id=member_id, unit_id=unit_id, created_at=now, **values
            )
        )

    async def withdraw(self, registration_id: int, now: datetime) -> bool:
        """Mark an active registration withdrawn; False if it was not active."""
        holder = (
            await self.conn.execute(
                sa.select(registrations.c.campaign_id, members.c.unit_id)
                .outerjoin(members, members.c.id == registrations.c.member_id)
                .where(registrations.c.id == registration_id)
            )
        ).first()
        result = await self.conn.execute(
            registrations.update()
            .where(registrations.c.id == registration_id, registrations.c.status == "active")
            .values(status="withdrawn", updated_at=now)
        )
        if result.rowcount != 1:
            return False
        assert holder is not None
        campaign_id, member_unit = holder
        if member_unit is not None:  # a collective registration is not counted
            await bump(self.conn, registration_counts, {(campaign_id, member_unit): {"registered": -1}})
        return True
