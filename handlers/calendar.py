"""The union year's calendar for officers (from /remind): switch each event's reminders on or off for a
unit, and put the reminder in their own words."""

from __future__ import annotations

from bot import calendar_reminders as domain
from bot.campaigns import Problem
from bot.events import Button
from bot.union_calendar import load_events
from handlers.campaign_views import problem_text
from handlers.common import stale_button
from handlers.context import Ctx, Flow
from storage.records import Unit

WORDS_FLOW = "calendar_words"


async def _unit(ctx: Ctx, raw: str) -> Unit | None:
    unit = await ctx.repos.units.get(int(raw)) if raw.isdigit() else None
    return unit if unit is not None and ctx.who.covers(unit) else None


async def show(ctx: Ctx, unit: Unit, replace: bool = False) -> None:
    """Every event of the calendar with its switch, for one unit."""
    rows = []
    for event in load_events():
        on = await ctx.repos.reminders.active_rule(domain.KIND, unit.id, event.key) is not None
        name = ctx.t(f"calendar_name.{event.key}")
        row = [Button(("✅ " if on else "⬜ ") + name, f"cal:t:{unit.id}:{event.key}")]
        if on:
            row.append(ctx.button("calendar_ui.words_button", f"cal:w:{unit.id}:{event.key}"))
        rows.append(row)
    ctx.say(ctx.t("calendar_ui.head", unit=unit.name), rows, replace=replace)


async def button(ctx: Ctx) -> None:
    """cal:list, cal:t:UNIT:KEY (switch), cal:w:UNIT:KEY (own words)."""
    args = ctx.payload_args
    if args == ["list"]:
        if len(ctx.who.led_units) == 1:
            await show(ctx, ctx.who.led_units[0])
        else:
            ctx.say(
                ctx.t("calendar_ui.pick_unit"),
                [[Button(unit.name, f"cal:u:{unit.id}")] for unit in ctx.who.led_units[:20]],
            )
        return
    if args == ["w", "std"] and ctx.dialog.is_in(WORDS_FLOW):
        await _save_words(ctx, None)
        return
    unit = await _unit(ctx, args[1]) if len(args) >= 2 else None
    keys = {event.key for event in load_events()}
    if unit is None:
        await stale_button(ctx)
    elif args[0] == "u":
        await show(ctx, unit)
    elif args[0] == "t" and len(args) == 3 and args[2] in keys:
        rule = await ctx.repos.reminders.active_rule(domain.KIND, unit.id, args[2])
        result: Problem | int | None
        if rule is None:
            result = await domain.switch_on(ctx.repos, ctx.who, unit, args[2], ctx.settings.zone, ctx.now)
        else:
            result = await domain.switch_off(ctx.repos, ctx.who, unit, args[2], ctx.now)
        if isinstance(result, Problem):
            ctx.say(problem_text(ctx, result))
            return
        await show(ctx, unit, replace=True)
    elif args[0] == "w" and len(args) == 3 and args[2] in keys:
        await ctx.dialog.start(WORDS_FLOW, "words", unit_id=unit.id, key=args[2])
        await prompt(ctx)
    else:
        await stale_button(ctx)


async def prompt(ctx: Ctx) -> None:
    """Ask for the officer's own words, showing the standard text."""
    key = str(ctx.dialog.data.get("key", ""))
    ctx.say(
        ctx.t("calendar_ui.ask_words", standard=ctx.t(f"calendar.{key}", unit="…", date="…")),
        [[ctx.button("calendar_ui.standard_button", "cal:w:std"), ctx.button("dialog.cancel", "dlg:cancel")]],
    )


async def on_text(ctx: Ctx, words: str) -> None:
    """The officer's own words for the event."""
    await _save_words(ctx, words)


async def _save_words(ctx: Ctx, words: str | None) -> None:
    data = ctx.dialog.data
    unit = await _unit(ctx, str(data.get("unit_id", "")))
    if unit is None:
        await stale_button(ctx)
        return
    problem = await domain.set_words(ctx.repos, ctx.who, unit, str(data["key"]), words, ctx.now)
    if problem is not None:
        ctx.say(problem_text(ctx, problem))
        return
    await ctx.dialog.finish()
    ctx.say(ctx.t("calendar_ui.words_saved"))
    await show(ctx, unit)


CALENDAR_WORDS_FLOW = Flow(WORDS_FLOW, prompt, on_text)
