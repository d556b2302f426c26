"""Conversations many tests start from: a member linking, a newcomer asking to join; an officer without a
roster entry, granted by account on any channel.

They work on every channel: where the contact can be shared the person shares it; where it cannot (a channel
like Zalo, ``memory-menus``) a member types a personal link code and a newcomer types their phone number.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from bot.domain.linking import issue_member_code
from bot.domain.vn.phones import normalize_phone
from storage.database import Store
from tests.helpers.chat import Chat
from tests.helpers.memory_chat import MemoryChat
from tests.helpers.roster import NOW
from tests.helpers.zalo_chat import ZaloChat

Person = Chat | MemoryChat | ZaloChat


def can_share_contact(person: Person) -> bool:
    """The person's channel lets them share their phone contact (Telegram does, Zalo does not)."""
    if isinstance(person, ZaloChat):
        return False
    return not isinstance(person, MemoryChat) or person.channel.capabilities.contact


async def fresh_code(person: Person, phone: str) -> str:
    """A new personal link code for the roster member with this phone, as an officer's sheet would give."""
    runtime = person.runtime
    normalized = normalize_phone(phone)
    assert normalized is not None
    async with runtime.store.begin() as repos:
        [member] = await repos.members.by_phone(normalized)
        issued = await issue_member_code(repos, "test", member, runtime.clock.now(), timedelta(days=30))
    return issued.code


async def linked(chat: Callable[..., Person], person: tuple[int, str, str, str]) -> Person:
    """A roster member who has just linked their account: by contact, or by a personal code."""
    member = chat(*person)
    await member.send("/start")
    if can_share_contact(member):
        await member.share_contact()
    else:
        await member.send(await fresh_code(member, person[3]))
    return member


async def give_phone(person: Person, phone: str) -> list[Any]:
    """At the link step: share the contact where the channel can, else type the number; the new replies."""
    if can_share_contact(person):
        return list(await person.share_contact())
    return list(await person.send(phone))


async def join_as_stranger(nam: Person, search: str = "dien luc", unit: str = "Điện lực Hà Quảng") -> None:
    """Someone not on the roster sends a join request (by default for the Điện lực base union)."""
    await nam.send("/start")
    await give_phone(nam, "0933000111")
    assert "Không tìm thấy số 0933 000 111" in nam.messages[-2].plain_text
    await nam.press("Gửi yêu cầu tham gia")
    await nam.send(search)
    await nam.press(unit)
    await nam.send("Trần Văn Nam")
    assert "Trần Văn Nam" in nam.last_text and "0933 000 111" in nam.last_text
    await nam.press("Gửi yêu cầu")


async def grant_by_account(store: Store, unit_code: str, channel: str, user_id: int | str) -> None:
    """Make an account with no roster entry an officer of the unit, as ``thidua grant --user`` would."""
    async with store.begin() as repos:
        unit = await repos.units.by_code(unit_code)
        assert unit is not None
        assert await repos.roles.grant_to_user(unit.id, channel, str(user_id), "test", NOW)


async def linked_member_code(store: Store, channel: str, user_id: str) -> str | None:
    """The roster code of the member the account ``channel``/``user_id`` is linked to, if it is."""
    async with store.begin() as repos:
        account = await repos.accounts.get(channel, str(user_id))
        if account is None or account.member_id is None:
            return None
        member = await repos.members.get(account.member_id)
        return member.code if member else None
