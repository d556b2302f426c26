"""The per-unit counters as stored, and the same figures counted afresh from the rows in Python, to compare.

The full count here is written independently of storage/repos/counters.py (no SQL grouping, no shared
helpers), so a mistake there does not hide itself.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from storage.database import Store
from storage.tables import (
    INITIATIVE_STATUSES,
    channel_accounts,
    initiative_counts,
    initiatives,
    members,
    registration_counts,
    registrations,
    submission_hours,
    unit_counts,
    units,
)


@dataclass(frozen=True)
class Figures:
    """Every counter's non-zero figures, by key."""

    roster: dict[int, int]
    linked: dict[int, int]
    registered: dict[tuple[int, int], int]
    initiatives: dict[tuple[int, int, str], int]
    submissions: dict[tuple[int, int, datetime], int]


def _nonzero(counter: Counter[Any]) -> dict[Any, int]:
    return {key: n for key, n in counter.items() if n}


async def stored(store: Store) -> Figures:
    """What the counter tables hold."""
    async with store.engine.connect() as conn:
        per_unit = (await conn.execute(sa.select(unit_counts))).all()
        registered = (await conn.execute(sa.select(registration_counts))).all()
        by_status = (await conn.execute(sa.select(initiative_counts))).mappings().all()
        hours = (await conn.execute(sa.select(submission_hours))).all()
    statuses: Counter[tuple[int, int, str]] = Counter()
    for row in by_status:
        for status in INITIATIVE_STATUSES:
            statuses[(row["campaign_id"], row["unit_id"], status)] += row[status]
    return Figures(
        roster=_nonzero(Counter({unit_id: roster for unit_id, roster, _ in per_unit})),
        linked=_nonzero(Counter({unit_id: linked for unit_id, _, linked in per_unit})),
        registered=_nonzero(Counter({(c, u): n for c, u, n in registered})),
        initiatives=_nonzero(statuses),
        submissions=_nonzero(Counter({(c, u, hour): n for c, u, hour, n in hours})),
    )


async def counted(store: Store) -> Figures:
    """The same figures counted from the members, accounts, registrations and initiatives."""
    async with store.engine.connect() as conn:
        paths = dict((await conn.execute(sa.select(units.c.id, units.c.path))).all())
        unit_of = dict((await conn.execute(sa.select(members.c.id, members.c.unit_id))).all())
        accounts = (await conn.execute(sa.select(channel_accounts.c.member_id))).scalars().all()
        held = (
            await conn.execute(
                sa.select(registrations.c.campaign_id, registrations.c.member_id, registrations.c.status)
            )
        ).all()
        made = (
            await conn.execute(
                sa.select(
                    initiatives.c.campaign_id,
                    initiatives.c.unit_id,
                    initiatives.c.status,
                    initiatives.c.submitted_at,
                )
            )
        ).all()
    linked_members = {member_id for member_id in accounts if member_id is not None}
    submissions: Counter[tuple[int, int, datetime]] = Counter()
    for campaign_id, unit_id, status, submitted_at in made:
        if campaign_id is None or submitted_at is None or status in ("draft", "withdrawn"):
            continue
        hour = submitted_at.replace(minute=0, second=0, microsecond=0)
        for above in paths[unit_id].strip("/").split("/"):
            submissions[(campaign_id, int(above), hour)] += 1
    return Figures(
        roster=_nonzero(Counter(unit_of.values())),
        linked=_nonzero(Counter(unit_of[member_id] for member_id in linked_members)),
        registered=_nonzero(
            Counter(
                (campaign_id, unit_of[member_id])
                for campaign_id, member_id, status in held
                if member_id is not None and status == "active"
            )
        ),
        initiatives=_nonzero(Counter((c, u, status) for c, u, status, _ in made if c is not None)),
        submissions=_nonzero(submissions),
    )
