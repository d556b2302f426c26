"""Granting officer roles (admins, from the CLI): to a roster member or to a bare channel identity."""

from __future__ import annotations

import re
from datetime import datetime

from bot.engine.config import CHANNELS
from storage.database import Store

_TELEGRAM_ID = re.compile(r"[1-9][0-9]{0,18}", re.ASCII)  # Telegram user ids are positive numbers


class GrantError(Exception):
    """The unit, member or identity named does not exist or is malformed."""


def parse_user(value: str) -> tuple[str, str]:
    """("telegram", "123") from "telegram:123"; a Telegram id must be a number, a Zalo id is any text."""
    channel, _, user_id = value.partition(":")
    if channel not in CHANNELS or not user_id:
        raise GrantError(f"--user {value!r}: expected telegram:ID or zalo:ID")
    if channel == "telegram" and not _TELEGRAM_ID.fullmatch(user_id):
        raise GrantError(f"--user {value!r}: a Telegram user id is a number, e.g. telegram:123456")
    return channel, user_id


async def grant_officer(
    store: Store,
    unit_code: str,
    *,
    member_code: str | None = None,
    user: str | None = None,
    actor: str,
    now: datetime,
) -> bool:
    """Make a member or a channel identity an officer of the unit; False if it already was."""
    if (member_code is None) == (user is None):
        raise GrantError("give exactly one of --member CODE or --user channel:id")
    async with store.begin() as repos:
        unit = await repos.units.by_code(unit_code)
        if unit is None:
            raise GrantError(f"--unit {unit_code!r}: no such unit")
        if member_code is not None:
            member = await repos.members.by_code(member_code)
            if member is None:
                raise GrantError(f"--member {member_code!r}: no such member")
            granted = await repos.roles.grant_to_member(unit.id, member.id, actor, now)
            holder = f"member:{member.code}"
        else:
            assert user is not None
            channel, user_id = parse_user(user)
            granted = await repos.roles.grant_to_user(unit.id, channel, user_id, actor, now)
            holder = f"{channel}:{user_id}"
        if granted:
            await repos.audit.record(actor, "officer.grant", f"unit:{unit.code}", {"holder": holder}, now)
        return granted
