"""Conversations many tests start from: a member linking, a newcomer asking to join."""

from __future__ import annotations

from collections.abc import Callable

from tests.helpers.chat import Chat


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
