"""Personal link codes: officers' /codes (/inma) sends the sheet of their units' codes to print; a linked
member's /mycode (/malienket) gives them a code to link another channel (Zalo) with."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from bot.domain.linking import issue_codes, issue_member_code
from bot.domain.records import Unit
from bot.engine.buttons import CodesUnit
from bot.engine.context import Ctx
from bot.engine.events import FileOut
from handlers.unit_pick import named_or_picked_unit, pressed_unit
from messages import formatting


async def codes_command(ctx: Ctx) -> None:
    """``/codes`` offers the units the officer leads and those directly below; ``/codes CODE`` names any
    unit they cover."""
    await named_or_picked_unit(ctx, _send_sheet, CodesUnit, "codes.pick_unit")


async def unit_button(ctx: Ctx, pressed: CodesUnit) -> None:
    """A unit picked from the /codes list."""
    await pressed_unit(ctx, pressed.unit, _send_sheet)


async def _send_sheet(ctx: Ctx, unit: Unit) -> None:
    # Codes are made only where the sheet reaches the officer (as a file or a link): new codes replace the
    # members' unused ones.
    if not ctx.channel.capabilities.delivers_files:
        ctx.say(ctx.t("codes.no_files", unit=unit.name, code=unit.code))
        return
    valid_for = timedelta(days=ctx.settings.link_code_days)
    issued = await issue_codes(ctx.repos, ctx.who.actor, unit, ctx.now, valid_for)
    if not issued:
        ctx.say(ctx.t("codes.empty", unit=unit.name))
        return
    from bot.reports.link_codes import build_codes_sheet  # openpyxl: loaded by the first sheet

    content = await asyncio.to_thread(build_codes_sheet, issued, ctx.lang, ctx.settings.zone)
    expires = formatting.day(issued[0].expires_at.astimezone(ctx.settings.zone).date(), ctx.lang)
    ctx.say(
        ctx.t("codes.caption", count=len(issued), unit=unit.name, expires=expires),
        file=FileOut(f"ma-lien-ket-{unit.code}-{ctx.today.isoformat()}.xlsx", content),
    )


async def my_code(ctx: Ctx) -> None:
    """A fresh personal code for the member, to type on another channel."""
    member = ctx.who.member
    if member is None:  # an officer known by their channel identity alone has no roster entry to link
        ctx.say(ctx.t("fallback.link_first"))
        return
    valid_for = timedelta(days=ctx.settings.link_code_days)
    issued = await issue_member_code(ctx.repos, ctx.who.actor, member, ctx.now, valid_for)
    expires = formatting.day(issued.expires_at.astimezone(ctx.settings.zone).date(), ctx.lang)
    ctx.say(ctx.t("mycode.created", code=issued.code, expires=expires))
