"""Join requests from people not found on the roster, and link requests from people who typed a roster
member's phone where no contact can be shared, waiting for an officer's decision."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from storage.loop_connection import Executor
from storage.records import JoinRequest
from storage.tables import join_requests as requests
from storage.tables import units

_COLUMNS = (
    requests.c.id,
    requests.c.channel,
    requests.c.user_id,
    requests.c.full_name,
    requests.c.phone,
    requests.c.unit_id,
    requests.c.status,
    requests.c.created_at,
    requests.c.kind,
    requests.c.member_id,
)


def _request(row: Any) -> JoinRequest:
    return JoinRequest(*row)


class JoinRequestRepo:
    """Reads and writes ``join_requests``."""

    def __init__(self, conn: Executor) -> None:
        self.conn = conn

    async def create(
        self,
        *,
        channel: str,
        user_id: str,
        full_name: str,
        phone: str | None,
        unit_id: int,
        invite_id: int | None,
        now: datetime,
        link_to: int | None = None,
    ) -> int:
        """Store a pending request; returns its id. With ``link_to`` (a member id) it is a link request."""
        result = await self.conn.execute(
            requests.insert().values(
                channel=channel,
                user_id=user_id,
                full_name=full_name,
                phone=phone,
                unit_id=unit_id,
                invite_id=invite_id,
                kind="join" if link_to is None else "link",
                member_id=link_to,
                status="pending",
                created_at=now,
            )
        )
        assert result.inserted_primary_key is not None
        return int(result.inserted_primary_key[0])

    async def get(self, request_id: int) -> JoinRequest | None:
        """The request with this id, if any."""
        row = (await self.conn.execute(sa.select(*_COLUMNS).where(requests.c.id == request_id))).first()
        return _request(row) if row else None

    async def pending_of_user(self, channel: str, user_id: str) -> JoinRequest | None:
        """This person's request still waiting for a decision, if any."""
        row = (
            await self.conn.execute(
                sa.select(*_COLUMNS).where(
                    requests.c.channel == channel,
                    requests.c.user_id == user_id,
                    requests.c.status == "pending",
                )
            )
        ).first()
        return _request(row) if row else None

    async def pending_under(self, unit_paths: list[str], limit: int) -> list[JoinRequest]:
        """Pending requests for any unit inside these subtrees, oldest first."""
        if not unit_paths:
            return []
        rows = await self.conn.execute(
            sa.select(*_COLUMNS)
            .join(units, units.c.id == requests.c.unit_id)
            .where(requests.c.status == "pending", sa.or_(*(units.c.path.startswith(p) for p in unit_paths)))
            .order_by(requests.c.created_at, requests.c.id)
            .limit(limit)
        )
        return [_request(row) for row in rows]

    async def decide(
        self, request_id: int, *, status: str, member_id: int | None, decided_by: str, now: datetime
    ) -> bool:
        """Approve or reject a pending request; False if someone decided it first."""
        result = await self.conn.execute(
            requests.update()
            .where(requests.c.id == request_id, requests.c.status == "pending")
            .values(status=status, member_id=member_id, decided_by=decided_by, decided_at=now)
        )
        return result.rowcount == 1

    async def supersede_pending_of_user(
        self, channel: str, user_id: str, *, decided_by: str, now: datetime
    ) -> list[int]:
        """Close this person's requests still pending, as settled elsewhere; returns their ids."""
        where = (requests.c.channel == channel, requests.c.user_id == user_id, requests.c.status == "pending")
        ids = list((await self.conn.execute(sa.select(requests.c.id).where(*where))).scalars())
        if ids:
            await self.conn.execute(
                requests.update()
                .where(requests.c.id.in_(ids), requests.c.status == "pending")
                .values(status="superseded", decided_by=decided_by, decided_at=now)
            )
        return ids
