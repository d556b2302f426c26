"""Help, language, cancel and back, and the polite answers to everything the bot does not understand."""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache

from bot.domain import preferences
from bot.engine.buttons import ChooseLanguage, DialogControl
from bot.engine.context import Ctx
from bot.engine.events import Button
from messages import Html, text


async def show_help(ctx: Ctx) -> None:
    """List the commands this person may use, with their Vietnamese aliases."""
    commands = tuple((command.name, command.alias) for command in ctx.routes.commands_for(ctx.who))
    ctx.say(help_text(ctx.lang, commands, linked=ctx.who.member is not None))


@lru_cache(maxsize=64)
def help_text(language: str, commands: tuple[tuple[str, str | None], ...], *, linked: bool) -> Html:
    """The help in ``language`` for these commands (name, alias): the same for everyone with the same
    commands, so it is put together once (on every /help it cost more than the rest of the update)."""
    lines = [text(language, "help.title")]
    for name, alias in commands:
        shown = text(language, "help.alias", alias=alias) if alias else ""
        lines.append(
            text(
                language,
                "help.line",
                command=name,
                alias=shown,
                description=text(language, f"commands.{name}"),
            )
        )
    if not linked:
        lines.append(text(language, "help.link_first"))
    return Html("\n".join(lines))


async def choose_language(ctx: Ctx) -> None:
    """Offer the languages the bot speaks."""
    ctx.say(
        ctx.t("language.choose"),
        [[ctx.button("language.vi", ChooseLanguage("vi")), ctx.button("language.en", ChooseLanguage("en"))]],
    )


async def set_language(ctx: Ctx, pressed: ChooseLanguage) -> None:
    """Remember the chosen language and answer in it from now on."""
    language = pressed.language
    await preferences.set_language(ctx.repos, ctx.who.account, language)
    ctx.who = replace(ctx.who, account=replace(ctx.who.account, language=language))
    ctx.menu_changed = True
    ctx.say(ctx.t("language.set"), replace=True)


async def cancel(ctx: Ctx) -> None:
    """Leave the open dialog, if any: its flow says what is kept, else it is abandoned."""
    state = ctx.dialog.state
    flow = ctx.routes.flows.get(state.flow) if state is not None else None
    if state is None:
        ctx.say(ctx.t("dialog.nothing_to_cancel"))
    elif flow is not None and flow.on_cancel is not None:
        await flow.on_cancel(ctx)
    else:
        ctx.say(ctx.t("dialog.cancelled"), remove_keyboard=True)
    await ctx.dialog.finish()


async def dialog_button(ctx: Ctx, pressed: DialogControl) -> None:
    """The Back and Cancel buttons every dialog step carries."""
    if pressed.action == "cancel":
        await cancel(ctx)
        return
    state = ctx.dialog.state
    flow = ctx.routes.flows.get(state.flow) if state is not None else None
    if flow is None:
        await stale_button(ctx)
        return
    await ctx.dialog.back()
    await flow.prompt(ctx)


async def unknown_command(ctx: Ctx) -> None:
    """A command the bot does not have."""
    ctx.say(ctx.t("fallback.unknown_command", command="/" + ctx.event.command))


async def stray_text(ctx: Ctx) -> None:
    """Text outside any dialog."""
    ctx.say(ctx.t("fallback.stray_text"))


async def unsupported(ctx: Ctx) -> None:
    """Stickers, voice notes, locations, files outside a form..."""
    ctx.say(ctx.t("fallback.unsupported"))


async def edited(ctx: Ctx) -> None:
    """An edited message: the bot acts on what was sent, so ask for a new message instead."""
    ctx.say(ctx.t("fallback.edited"))


def back_and_cancel(ctx: Ctx) -> list[Button]:
    """The row under a dialog's step: back one step, or cancel."""
    return [
        ctx.button("dialog.back", DialogControl("back")),
        ctx.button("dialog.cancel", DialogControl("cancel")),
    ]


async def stale_button(ctx: Ctx) -> None:
    """A button that no longer means anything (an old message, a finished dialog, a garbled or forged payload,
    or an object out of the person's reach: the same words whether it exists elsewhere or not at all)."""
    ctx.say(ctx.t("fallback.stale_button"))


async def link_first(ctx: Ctx) -> None:
    """A member command from someone not linked to the roster yet."""
    ctx.say(ctx.t("fallback.link_first"))


async def link_officer_first(ctx: Ctx) -> None:
    """An officer command from someone not linked yet: officers link by phone like everyone else."""
    ctx.say(ctx.t("fallback.link_first_officer"))


async def officers_only(ctx: Ctx) -> None:
    """An officer command from a member."""
    ctx.say(ctx.t("fallback.officers_only"))


async def dialog_expired(ctx: Ctx) -> None:
    """Input for a dialog that went stale and was forgotten."""
    ctx.say(ctx.t("dialog.expired"), remove_keyboard=True)
