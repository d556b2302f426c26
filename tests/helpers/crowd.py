"""Many members at once, and a broadcast queued to them without going through an officer's dialog."""

from __future__ import annotations

from collections.abc import Sequence

from bot.domain.broadcasts import send_to_subtree
from bot.engine.events import Outgoing
from bot.sandbox import SandboxUser, TelegramSandbox
from storage.database import Store
from tests.helpers.roster import NOW

FIRST_CROWD_USER = 50_000
REQUESTER = 7_000  # the sandbox user who asks for queued broadcasts and gets their summaries
TITLE_LENGTH = 255  # a broadcast's title column


async def crowd(
    store: Store, sandbox: TelegramSandbox, count: int, *, quiet_hours: bool = True
) -> list[SandboxUser]:
    """``count`` members of CĐCS Điện lực, each with a linked Telegram account (without quiet hours if
    asked: for tests on the real clock, which must pass at any time of day)."""
    ids = [str(FIRST_CROWD_USER + number) for number in range(count)]
    users = [sandbox.user(int(user_id), f"Người {number}") for number, user_id in enumerate(ids)]
    await link_members(store, "telegram", ids, code_prefix="X", quiet_hours=quiet_hours)
    return users


async def link_members(
    store: Store, channel: str, user_ids: Sequence[str], *, code_prefix: str, quiet_hours: bool = True
) -> None:
    """One new member of CĐCS Điện lực per user id (codes ``{code_prefix}0000``...), each linked to that
    private chat on ``channel``; without quiet hours if asked."""
    async with store.begin() as repos:
        unit = await repos.units.by_code("CDCS-DL")
        assert unit is not None
        for number, user_id in enumerate(user_ids):
            member_id = await repos.members.insert(
                code=f"{code_prefix}{number:04d}",
                full_name=f"Đoàn viên {number}",
                phone=None,
                email=None,
                unit_id=unit.id,
                source="roster",
                now=NOW,
            )
            account = await repos.accounts.touch(channel, user_id, user_id, f"Người {number}", NOW)
            await repos.accounts.link(account.id, member_id, NOW)
            if not quiet_hours:
                await repos.accounts.set_quiet_hours(account.id, 0, 0)


async def queue_broadcast(store: Store, sandbox: TelegramSandbox, text: str) -> int:
    """Queue ``text`` to every linked member of CĐCS Điện lực, asked for by user ``REQUESTER`` (who is
    not among them and receives the summary); returns the broadcast's id."""
    sandbox.user(REQUESTER, "Cán bộ")
    return await queue_to_dien_luc(store, "telegram", str(REQUESTER), text)


async def queue_to_dien_luc(store: Store, channel: str, requester_id: str, text: str) -> int:
    """Queue ``text`` to every linked member of CĐCS Điện lực, asked for by the account ``requester_id``
    of ``channel`` (who receives the summary, titled by its start); returns the broadcast's id."""
    async with store.begin() as repos:
        requester = await repos.accounts.touch(channel, requester_id, requester_id, "Cán bộ", NOW)
        unit = await repos.units.by_code("CDCS-DL")
        assert unit is not None
        message = Outgoing(text).to_json()
        sent = await send_to_subtree(
            repos,
            kind="broadcast",
            title=text[:TITLE_LENGTH],
            unit=unit,
            campaign_id=None,
            requested_by=requester.id,
            messages={"vi": message, "en": message},
            default_language="vi",
            now=NOW,
        )
    return sent.broadcast_id


def copies(user: SandboxUser, text: str) -> int:
    """How many messages containing ``text`` the user received."""
    return sum(text in message.plain_text for message in user.messages())
