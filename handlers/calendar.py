"""The union year's calendar for officers (from /remind): switch each event's reminders on or off for a
unit, and put the reminder in their own words."""

from __future__ import annotations

from bot.domain import calendar_reminders as domain
from bot.domain.calendar.union_calendar import load_events
from bot.domain.problems import Problem
from bot.domain.records import Unit
from bot.engine.access import unit_in_charge
from bot.engine.buttons import (
    CalendarList,
    CalendarStandardWords,
    CalendarSwitch,
    CalendarUnit,
    CalendarWords,
    DialogControl,
)
from bot.engine.context import Ctx, Flow
from bot.engine.events import Button
from handlers.campaign_views import problem_text
from handlers.common import stale_button
from messages import Html, formatting

WORDS_FLOW = "calendar_words"


async def show(ctx: Ctx, unit: Unit, replace: bool = False) -> None:
    """Every event of the calendar with its coming date and its switch, for one unit."""
    rows = []
    lines = [ctx.t("calendar_ui.head", unit=unit.name)]
    switched_on = await ctx.repos.reminders.switched_on(domain.KIND, unit.id)
    for event in load_events():
        day, remind_on = domain.next_occurrence(event, ctx.today)
        lines.append(
            ctx.t(
                "calendar_ui.event_line",
                name=ctx.t(f"calendar_name.{event.key}"),
                date=formatting.day(day, ctx.lang),
                remind=", ".join(formatting.day(when, ctx.lang) for when in remind_on),
            )
        )
        on = event.key in switched_on
        name = ctx.t(f"calendar_name.{event.key}")
        row = [Button(("✅ " if on else "⬜ ") + name, CalendarSwitch(unit.id, event.key).pack())]
        if on:
            row.append(ctx.button("calendar_ui.words_button", CalendarWords(unit.id, event.key)))
        rows.append(row)
    ctx.say(Html("\n".join(lines)), rows, replace=replace)


async def list_button(ctx: Ctx, pressed: CalendarList) -> None:
    """The calendar of the officer's unit, or the units to pick from."""
    if len(ctx.who.led_units) == 1:
        await show(ctx, ctx.who.led_units[0])
    else:
        ctx.say(
            ctx.t("calendar_ui.pick_unit"),
            [[Button(unit.name, CalendarUnit(unit.id).pack())] for unit in ctx.who.led_units[:20]],
        )


async def unit_button(ctx: Ctx, pressed: CalendarUnit) -> None:
    """The calendar of a unit picked from the list."""
    unit = await unit_in_charge(ctx.repos, ctx.who, pressed.unit)
    if unit is None:
        await stale_button(ctx)
    else:
        await show(ctx, unit)


async def switch_button(ctx: Ctx, pressed: CalendarSwitch) -> None:
    """Switch an event's reminders on or off for a unit the officer covers."""
    unit = await unit_in_charge(ctx.repos, ctx.who, pressed.unit)
    if unit is None or pressed.event not in {event.key for event in load_events()}:
        await stale_button(ctx)
        return
    rule = await ctx.repos.reminders.active_rule(domain.KIND, unit.id, pressed.event)
    result: Problem | int | None
    if rule is None:
        result = await domain.switch_on(ctx.repos, ctx.who, unit, pressed.event, ctx.settings.zone, ctx.now)
    else:
        result = await domain.switch_off(ctx.repos, ctx.who, unit, pressed.event, ctx.now)
    if isinstance(result, Problem):
        ctx.say(problem_text(ctx, result))
        return
    await show(ctx, unit, replace=True)


async def words_button(ctx: Ctx, pressed: CalendarWords) -> None:
    """Start putting an event's reminder in the unit's own words."""
    unit = await unit_in_charge(ctx.repos, ctx.who, pressed.unit)
    if unit is None or pressed.event not in {event.key for event in load_events()}:
        await stale_button(ctx)
        return
    await ctx.dialog.start(WORDS_FLOW, "words", unit_id=unit.id, key=pressed.event)
    await prompt(ctx)


async def standard_words(ctx: Ctx, pressed: CalendarStandardWords) -> None:
    """Keep the standard text."""
    if ctx.dialog.is_in(WORDS_FLOW):
        await _save_words(ctx, None)
    else:
        await stale_button(ctx)


async def prompt(ctx: Ctx) -> None:
    """Ask for the officer's own words, showing the standard text and the placeholders they may use."""
    key = str(ctx.dialog.data.get("key", ""))
    ctx.say(
        ctx.t("calendar_ui.ask_words", standard=ctx.t(f"calendar.{key}", unit="…", date="…", days_left="…")),
        [
            [
                ctx.button("calendar_ui.standard_button", CalendarStandardWords()),
                ctx.button("dialog.cancel", DialogControl("cancel")),
            ]
        ],
    )


async def on_text(ctx: Ctx, words: str) -> None:
    """The officer's own words for the event."""
    await _save_words(ctx, words)


async def _save_words(ctx: Ctx, words: str | None) -> None:
    data = ctx.dialog.data
    unit_id = data.get("unit_id")
    unit = await unit_in_charge(ctx.repos, ctx.who, unit_id) if isinstance(unit_id, int) else None
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
