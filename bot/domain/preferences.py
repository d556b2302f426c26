"""A person's own settings on one chat account: language, reminders on or off, quiet hours."""

from __future__ import annotations

from storage.database import Repos
from storage.records import Account, Member


async def set_language(repos: Repos, account: Account, language: str) -> None:
    """Answer this account in ``language`` (a catalog language) from now on."""
    await repos.accounts.set_language(account.id, language)


async def switch_reminders(repos: Repos, account: Account, on: bool) -> None:
    """Send this account reminders, or stop (announcements still arrive)."""
    await repos.accounts.set_reminders_off(account.id, not on)


async def set_quiet_hours(repos: Repos, account: Account, start: int, end: int) -> None:
    """No reminders between ``start`` and ``end`` (minutes after local midnight)."""
    await repos.accounts.set_quiet_hours(account.id, start, end)


async def reach_member_on(repos: Repos, member: Member, channel: str | None) -> None:
    """Reach ``member`` on ``channel`` from now on, or (None) on the channel they used last."""
    await repos.members.set_preferred_channel(member.id, channel)
