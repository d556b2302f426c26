"""Conversations many tests start from: a member linking, a newcomer asking to join; an officer without a
roster entry, granted by account on any channel."""

from __future__ import annotations

from collections.abc import Callable

from storage.database import Store
from tests.helpers.chat import Chat
from tests.helpers.roster import NOW


async def linked(chat: Callable[..., Chat], person: tuple[int, str, str, str]) -> Chat:
    """A roster member who has just linked their account."""
    member = chat(*person)
    await member.send("/start")
    await member.share_contact()
    return member


async def join_as_stranger(nam: Chat, search: str = "dien luc", unit: str = "Điện lực Hà Quảng") -> None:
    """Someone not on the roster sends a join request (by default for the Điện lực base union)."""
    await nam.send("/start")
    await nam.share_contact()
    assert "Không tìm thấy số 0933 000 111" in nam.messages[-2].plain_text
    await nam.press("Gửi yêu cầu tham gia")
    await nam.send(search)
    await nam.press(unit)
    await nam.send("Trần Văn Nam")
    assert "Trần Văn Nam" in nam.last_text and "0933 000 111" in nam.last_text
    await nam.press("Gửi yêu cầu")


async def grant_by_account(store: Store, unit_code: str, channel: str, user_id: int) -> None:
    """Make an account with no roster entry an officer of the unit, as ``thidua grant --user`` would."""
    async with store.begin() as repos:
        unit = await repos.units.by_code(unit_code)
        assert unit is not None
        assert await repos.roles.grant_to_user(unit.id, channel, str(user_id), "test", NOW)
