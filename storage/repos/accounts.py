"""Channel accounts: who is chatting, on which channel, linked to which member, in which language."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.records import Account
from storage.tables import channel_accounts as accounts

ACCOUNT_COLUMNS = (
    accounts.c.id,
    accounts.c.channel,
    accounts.c.user_id,
    accounts.c.chat_id,
    accounts.c.display_name,
    accounts.c.member_id,
    accounts.c.language,
    accounts.c.reachable,
)


class AccountRepo:
    """Reads and writes ``channel_accounts``."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def get(self, channel: str, user_id: str) -> Account | None:
        """The account of this channel identity, if it ever wrote to the bot."""
        query = sa.select(*ACCOUNT_COLUMNS).where(
            accounts.c.channel == channel, accounts.c.user_id == user_id
        )
        row = (await self.conn.execute(query)).first()
        return Account(*row) if row else None

    async def by_id(self, account_id: int) -> Account | None:
        """The account with this id, if any."""
        query = sa.select(*ACCOUNT_COLUMNS).where(accounts.c.id == account_id)
        row = (await self.conn.execute(query)).first()
        return Account(*row) if row else None

    async def of_member(self, member_id: int) -> list[Account]:
        """Every channel account linked to this member."""
        rows = await self.conn.execute(
            sa.select(*ACCOUNT_COLUMNS).where(accounts.c.member_id == member_id).order_by(accounts.c.id)
        )
        return [Account(*row) for row in rows]

    async def of_members(self, member_ids: list[int]) -> list[Account]:
        """Every channel account linked to any of these members."""
        if not member_ids:
            return []
        rows = await self.conn.execute(
            sa.select(*ACCOUNT_COLUMNS).where(accounts.c.member_id.in_(member_ids)).order_by(accounts.c.id)
        )
        return [Account(*row) for row in rows]

    async def touch(
        self, channel: str, user_id: str, chat_id: str, display_name: str, now: datetime
    ) -> Account:
        """The account of this identity, created on first contact and kept current after."""
        found = await self.get(channel, user_id)
        if found is None:
            await self.conn.execute(
                accounts.insert().values(
                    channel=channel,
                    user_id=user_id,
                    chat_id=chat_id,
                    display_name=display_name,
                    created_at=now,
                    reachable=True,
                )
            )
        elif (found.chat_id, found.display_name, found.reachable) != (chat_id, display_name, True):
            # Writing again after blocking the bot means the person is reachable once more.
            await self.conn.execute(
                accounts.update()
                .where(accounts.c.id == found.id)
                .values(chat_id=chat_id, display_name=display_name, reachable=True)
            )
        account = await self.get(channel, user_id)
        assert account is not None
        return account

    async def link(self, account_id: int, member_id: int, now: datetime) -> None:
        """Tie the account to a roster member."""
        await self.conn.execute(
            accounts.update().where(accounts.c.id == account_id).values(member_id=member_id, linked_at=now)
        )

    async def set_language(self, account_id: int, language: str) -> None:
        """Remember the language the person chose."""
        await self.conn.execute(
            accounts.update().where(accounts.c.id == account_id).values(language=language)
        )

    async def set_reachable(self, channel: str, chat_id: str, reachable: bool) -> None:
        """Mark a chat as (un)reachable, e.g. after the person blocked the bot."""
        await self.conn.execute(
            accounts.update()
            .where(accounts.c.channel == channel, accounts.c.chat_id == chat_id)
            .values(reachable=reachable)
        )

    async def set_reminders_off(self, account_id: int, off: bool) -> None:
        """Switch reminders off (or back on) for this account."""
        await self.conn.execute(
            accounts.update().where(accounts.c.id == account_id).values(reminders_off=off)
        )

    async def preferences(self, account_id: int) -> tuple[bool, int, int]:
        """(reminders off, quiet hours start, quiet hours end) of the account."""
        query = sa.select(accounts.c.reminders_off, accounts.c.quiet_start, accounts.c.quiet_end).where(
            accounts.c.id == account_id
        )
        off, start, end = (await self.conn.execute(query)).one()
        return bool(off), int(start), int(end)

    async def set_quiet_hours(self, account_id: int, start: int, end: int) -> None:
        """Quiet hours as minutes after local midnight; start == end means none."""
        await self.conn.execute(
            accounts.update().where(accounts.c.id == account_id).values(quiet_start=start, quiet_end=end)
        )
