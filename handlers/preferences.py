"""/reminders (/nhacnho): a member switches reminders off or on and chooses their quiet hours.
Campaign announcements from their own officers still arrive when reminders are off."""

from __future__ import annotations

from bot.domain import preferences
from bot.engine.buttons import ChooseQuietHours, SwitchReminders
from bot.engine.context import Ctx
from bot.engine.quiet import hhmm
from handlers.common import stale_button

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
        "preferences.turn_on" if off else "preferences.turn_off", SwitchReminders("on" if off else "off")
    )
    choices = [
        ctx.button("preferences.quiet_none_button", ChooseQuietHours(0, 0))
        if s == e
        else ctx.button("preferences.quiet_button", ChooseQuietHours(s, e), start=hhmm(s), end=hhmm(e))
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
