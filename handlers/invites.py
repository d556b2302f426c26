"""Officers' /invite: an invitation link for a unit they cover, opening the bot with ``/start CODE``."""

from __future__ import annotations

from datetime import timedelta

from bot.domain.onboarding import create_invite
from bot.domain.records import Unit
from bot.engine.buttons import InviteUnit
from bot.engine.context import Ctx
from handlers.unit_pick import named_or_picked_unit, pressed_unit
from messages import formatting


async def invite(ctx: Ctx) -> None:
    """``/invite`` offers the units the officer leads and those directly below (each with its code, to type
    ``/invite CODE`` for a unit further down); ``/invite CODE`` names any unit they cover."""
    await named_or_picked_unit(ctx, _issue, InviteUnit, "invite.pick_unit")


async def invite_button(ctx: Ctx, pressed: InviteUnit) -> None:
    """A unit picked from the /invite list."""
    await pressed_unit(ctx, pressed.unit, _issue)


async def _issue(ctx: Ctx, unit: Unit) -> None:
    created = await create_invite(ctx.repos, ctx.who, unit, ctx.now, timedelta(days=ctx.settings.invite_days))
    expires = formatting.day(created.expires_at.astimezone(ctx.settings.zone).date(), ctx.lang)
    link = ctx.channel.invite_link(created.code)
    if link is None:  # no link opens the bot on this platform (Zalo): the code is typed
        ctx.say(ctx.t("invite.created_typed", unit=unit.name, code=created.code, expires=expires))
        return
    ctx.say(ctx.t("invite.created", unit=unit.name, code=created.code, link=link, expires=expires))
