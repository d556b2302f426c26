"""The main menu: the buttons a linked member (and an officer) starts from."""

from __future__ import annotations

from bot.events import Button
from handlers.context import Ctx


def main_menu_buttons(ctx: Ctx) -> list[list[Button]]:
    """Rows of buttons for what this person can do now."""
    rows = [
        [ctx.button("menu.campaigns", "cmd:campaigns"), ctx.button("menu.submit", "cmd:submit")],
        [ctx.button("menu.my", "cmd:my")],
        [ctx.button("menu.help", "cmd:help"), ctx.button("menu.language", "cmd:language")],
    ]
    if ctx.who.is_officer:
        rows.append(
            [ctx.button("menu.newcampaign", "cmd:newcampaign"), ctx.button("menu.review", "cmd:review")]
        )
        rows.append(
            [ctx.button("menu.broadcasts", "cmd:broadcasts"), ctx.button("menu.requests", "cmd:requests")]
        )
        rows.append([ctx.button("menu.stats", "cmd:stats"), ctx.button("menu.export", "cmd:export")])
        rows.append([ctx.button("menu.invite", "cmd:invite")])
    return rows


async def show_menu(ctx: Ctx) -> None:
    """Greet a linked member by name and unit and show the main menu."""
    assert ctx.who.member is not None and ctx.who.unit is not None
    lines = [ctx.t("menu.title", name=ctx.who.member.full_name, unit=ctx.who.unit.name)]
    if ctx.who.is_officer:
        lines.append(ctx.t("menu.officer_of", units=", ".join(unit.name for unit in ctx.who.led_units)))
    lines.append(ctx.t("menu.prompt"))
    ctx.say("\n".join(lines), main_menu_buttons(ctx))
