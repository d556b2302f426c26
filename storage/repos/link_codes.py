"""Personal one-time link codes (kept as hashes) and the wrong codes each account typed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa

from storage.loop_connection import Executor
from storage.records import LinkCode
from storage.tables import link_code_failures as failures
from storage.tables import link_codes as codes

_COLUMNS = (codes.c.id, codes.c.member_id, codes.c.expires_at, codes.c.used_at)


class LinkCodeRepo:
    """Reads and writes ``link_codes`` and ``link_code_failures``."""

    def __init__(self, conn: Executor) -> None:
        self.conn = conn

    async def replace(
        self, issued: Sequence[tuple[int, str]], created_by: str, now: datetime, expires_at: datetime
    ) -> None:
        """Store new codes, given as (member id, code hash), dropping those members' unused older codes: the
        newest sheet is the one that works."""
        if not issued:
            return
        member_ids = [member_id for member_id, _ in issued]
        await self.conn.execute(
            codes.delete().where(codes.c.member_id.in_(member_ids), codes.c.used_at.is_(None))
        )
        await self.conn.execute(
            codes.insert(),
            [
                {
                    "member_id": member_id,
                    "code_hash": code_hash,
                    "created_by": created_by,
                    "created_at": now,
                    "expires_at": expires_at,
                }
                for member_id, code_hash in issued
            ],
        )

    async def by_hash(self, code_hash: str) -> LinkCode | None:
        """The code with this hash, if one was ever issued."""
        row = (await self.conn.execute(sa.select(*_COLUMNS).where(codes.c.code_hash == code_hash))).first()
        return LinkCode(*row) if row else None

    async def spend(self, code_id: int, account_id: int, now: datetime) -> bool:
        """Mark an unused code used by this account; False if it was used meanwhile."""
        result = await self.conn.execute(
            codes.update()
            .where(codes.c.id == code_id, codes.c.used_at.is_(None))
            .values(used_at=now, used_by=account_id)
        )
        return result.rowcount == 1

    async def record_failure(self, account_id: int, now: datetime, forget_before: datetime) -> None:
        """Remember one wrong, used or expired code typed by this account, forgetting its failures from
        before ``forget_before`` (no longer counted), so the table holds no more than a window's worth."""
        await self.conn.execute(
            failures.delete().where(failures.c.account_id == account_id, failures.c.at <= forget_before)
        )
        await self.conn.execute(failures.insert().values(account_id=account_id, at=now))

    async def failures_since(self, account_id: int, since: datetime) -> int:
        """How many wrong codes this account typed since ``since``."""
        query = (
            sa.select(sa.func.count())
            .select_from(failures)
            .where(failures.c.account_id == account_id, failures.c.at > since)
        )
        return int((await self.conn.execute(query)).scalar_one())
