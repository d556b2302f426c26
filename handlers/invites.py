"""Officers' /invite: an invitation link for a unit they cover, opening the bot with ``/start CODE``."""

from __future__ import annotations

from datetime import timedelta

from bot.domain.onboarding import create_invite
from bot.domain.records import Unit
from bot.engine.access import unit_in_charge
from bot.engine.buttons import InviteUnit
from bot.engine.context import Ctx
from bot.engine.events import Button
from handlers.common import stale_button
from messages import formatting

PICK_LIMIT = 20


async def invite(ctx: Ctx) -> None:
    """``/invite`` offers the units the officer leads and those directly below (each with its code, to type
    ``/invite CODE`` for a unit further down); ``/invite CODE`` names any unit they cover."""
    if ctx.event.args:
        unit = await ctx.repos.units.by_code(ctx.event.args[0])
        if unit is None or not ctx.who.covers(unit):
            ctx.say(ctx.t("invite.not_yours", code=ctx.event.args[0]))
            return
        await _issue(ctx, unit)
        return
    offered: list[Unit] = []
    for led in ctx.who.led_units:
        offered += [led, *await ctx.repos.units.children(led.id)]
    if len(offered) == 1:
        await _issue(ctx, offered[0])
        return
    rows = [
        [Button(ctx.t("invite.unit_button", name=unit.name, code=unit.code), InviteUnit(unit.id).pack())]
        for unit in offered[:PICK_LIMIT]
    ]
    ctx.say(ctx.t("invite.pick_unit"), rows)


async def invite_button(ctx: Ctx, pressed: InviteUnit) -> None:
    """A unit picked from the /invite list."""
    unit = await unit_in_charge(ctx.repos, ctx.who, pressed.unit)
    if unit is None:
        await stale_button(ctx)
        return
    await _issue(ctx, unit)


async def _issue(ctx: Ctx, unit: Unit) -> None:
    created = await create_invite(ctx.repos, ctx.who, unit, ctx.now, timedelta(days=ctx.settings.invite_days))
    ctx.say(
        ctx.t(
            "invite.created",
            unit=unit.name,
            code=created.code,
            link=ctx.channel.invite_link(created.code),
            expires=formatting.day(created.expires_at.astimezone(ctx.settings.zone).date(), ctx.lang),
        )
    )
