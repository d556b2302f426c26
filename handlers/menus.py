"""The main menu: the buttons a linked member (and an officer) starts from."""

from __future__ import annotations

from bot.engine.buttons import OpenCommand
from bot.engine.context import Ctx
from bot.engine.events import Button


def main_menu_buttons(ctx: Ctx) -> list[list[Button]]:
    """Rows of buttons for what this person can do now."""
    rows = [
        [
            ctx.button("menu.campaigns", OpenCommand("campaigns")),
            ctx.button("menu.submit", OpenCommand("submit")),
        ],
        [ctx.button("menu.my", OpenCommand("my"))],
        [ctx.button("menu.help", OpenCommand("help")), ctx.button("menu.language", OpenCommand("language"))],
    ]
    if ctx.who.is_officer:
        rows.append(
            [
                ctx.button("menu.newcampaign", OpenCommand("newcampaign")),
                ctx.button("menu.review", OpenCommand("review")),
            ]
        )
        rows.append(
            [
                ctx.button("menu.broadcasts", OpenCommand("broadcasts")),
                ctx.button("menu.requests", OpenCommand("requests")),
            ]
        )
        rows.append(
            [ctx.button("menu.stats", OpenCommand("stats")), ctx.button("menu.export", OpenCommand("export"))]
        )
        rows.append(
            [ctx.button("menu.invite", OpenCommand("invite")), ctx.button("menu.codes", OpenCommand("codes"))]
        )
    return rows


async def show_menu(ctx: Ctx) -> None:
    """Greet a linked member by name and unit and show the main menu."""
    assert ctx.who.member is not None and ctx.who.unit is not None
    lines = [ctx.t("menu.title", name=ctx.who.member.full_name, unit=ctx.who.unit.name)]
    if ctx.who.is_officer:
        lines.append(ctx.t("menu.officer_of", units=", ".join(unit.name for unit in ctx.who.led_units)))
    lines.append(ctx.t("menu.prompt"))
    ctx.say("\n".join(lines), main_menu_buttons(ctx))
