"""The roster: members by code, by phone and by unit.

Adding a member or moving one to another unit also moves the per-unit counters (storage/repos/counters.py):
roster, linked, and registered for each campaign the member holds an active registration for.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from storage.loop_connection import Executor
from storage.records import Member, Unit
from storage.repos.counters import bump, subtree_sum, sums_by_child
from storage.repos.units import UNIT_COLUMNS
from storage.tables import (
    channel_accounts,
    members,
    registration_counts,
    registrations,
    unit_counts,
    units,
)

MEMBER_COLUMNS = (
    members.c.id,
    members.c.code,
    members.c.full_name,
    members.c.phone,
    members.c.email,
    members.c.unit_id,
)

_CHUNK = 500  # ids per IN list: well under every driver's limit on bound parameters


def _chunks(ids: Sequence[int]) -> list[Sequence[int]]:
    return [ids[start : start + _CHUNK] for start in range(0, len(ids), _CHUNK)]


class MemberRepo:
    """Reads and writes ``members``."""

    def __init__(self, conn: Executor) -> None:
        self.conn = conn

    async def get(self, member_id: int) -> Member | None:
        """The member with this id, if any."""
        row = (await self.conn.execute(sa.select(*MEMBER_COLUMNS).where(members.c.id == member_id))).first()
        return Member(*row) if row else None

    async def with_unit(self, member_id: int) -> tuple[Member, Unit] | None:
        """The member with this id and their unit, in one SELECT."""
        query = sa.select(*MEMBER_COLUMNS, *UNIT_COLUMNS).join(units, units.c.id == members.c.unit_id)
        row = (await self.conn.execute(query.where(members.c.id == member_id))).first()
        if row is None:
            return None
        return Member(*row[: len(MEMBER_COLUMNS)]), Unit(*row[len(MEMBER_COLUMNS) :])

    async def by_code(self, code: str) -> Member | None:
        """The member with this roster code, if any."""
        row = (await self.conn.execute(sa.select(*MEMBER_COLUMNS).where(members.c.code == code))).first()
        return Member(*row) if row else None

    async def by_phone(self, phone: str) -> list[Member]:
        """Every member with this E.164 phone number (normally one)."""
        rows = await self.conn.execute(
            sa.select(*MEMBER_COLUMNS).where(members.c.phone == phone).order_by(members.c.id)
        )
        return [Member(*row) for row in rows]

    async def ids_by_code(self) -> dict[str, int]:
        """Every member's id by code, for imports."""
        rows = await self.conn.execute(sa.select(members.c.code, members.c.id))
        return {code: member_id for code, member_id in rows}

    async def all_by_code(self) -> dict[str, Member]:
        """Every member by code, for imports."""
        rows = await self.conn.execute(sa.select(*MEMBER_COLUMNS))
        return {row.code: Member(*row) for row in rows}

    async def count(self) -> int:
        """How many members the roster holds."""
        return int((await self.conn.execute(sa.select(sa.func.count()).select_from(members))).scalar_one())

    async def insert(
        self,
        *,
        code: str,
        full_name: str,
        phone: str | None,
        email: str | None,
        unit_id: int,
        source: str,
        now: datetime,
    ) -> int:
        """Add a member; returns the id."""
        result = await self.conn.execute(
            members.insert().values(
                code=code,
                full_name=full_name,
                phone=phone,
                email=email,
                unit_id=unit_id,
                source=source,
                created_at=now,
                updated_at=now,
            )
        )
        assert result.inserted_primary_key is not None
        await bump(self.conn, unit_counts, {(unit_id,): {"roster": 1}})
        return int(result.inserted_primary_key[0])

    async def _move_counts(self, new_units: Mapping[int, int]) -> None:
        """Before members change unit (``new_units``: member id to the unit they go to), carry what the
        counters hold for them from the unit they leave to the new one."""
        moved: dict[int, tuple[int, int]] = {}
        for chunk in _chunks(list(new_units)):
            query = sa.select(members.c.id, members.c.unit_id).where(members.c.id.in_(chunk))
            for member_id, old in await self.conn.execute(query):
                if old != new_units[member_id]:
                    moved[member_id] = (old, new_units[member_id])
        if not moved:
            return
        per_unit: dict[tuple[int], Counter[str]] = {}
        registered: dict[tuple[int, int], Counter[str]] = {}

        def move(
            counters: dict[Any, Counter[str]], old: tuple[int, ...], new: tuple[int, ...], name: str
        ) -> None:
            counters.setdefault(old, Counter())[name] -= 1
            counters.setdefault(new, Counter())[name] += 1

        for old, new in moved.values():
            move(per_unit, (old,), (new,), "roster")
        for chunk in _chunks(list(moved)):
            accounts = sa.select(channel_accounts.c.member_id).where(channel_accounts.c.member_id.in_(chunk))
            for (member_id,) in await self.conn.execute(accounts.distinct()):
                old, new = moved[member_id]
                move(per_unit, (old,), (new,), "linked")
            active = sa.select(registrations.c.member_id, registrations.c.campaign_id).where(
                registrations.c.member_id.in_(chunk), registrations.c.status == "active"
            )
            for member_id, campaign_id in await self.conn.execute(active):
                old, new = moved[member_id]
                move(registered, (campaign_id, old), (campaign_id, new), "registered")
        await bump(self.conn, unit_counts, per_unit)
        await bump(self.conn, registration_counts, registered)

    async def update(
        self,
        member_id: int,
        *,
        full_name: str,
        phone: str | None,
        email: str | None,
        unit_id: int,
        now: datetime,
    ) -> None:
        """Overwrite a member's roster details."""
        await self._move_counts({member_id: unit_id})
        await self.conn.execute(
            members.update()
            .where(members.c.id == member_id)
            .values(full_name=full_name, phone=phone, email=email, unit_id=unit_id, updated_at=now)
        )

    async def insert_many(
        self, rows: Sequence[tuple[str, str, str | None, str | None, int]], *, source: str, now: datetime
    ) -> None:
        """Add members given as (code, full_name, phone, email, unit_id) in one statement."""
        if not rows:
            return
        added = Counter(row[4] for row in rows)
        await bump(self.conn, unit_counts, {(unit_id,): {"roster": n} for unit_id, n in added.items()})
        await self.conn.execute(
            members.insert(),
            [
                {
                    "code": code,
                    "full_name": full_name,
                    "phone": phone,
                    "email": email,
                    "unit_id": unit_id,
                    "source": source,
                    "created_at": now,
                    "updated_at": now,
                }
                for code, full_name, phone, email, unit_id in rows
            ],
        )

    async def update_many(self, changed: Sequence[Member], now: datetime) -> None:
        """Overwrite the roster details of many members (matched by id) in one statement."""
        if not changed:
            return
        await self._move_counts({member.id: member.unit_id for member in changed})
        statement = (
            members.update()
            .where(members.c.id == sa.bindparam("b_id"))
            .values(
                full_name=sa.bindparam("b_full_name"),
                phone=sa.bindparam("b_phone"),
                email=sa.bindparam("b_email"),
                unit_id=sa.bindparam("b_unit_id"),
                updated_at=now,
            )
        )
        await self.conn.execute(
            statement,
            [
                {
                    "b_id": member.id,
                    "b_full_name": member.full_name,
                    "b_phone": member.phone,
                    "b_email": member.email,
                    "b_unit_id": member.unit_id,
                }
                for member in changed
            ],
        )

    async def next_code(self, prefix: str) -> str:
        """A fresh code with this prefix for a member added from a join request, e.g. "JR000042"."""
        count = (
            await self.conn.execute(
                sa.select(sa.func.count()).select_from(members).where(members.c.code.like(prefix + "%"))
            )
        ).scalar_one()
        number = int(count) + 1
        while await self.by_code(f"{prefix}{number:06d}") is not None:
            number += 1
        return f"{prefix}{number:06d}"

    async def within(self, path: str) -> list[tuple[Member, str, str]]:
        """Every member of the subtree with this path, with their unit's code and name, by unit then name."""
        rows = await self.conn.execute(
            sa.select(*MEMBER_COLUMNS, units.c.code, units.c.name)
            .join(units, units.c.id == members.c.unit_id)
            .where(units.c.path.startswith(path))
            .order_by(units.c.path, members.c.full_name, members.c.code)
        )
        return [(Member(*row[:-2]), row[-2], row[-1]) for row in rows]

    async def preferred_channel(self, member_id: int) -> str | None:
        """The channel the member chose to be reached on, or None for the one they used last."""
        query = sa.select(members.c.preferred_channel).where(members.c.id == member_id)
        return (await self.conn.execute(query)).scalar_one_or_none()

    async def set_preferred_channel(self, member_id: int, channel: str | None) -> None:
        """Reach the member on ``channel`` from now on (None: on the one they used last)."""
        await self.conn.execute(
            members.update().where(members.c.id == member_id).values(preferred_channel=channel)
        )

    async def count_by_child(self, parent_id: int) -> dict[int, int]:
        """How many members the subtree of each unit directly below ``parent_id`` holds, by child id (from
        the counters; a child with no members may be missing)."""
        per_unit = sa.select(units.c.path, unit_counts.c.roster).select_from(
            units.outerjoin(unit_counts, unit_counts.c.unit_id == units.c.id)
        )
        return {
            child: roster
            for child, (roster,) in (await sums_by_child(self.conn, parent_id, per_unit)).items()
        }

    async def count_linked_within(self, path: str) -> int:
        """How many members of the subtree have linked at least one chat account (from the counters)."""
        query = sa.select(subtree_sum(unit_counts, unit_counts.c.linked, path))
        return int((await self.conn.execute(query)).scalar_one())
