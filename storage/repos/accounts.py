"""Channel accounts: who is chatting, on which channel, linked to which member, in which language."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.selectable import NamedFromClause

from storage.loop_connection import Executor
from storage.memo import Kept, KeptIdentity, Memo, generation
from storage.prepared import Prepared, fetch, run
from storage.records import Account, Member, Seen, Unit
from storage.repos.counters import bump
from storage.repos.members import MEMBER_COLUMNS
from storage.repos.units import UNIT_COLUMNS
from storage.tables import channel_accounts as accounts
from storage.tables import members, unit_counts, units
from storage.tables import officer_roles as roles

# ``last_seen_at`` is rewritten at most once a minute per account: an update that changes nothing else
# stays a read, and a member switching channels within the same minute is the only one misjudged.
LAST_SEEN_STEP = timedelta(minutes=1)


def seen_due(memo: Memo, channel: str, user_id: str, now: datetime) -> bool:
    """True when the identity kept for this account says its next update marks it seen, a write: its
    last-seen minute has passed. False when nothing is kept (the database may say otherwise)."""
    kept = memo.identities.get((channel, user_id))
    if kept is None:
        return False
    last_seen = kept.value.last_seen_at
    return last_seen is None or now - last_seen >= LAST_SEEN_STEP


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


def delivery_account_id(member_id: sa.ColumnElement[int]) -> sa.ScalarSelect[int]:
    """The one account a member's broadcasts, reminders and notices go to: of their reachable accounts, the
    one on the channel they chose, else the one they wrote from last (correlated on ``member_id``)."""
    other, person = accounts.alias("reach"), members.alias("reached")
    chosen = sa.case((other.c.channel == person.c.preferred_channel, 0), else_=1)
    return (
        sa.select(other.c.id)
        .join(person, person.c.id == other.c.member_id)
        .where(other.c.member_id == member_id, other.c.reachable.is_(True))
        .order_by(
            chosen, sa.func.coalesce(other.c.last_seen_at, other.c.created_at).desc(), other.c.id.desc()
        )
        .limit(1)
        .scalar_subquery()
    )


def holds_role(account: NamedFromClause = accounts) -> sa.ColumnElement[bool]:
    """True where the ``officer_roles`` row is held by the ``channel_accounts`` row (or an alias of it):
    granted to the account's member, or to the channel identity itself (before or without a roster entry)."""
    return sa.or_(
        sa.and_(roles.c.channel == account.c.channel, roles.c.user_id == account.c.user_id),
        roles.c.member_id == account.c.member_id,
    )


def _identity_query() -> sa.Select[Any]:
    # Built once: putting this statement together (an alias, four joins) cost more CPU than running it.
    led = units.alias("led")
    joined = (
        accounts.outerjoin(members, members.c.id == accounts.c.member_id)
        .outerjoin(units, units.c.id == members.c.unit_id)
        .outerjoin(roles, holds_role())
        .outerjoin(led, led.c.id == roles.c.unit_id)
    )
    return (
        sa.select(
            *ACCOUNT_COLUMNS,
            accounts.c.last_seen_at,
            *MEMBER_COLUMNS,
            *UNIT_COLUMNS,
            *(led.c[column.name] for column in UNIT_COLUMNS),
        )
        .select_from(joined)
        .where(accounts.c.channel == sa.bindparam("channel"), accounts.c.user_id == sa.bindparam("user_id"))
        .order_by(led.c.path)
    )


_IDENTITY = Prepared(_identity_query())
_SEEN = Prepared(
    accounts.update()
    .where(accounts.c.id == sa.bindparam("account_id"))
    .values(
        chat_id=sa.bindparam("chat"),
        display_name=sa.bindparam("name"),
        reachable=True,
        last_seen_at=sa.bindparam("at", type_=accounts.c.last_seen_at.type),
    )
)


