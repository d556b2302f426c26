"""The main menu: the buttons a linked member (and an officer) starts from."""

from __future__ import annotations

from functools import lru_cache

from bot.engine.buttons import OpenCommand
from bot.engine.context import Ctx
from bot.engine.events import Button
from messages import text

# The menu's rows, each a row of (label's catalog key, command): the members' rows, then the officers'.
_MEMBER_ROWS = (
    (("menu.campaigns", "campaigns"), ("menu.submit", "submit")),
    (("menu.my", "my"),),
    (("menu.help", "help"), ("menu.language", "language")),
)
_OFFICER_ROWS = (
    (("menu.newcampaign", "newcampaign"), ("menu.review", "review")),
    (("menu.broadcasts", "broadcasts"), ("menu.requests", "requests")),
    (("menu.stats", "stats"), ("menu.export", "export")),
    (("menu.invite", "invite"), ("menu.codes", "codes")),
)


def main_menu_buttons(ctx: Ctx) -> tuple[tuple[Button, ...], ...]:
    """Rows of buttons for what this person can do now."""
    return _main_menu(ctx.lang, ctx.who.is_officer)


@lru_cache(maxsize=16)
def _main_menu(language: str, officer: bool) -> tuple[tuple[Button, ...], ...]:
    # The same for every member (and every officer) in a language: built once, not at every /start.
    rows = _MEMBER_ROWS + _OFFICER_ROWS if officer else _MEMBER_ROWS
    return tuple(
        tuple(Button(text(language, key), OpenCommand(command).pack()) for key, command in row)
        for row in rows
    )


async def show_menu(ctx: Ctx) -> None:
    """Greet a linked member by name and unit and show the main menu."""
    assert ctx.who.member is not None and ctx.who.unit is not None
    lines = [ctx.t("menu.title", name=ctx.who.member.full_name, unit=ctx.who.unit.name)]
    if ctx.who.is_officer:
        lines.append(ctx.t("menu.officer_of", units=", ".join(unit.name for unit in ctx.who.led_units)))
    lines.append(ctx.t("menu.prompt"))
    ctx.say("\n".join(lines), main_menu_buttons(ctx))
