"""The bot on Zalo, through the Zalo sandbox over HTTP: what works before linking without contact sharing
exists (a stranger's /start, /help, /language, numbered menus answered by number and by words), members
linked directly in the database registering and receiving broadcasts, long replies split at 2,000
characters, no markup reaching Zalo, and the outbox's fault handling against Zalo's answers."""

from __future__ import annotations

import pytest

from bot.app import Runtime
from messages import plain, text
from tests.conftest import ZALO, People
from tests.helpers.roster import MAI, STRANGER

pytestmark = pytest.mark.sandbox


def vi(key: str, **params: object) -> str:
    return plain(text("vi", key, **params))


@pytest.mark.parametrize("channel_kind", ZALO)
async def test_a_stranger_starts_and_reads_the_welcome_as_plain_text(people: People, zalo_bot: Runtime) -> None:
    nam = people(*STRANGER)
    await nam.send("/start")
    assert vi("onboarding.welcome") in nam.last_text
    assert "<b>" not in nam.last_text
