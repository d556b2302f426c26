"""/reminders (/nhacnho): a member switches reminders off or on and chooses their quiet hours.
Campaign announcements from their own officers still arrive when reminders are off."""

from __future__ import annotations

from bot.quiet import hhmm
from handlers.common import stale_button
from handlers.context import Ctx

QUIET_CHOICES = ((21 * 60, 7 * 60), (22 * 60, 6 * 60), (20 * 60, 8 * 60), (0, 0))


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
        "preferences.turn_on" if off else "preferences.turn_off", "pref:on" if off else "pref:off"
    )
    choices = [
        ctx.button("preferences.quiet_none_button", "pref:quiet:0:0")
        if s == e
        else ctx.button("preferences.quiet_button", f"pref:quiet:{s}:{e}", start=hhmm(s), end=hhmm(e))
        for s, e in QUIET_CHOICES
    ]
    ctx.say(
        ctx.t("preferences.summary", state=state, quiet=quiet),
        [[toggle], choices[:2], choices[2:]],
        replace=replace,
    )


async def reminders_command(ctx: Ctx) -> None:
    """/reminders: show the settings."""
    await show(ctx)


async def button(ctx: Ctx) -> None:
    """pref:on, pref:off, pref:quiet:START:END."""
    args = ctx.payload_args
    account_id = ctx.who.account.id
    if args in (["on"], ["off"]):
        await ctx.repos.accounts.set_reminders_off(account_id, args == ["off"])
    elif len(args) == 3 and args[0] == "quiet" and (int(args[1]), int(args[2])) in QUIET_CHOICES:
        await ctx.repos.accounts.set_quiet_hours(account_id, int(args[1]), int(args[2]))
    else:
        await stale_button(ctx)
        return
    await show(ctx, replace=True)
