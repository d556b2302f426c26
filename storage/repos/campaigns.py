"""Campaigns: drafts, launched and closed, by code, by unit and within an officer's subtrees."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from storage.loop_connection import Executor
from storage.memo import Kept, Memo, generation
from storage.prepared import Prepared, fetch
from storage.records import Campaign
from storage.tables import campaign_targets, campaigns, units

_COLUMNS = (
    campaigns.c.id,
    campaigns.c.code,
    campaigns.c.title,
    campaigns.c.description,
    campaigns.c.kind,
    campaigns.c.unit_id,
    campaigns.c.starts_on,
    campaigns.c.ends_on,
    campaigns.c.registration_deadline,
    campaigns.c.initiative_deadline,
    campaigns.c.initiative_target,
    campaigns.c.individual_titles,
    campaigns.c.collective_titles,
    campaigns.c.status,
    campaigns.c.evaluation_opens_on,
)


def _campaign(row: Sequence[Any]) -> Campaign:
    values = list(row)
    values[11] = tuple(values[11])
    values[12] = tuple(values[12])
    return Campaign(*values)


# Asked on every member's /campaigns: built once (see storage/repos/accounts.py's _IDENTITY).
_LAUNCHED_FOR = Prepared(
    sa.select(*_COLUMNS)
    .where(
        campaigns.c.unit_id.in_(sa.bindparam("unit_ids", expanding=True)),
        campaigns.c.status == "launched",
    )
    .order_by(campaigns.c.registration_deadline, campaigns.c.id)
)


class CampaignRepo:
    """Reads and writes ``campaigns``."""

    def __init__(
        self, conn: Executor, memo: Memo | None = None, generation_at_start: int | None = None
    ) -> None:
        """``generation_at_start`` is the campaigns' generation as this transaction read it before any write
        (``DialogRepo.opening``): used instead of reading it again until this repository writes."""
        self.conn = conn
        self.memo = memo
        self._generation_at_start = generation_at_start

    async def get(self, campaign_id: int) -> Campaign | None:
        """The campaign with this id, if any."""
        row = (await self.conn.execute(sa.select(*_COLUMNS).where(campaigns.c.id == campaign_id))).first()
        return _campaign(row) if row else None

    async def many(self, campaign_ids: Sequence[int]) -> dict[int, Campaign]:
        """The campaigns with these ids, by id (those that exist)."""
        if not campaign_ids:
            return {}
        rows = await self.conn.execute(sa.select(*_COLUMNS).where(campaigns.c.id.in_(set(campaign_ids))))
        return {campaign.id: campaign for campaign in map(_campaign, rows)}

    async def by_code(self, code: str) -> Campaign | None:
        """The campaign with this code (codes are stored upper case), if any."""
        query = sa.select(*_COLUMNS).where(campaigns.c.code == code.upper())
        row = (await self.conn.execute(query)).first()
        return _campaign(row) if row else None

    async def insert(self, values: dict[str, Any], created_by: str, now: datetime) -> int:
        """Store a new draft; returns its id."""
        self._generation_at_start = None  # the write raises it
        result = await self.conn.execute(
            campaigns.insert().values(
                **values, status="draft", created_by=created_by, created_at=now, updated_at=now
            )
        )
        assert result.inserted_primary_key is not None
        return int(result.inserted_primary_key[0])

    async def update(self, campaign_id: int, values: dict[str, Any], now: datetime) -> None:
        """Change a campaign's fields."""
        self._generation_at_start = None  # the write raises it
        await self.conn.execute(
            campaigns.update().where(campaigns.c.id == campaign_id).values(**values, updated_at=now)
        )

    async def move(self, campaign_id: int, from_status: str, to_status: str, now: datetime) -> bool:
        """Change the status if it still is ``from_status``; False if someone changed it first."""
        self._generation_at_start = None  # the write raises it
        stamps = {"launched": {"launched_at": now}, "closed": {"closed_at": now}}.get(to_status, {})
        result = await self.conn.execute(
            campaigns.update()
            .where(campaigns.c.id == campaign_id, campaigns.c.status == from_status)
            .values(status=to_status, updated_at=now, **stamps)
        )
        return result.rowcount == 1

    async def launched_for(self, unit_ids: Sequence[int]) -> list[Campaign]:
        """Launched campaigns owned by any of these units (a member's unit and its ancestors); kept between
        updates while the campaigns' generation stands (storage/memo.py)."""
        if not unit_ids:
            return []
        current_generation = self._generation_at_start
        if current_generation is None and self.memo is not None:
            current_generation = await generation(self.conn, "campaigns")
        if self.memo is None or current_generation is None:
            return await self._launched_for(unit_ids)
        key = tuple(unit_ids)
        kept = self.memo.open_campaigns.get(key)
        if kept is None or kept.generation != current_generation:
            kept = Kept(current_generation, tuple(await self._launched_for(unit_ids)))
            self.memo.open_campaigns[key] = kept
        return list(kept.value)

    async def _launched_for(self, unit_ids: Sequence[int]) -> list[Campaign]:
        rows = await fetch(self.conn, _LAUNCHED_FOR, {"unit_ids": list(unit_ids)})
        return [_campaign(row) for row in rows]

    async def within(self, paths: Sequence[str], statuses: Sequence[str]) -> list[Campaign]:
        """Campaigns owned by a unit inside any of these subtrees, newest first."""
        if not paths:
            return []
        rows = await self.conn.execute(
            sa.select(*_COLUMNS)
            .join(units, units.c.id == campaigns.c.unit_id)
            .where(
                campaigns.c.status.in_(list(statuses)),
                sa.or_(*(units.c.path.startswith(path) for path in paths)),
            )
            .order_by(campaigns.c.created_at.desc(), campaigns.c.id.desc())
        )
        return [_campaign(row) for row in rows]

    async def unit_targets(self, campaign_id: int) -> dict[int, int]:
        """The initiative targets given to units below the campaign's own, by unit id."""
        rows = await self.conn.execute(
            sa.select(campaign_targets.c.unit_id, campaign_targets.c.initiative_target).where(
                campaign_targets.c.campaign_id == campaign_id
            )
        )
        return {int(unit_id): int(target) for unit_id, target in rows}

    async def set_unit_targets(self, campaign_id: int, targets: dict[int, int], replace: bool) -> None:
        """Store units' targets; ``replace`` drops every target not given first (a new split)."""
        if replace:
            await self.conn.execute(
                campaign_targets.delete().where(campaign_targets.c.campaign_id == campaign_id)
            )
        elif targets:
            await self.conn.execute(
                campaign_targets.delete().where(
                    campaign_targets.c.campaign_id == campaign_id,
                    campaign_targets.c.unit_id.in_(list(targets)),
                )
            )
        if targets:
            await self.conn.execute(
                campaign_targets.insert(),
                [
                    {"campaign_id": campaign_id, "unit_id": unit_id, "initiative_target": target}
                    for unit_id, target in targets.items()
                ],
            )
