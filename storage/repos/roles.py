"""Officer roles: which units a member (or a bare channel identity) leads."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from storage.loop_connection import Executor
from storage.records import Account, Unit
from storage.repos.accounts import ACCOUNT_COLUMNS, delivery_account_id
from storage.repos.units import UNIT_COLUMNS
from storage.tables import channel_accounts as accounts
from storage.tables import officer_roles as roles
from storage.tables import units


class RoleRepo:
    """Reads and writes ``officer_roles``."""

    def __init__(self, conn: Executor) -> None:
        self.conn = conn

    async def grant_to_member(self, unit_id: int, member_id: int, granted_by: str, now: datetime) -> bool:
        """Make a member an officer of a unit; False if they already were."""
        exists = await self.conn.execute(
            sa.select(roles.c.id).where(roles.c.unit_id == unit_id, roles.c.member_id == member_id)
        )
        if exists.first():
            return False
        await self.conn.execute(
            roles.insert().values(unit_id=unit_id, member_id=member_id, granted_by=granted_by, created_at=now)
        )
        return True

    async def grant_to_user(
        self, unit_id: int, channel: str, user_id: str, granted_by: str, now: datetime
    ) -> bool:
        """Make a channel identity an officer of a unit; False if it already was."""
        exists = await self.conn.execute(
            sa.select(roles.c.id).where(
                roles.c.unit_id == unit_id, roles.c.channel == channel, roles.c.user_id == user_id
            )
        )
        if exists.first():
            return False
        await self.conn.execute(
            roles.insert().values(
                unit_id=unit_id, channel=channel, user_id=user_id, granted_by=granted_by, created_at=now
            )
        )
        return True

    async def units_of(self, account: Account) -> list[Unit]:
        """The units this account leads, through its member or its own identity, in path order."""
        holder = sa.and_(roles.c.channel == account.channel, roles.c.user_id == account.user_id)
        if account.member_id is not None:
            holder = sa.or_(holder, roles.c.member_id == account.member_id)
        led = sa.select(roles.c.unit_id).where(holder)
        rows = await self.conn.execute(
            sa.select(*UNIT_COLUMNS).where(units.c.id.in_(led)).order_by(units.c.path)
        )
        return [Unit(*row) for row in rows]

    async def accounts_of_unit_officers(self, unit_id: int) -> list[Account]:
        """The reachable chat accounts of everyone who leads this very unit."""
        by_member = sa.select(roles.c.member_id).where(
            roles.c.unit_id == unit_id, roles.c.member_id.is_not(None)
        )
        by_user = sa.select(roles.c.channel, roles.c.user_id).where(
            roles.c.unit_id == unit_id, roles.c.user_id.is_not(None)
        )
        rows = await self.conn.execute(
            sa.select(*ACCOUNT_COLUMNS)
            .where(
                sa.or_(
                    accounts.c.member_id.in_(by_member),
                    sa.tuple_(accounts.c.channel, accounts.c.user_id).in_(by_user),
                ),
                accounts.c.reachable.is_(True),
                # A member on two channels is told once, on the account they are reached on.
                sa.or_(
                    accounts.c.member_id.is_(None), accounts.c.id == delivery_account_id(accounts.c.member_id)
                ),
            )
            .order_by(accounts.c.id)
        )
        return [Account(*row) for row in rows]
