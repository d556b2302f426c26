"""/reminders (/nhacnho): a member switches reminders off or on and chooses their quiet hours, and a member
linked on several channels chooses the one they are reached on (else the one they used last). Campaign
announcements from their own officers still arrive when reminders are off."""

from __future__ import annotations

from bot.domain import preferences
from bot.engine.buttons import ChooseChannel, ChooseQuietHours, SwitchReminders
from bot.engine.context import Ctx
from bot.engine.events import Button
from bot.engine.quiet import hhmm
from handlers.common import stale_button

QUIET_CHOICES = ((21 * 60, 7 * 60), (22 * 60, 6 * 60), (20 * 60, 8 * 60), (0, 0))
LAST_USED = "last"  # ChooseChannel's word for "the channel I used last"


async def show(ctx: Ctx, replace: bool = False) -> None:
    """The person's reminder settings with buttons to change them."""
    off, start, end = await ctx.repos.accounts.preferences(ctx.who.account.id)
    quiet = (
        ctx.t("preferences.quiet_none")
        if start == end
        else ctx.t("preferences.quiet_window", start=hhmm(start), end=hhmm(end))
    )
    state = ctx.t("preferences.state_off" if off else "preferences.state_on")
    toggle = ctx.button(
        "preferences.turn_on" if off else "preferences.turn_off", SwitchReminders("on" if off else "off")
    )
    choices = [
        ctx.button("preferences.quiet_none_button", ChooseQuietHours(0, 0))
        if s == e
        else ctx.button("preferences.quiet_button", ChooseQuietHours(s, e), start=hhmm(s), end=hhmm(e))
        for s, e in QUIET_CHOICES
    ]
    body = ctx.t("preferences.summary", state=state, quiet=quiet)
    reach_line, reach_row = await _reach(ctx)
    ctx.say(
        f"{body}\n{reach_line}" if reach_line else body,
        [[toggle], choices[:2], choices[2:], reach_row],
        replace=replace,
    )


def _channel_name(channel: str) -> str:
    return channel.capitalize()  # "telegram" -> "Telegram", "zalo" -> "Zalo": the services' own names


async def _reach(ctx: Ctx) -> tuple[str, list[Button]]:
    """For a member linked on several channels: which one they are reached on, and buttons to choose."""
    member = ctx.who.member
    channels = [a.channel for a in await ctx.repos.accounts.of_member(member.id)] if member else []
    if member is None or len(channels) < 2:
        return "", []
    chosen = await ctx.repos.members.preferred_channel(member.id)
    where: str
    if chosen is None:
        now_on = [a.channel for a in await ctx.repos.accounts.reached_through(member.id)]
        where = ctx.t("preferences.reached_last", channel=", ".join(map(_channel_name, now_on)) or "—")
    else:
        where = _channel_name(chosen)
    row = [
        ctx.button("preferences.channel_button", ChooseChannel(channel), channel=_channel_name(channel))
        for channel in channels
        if channel != chosen
    ]
    if chosen is not None:
        row.append(ctx.button("preferences.channel_last_button", ChooseChannel(LAST_USED)))
    return ctx.t("preferences.reached_on", channel=where), row


async def reminders_command(ctx: Ctx) -> None:
    """/reminders: show the settings."""
    await show(ctx)


async def switch(ctx: Ctx, pressed: SwitchReminders) -> None:
    """Reminders on or off."""
    await preferences.switch_reminders(ctx.repos, ctx.who.account, on=pressed.state != "off")
    await show(ctx, replace=True)


async def quiet_hours(ctx: Ctx, pressed: ChooseQuietHours) -> None:
    """One of the offered quiet windows."""
    if (pressed.start, pressed.end) not in QUIET_CHOICES:
        await stale_button(ctx)
        return
    await preferences.set_quiet_hours(ctx.repos, ctx.who.account, pressed.start, pressed.end)
    await show(ctx, replace=True)


async def reach_on(ctx: Ctx, pressed: ChooseChannel) -> None:
    """Reach the member on one of their channels, or on the one they used last."""
    member = ctx.who.member
    channels = [a.channel for a in await ctx.repos.accounts.of_member(member.id)] if member else []
    if member is None or (pressed.channel != LAST_USED and pressed.channel not in channels):
        await stale_button(ctx)
        return
    chosen = None if pressed.channel == LAST_USED else pressed.channel
    await preferences.reach_member_on(ctx.repos, member, chosen)
    await show(ctx, replace=True)
