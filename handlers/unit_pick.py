"""Which unit an officer's command is for, shared by /invite and /codes: ``/command CODE`` names any unit
they cover; without a code, the one unit they lead is taken at once, else they pick among the units they
lead and those directly below (each button shows the unit's code, to type for a unit further down)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.domain.records import Unit
from bot.engine.access import unit_in_charge
from bot.engine.buttons import ButtonData
from bot.engine.context import Ctx
from bot.engine.events import Button
from handlers.common import stale_button

PICK_LIMIT = 20

UnitAction = Callable[[Ctx, Unit], Awaitable[None]]


async def offered_units(ctx: Ctx) -> list[Unit]:
    """The units an officer picks from: each they lead, followed by those directly below it."""
    offered: list[Unit] = []
    for led in ctx.who.led_units:
        offered += [led, *await ctx.repos.units.children(led.id)]
    return list({unit.id: unit for unit in offered}.values())


async def named_or_picked_unit(
    ctx: Ctx, act: UnitAction, button: Callable[[int], ButtonData], pick_key: str
) -> None:
    """Run ``act`` for the unit the command names by code, or for the one unit the officer leads; else say
    ``pick_key`` with a button (``button(unit_id)``) for each unit they may pick."""
    if ctx.event.args:
        unit = await ctx.repos.units.by_code(ctx.event.args[0])
        if unit is None or not ctx.who.covers(unit):
            ctx.say(ctx.t("invite.not_yours", code=ctx.event.args[0]))
            return
        await act(ctx, unit)
        return
    offered = await offered_units(ctx)
    if len(offered) == 1:
        await act(ctx, offered[0])
        return
    rows = [
        [Button(ctx.t("invite.unit_button", name=unit.name, code=unit.code), button(unit.id).pack())]
        for unit in offered[:PICK_LIMIT]
    ]
    ctx.say(ctx.t(pick_key), rows)


async def pressed_unit(ctx: Ctx, unit_id: int, act: UnitAction) -> None:
    """Run ``act`` for a unit picked from the list, if the officer is still in charge of it."""
    unit = await unit_in_charge(ctx.repos, ctx.who, unit_id)
    if unit is None:
        await stale_button(ctx)
        return
    await act(ctx, unit)