class AccountRepo:
    """Reads and writes ``channel_accounts``."""

    def __init__(self, conn: Executor, memo: Memo | None = None) -> None:
        self.conn = conn
        self.memo = memo

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

    async def reached_through(self, member_id: int) -> list[Account]:
        """The member's one account that messages for them go to (none when no account is reachable)."""
        rows = await self.conn.execute(
            sa.select(*ACCOUNT_COLUMNS).where(accounts.c.id == delivery_account_id(sa.literal(member_id)))
        )
        return [Account(*row) for row in rows]

    async def touch(
        self, channel: str, user_id: str, chat_id: str, display_name: str, now: datetime
    ) -> Account:
        """The account of this identity, created on first contact and kept current after (when it was last
        seen, to the minute)."""
        return (await self.touch_identity(channel, user_id, chat_id, display_name, now)).account

    async def touch_identity(
        self, channel: str, user_id: str, chat_id: str, display_name: str, now: datetime
    ) -> Seen:
        """``touch``, with the linked member, their unit and the units the account leads (every update
        asks). Kept between updates while the identities' generation stands (storage/memo.py): then one
        small SELECT; otherwise one SELECT of the account with them all."""
        current_generation = await generation(self.conn, "identity") if self.memo is not None else None
        return await self.touch_identity_at(current_generation, channel, user_id, chat_id, display_name, now)

    async def touch_identity_at(
        self,
        current_generation: int | None,
        channel: str,
        user_id: str,
        chat_id: str,
        display_name: str,
        now: datetime,
    ) -> Seen:
        """``touch_identity`` with the identities' generation already read in this transaction, before any
        of its writes (``DialogRepo.opening`` reads it with the chat's dialog)."""
        key = (channel, user_id)
        kept = self.memo.identities.get(key) if self.memo is not None else None
        if kept is not None and current_generation is not None and kept.generation == current_generation:
            seen, last_seen = kept.value.seen, kept.value.last_seen_at
            changed = False  # the kept one stands as it is (and get() made it the most recent)
        else:
            seen, last_seen = await self._read_identity(channel, user_id, chat_id, display_name, now)
            changed = True
        found = seen.account
        current = (found.chat_id, found.display_name, found.reachable) == (chat_id, display_name, True)
        if not current or last_seen is None or now - last_seen >= LAST_SEEN_STEP:
            # Writing again after blocking the bot means the person is reachable once more. (A changed
            # chat or name raises the generation: the kept identity is read afresh next time.)
            marked = {"account_id": found.id, "chat": chat_id, "name": display_name, "at": now}
            await run(self.conn, _SEEN, marked)
            found = Account(
                found.id, channel, user_id, chat_id, display_name, found.member_id, found.language, True
            )
            seen, last_seen = Seen(found, seen.member, seen.unit, seen.led_units), now
            changed = True
        if changed and self.memo is not None and current_generation is not None:
            self.memo.identities[key] = Kept(current_generation, KeptIdentity(seen, last_seen))
        return seen

    async def _read_identity(
        self, channel: str, user_id: str, chat_id: str, display_name: str, now: datetime
    ) -> tuple[Seen, datetime | None]:
        # One row per led unit, or one row when the account leads none; the account is made on first
        # contact.
        key = {"channel": channel, "user_id": user_id}
        rows = await fetch(self.conn, _IDENTITY, key)
        if not rows:
            # First contact: a role may have been granted to this channel identity before it wrote, so the
            # new account is read back through the same joins.
            await self.conn.execute(
                accounts.insert().values(
                    channel=channel,
                    user_id=user_id,
                    chat_id=chat_id,
                    display_name=display_name,
                    created_at=now,
                    last_seen_at=now,
                    reachable=True,
                )
            )
            rows = await fetch(self.conn, _IDENTITY, key)
        member_at = len(ACCOUNT_COLUMNS) + 1
        unit_at = member_at + len(MEMBER_COLUMNS)
        led_at = unit_at + len(UNIT_COLUMNS)
        row = rows[0]
        found, last_seen = Account(*row[: member_at - 1]), row[member_at - 1]
        member = Member(*row[member_at:unit_at]) if row[member_at] is not None else None
        unit = Unit(*row[unit_at:led_at]) if row[unit_at] is not None else None
        # A unit led both as a member and as a channel identity comes twice.
        led_units = {r[led_at]: Unit(*r[led_at:]) for r in rows if r[led_at] is not None}
        return Seen(found, member, unit, tuple(led_units.values())), last_seen

    async def link(self, account_id: int, member_id: int, now: datetime) -> None:
        """Tie the account to a roster member; it takes the reminder settings of the member's other
        accounts, since messages may come through any of them. A member's first account counts them as
        linked in their unit (and an account taken from another member uncounts that one if it was their
        last)."""
        other = accounts.alias("other")
        previous = sa.select(accounts.c.member_id).where(accounts.c.id == account_id).scalar_subquery()
        held = (
            await self.conn.execute(
                sa.select(
                    members.c.unit_id,
                    previous,
                    other.c.id,
                    other.c.reminders_off,
                    other.c.quiet_start,
                    other.c.quiet_end,
                )
                .outerjoin(other, sa.and_(other.c.member_id == members.c.id, other.c.id != account_id))
                .where(members.c.id == member_id)
                .order_by(other.c.id)
                .limit(1)
            )
        ).one()
        unit_id, previous_member, other_id = held[0], held[1], held[2]
        values: dict[str, object] = {"member_id": member_id, "linked_at": now}
        if other_id is not None:
            values |= {"reminders_off": held[3], "quiet_start": held[4], "quiet_end": held[5]}
        await self.conn.execute(accounts.update().where(accounts.c.id == account_id).values(**values))
        if previous_member == member_id:
            return
        linked: dict[tuple[int], int] = {}
        if other_id is None:
            linked[(unit_id,)] = 1
        if previous_member is not None:
            left = await self._unit_if_unlinked(previous_member)
            if left is not None:
                linked[(left,)] = linked.get((left,), 0) - 1
        await bump(self.conn, unit_counts, {unit: {"linked": n} for unit, n in linked.items()})

    async def _unit_if_unlinked(self, member_id: int) -> int | None:
        """The member's unit if no account is linked to them any more, else None."""
        still = sa.exists().where(accounts.c.member_id == member_id)
        query = sa.select(members.c.unit_id).where(members.c.id == member_id, ~still)
        return (await self.conn.execute(query)).scalar_one_or_none()

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
        """Switch reminders off (or back on) for this account and the member's other accounts."""
        await self.conn.execute(accounts.update().where(_same_person(account_id)).values(reminders_off=off))

    async def preferences(self, account_id: int) -> tuple[bool, int, int]:
        """(reminders off, quiet hours start, quiet hours end) of the account."""
        query = sa.select(accounts.c.reminders_off, accounts.c.quiet_start, accounts.c.quiet_end).where(
            accounts.c.id == account_id
        )
        off, start, end = (await self.conn.execute(query)).one()
        return bool(off), int(start), int(end)

    async def set_quiet_hours(self, account_id: int, start: int, end: int) -> None:
        """Quiet hours as minutes after local midnight, for this account and the member's other accounts;
        start == end means none."""
        await self.conn.execute(
            accounts.update().where(_same_person(account_id)).values(quiet_start=start, quiet_end=end)
        )


def _same_person(account_id: int) -> sa.ColumnElement[bool]:
    """This account, and every other account linked to the same member: a setting is the person's."""
    own = accounts.alias("own")
    member_id = sa.select(own.c.member_id).where(own.c.id == account_id).scalar_subquery()
    return sa.or_(accounts.c.id == account_id, accounts.c.member_id == member_id)
