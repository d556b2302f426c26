"""Officers' /broadcast (/thongbao), sent now, and /remind, sent at a chosen moment: the text, the unit (any
in their subtree: the units they lead and those directly below as buttons, any other by its code or a part of
its name), who receives it (everyone, or the unregistered or registered of a campaign open for that unit), a
preview with the number of recipients, then a confirmation. /remind also lists the planned reminders, which
their owner can cancel.
"""

from __future__ import annotations

from datetime import UTC, datetime

from bot.domain.audiences import Audience
from bot.domain.broadcasts import AuditEntry, held_for_quiet_hours, send_to_subtree
from bot.domain.campaigns import open_for
from bot.domain.problems import Problem
from bot.domain.records import Unit
from bot.domain.registrations import check_open
from bot.domain.reminders import TEXT_MAX, CustomReminder, cancel_planned, schedule_custom
from bot.domain.vn.parsing import ParseError, parse_moment
from bot.domain.vn.textkeys import search_key
from bot.engine.access import unit_in_charge
from bot.engine.buttons import (
    AnnounceStep,
    AnnounceUnit,
    AudienceEveryone,
    AudienceOfCampaign,
    CalendarList,
    CancelReminder,
)
from bot.engine.context import Ctx, Flow
from bot.engine.events import Button
from handlers.campaign_views import problem_text
from handlers.common import back_and_cancel, stale_button
from handlers.reminder_notices import unit_notice
from handlers.unit_pick import PICK_LIMIT, offered_units
from messages import LANGUAGES, Html, formatting

FLOW = "announce"
TEXT, WHEN, UNIT, AUDIENCE, PREVIEW = "text", "when", "unit", "audience", "preview"
LIST_LIMIT = 10
TITLE_WIDTH = 60  # a broadcast is named by the start of its text in progress lists and summaries


async def broadcast_command(ctx: Ctx) -> None:
    """/broadcast: free text to send now."""
    await ctx.dialog.start(FLOW, TEXT, mode="broadcast")
    await prompt(ctx)


async def remind_command(ctx: Ctx) -> None:
    """/remind: the planned reminders of the officer's units, and a button for a new one."""
    planned = await ctx.repos.reminders.planned(after=ctx.now, paths=ctx.who.led_paths)
    rows = [
        [
            ctx.button("announce.new_reminder", AnnounceStep("new")),
            ctx.button("announce.calendar_button", CalendarList()),
        ]
    ]
    if planned:
        lines = [ctx.t("announce.planned_head")]
        shown = planned[:LIST_LIMIT]
        campaigns = await ctx.repos.campaigns.many([s.rule.campaign_id for s in shown if s.rule.campaign_id])
        for sending in shown:
            campaign = campaigns.get(sending.rule.campaign_id) if sending.rule.campaign_id else None
            what = sending.rule.text or (campaign.title if campaign else "")
            if sending.rule.calendar_key is not None:
                what = ctx.t(f"calendar_name.{sending.rule.calendar_key}")
            lines.append(
                ctx.t(
                    "announce.planned_line",
                    at=formatting.moment(sending.due_at, ctx.lang, ctx.settings.zone),
                    kind=ctx.t(f"reminders.title_{sending.rule.kind}"),
                    what=what[:80],
                )
            )
            rows.append(
                [
                    Button(
                        ctx.t(
                            "announce.cancel_button",
                            at=formatting.moment(sending.due_at, ctx.lang, ctx.settings.zone),
                        ),
                        CancelReminder(sending.rule.id).pack(),
                    )
                ]
            )
        ctx.say("\n".join(lines), rows)
    else:
        ctx.say(ctx.t("announce.none_planned"), rows)


async def prompt(ctx: Ctx) -> None:
    """Ask for the current step."""
    state = ctx.dialog.state
    assert state is not None
    mode = state.data.get("mode", "broadcast")
    if state.step == TEXT:
        ctx.say(ctx.t(f"announce.ask_text_{mode}", high=TEXT_MAX), [back_and_cancel(ctx)])
    elif state.step == WHEN:
        ctx.say(ctx.t("announce.ask_when"), [back_and_cancel(ctx)])
    elif state.step == UNIT:
        ctx.say(
            ctx.t("announce.ask_unit"), [*_unit_rows(ctx, await offered_units(ctx)), back_and_cancel(ctx)]
        )
    elif state.step == AUDIENCE:
        unit = await _unit(ctx)
        if unit is None:
            await ctx.dialog.finish()
            await stale_button(ctx)
            return
        rows = [[ctx.button("announce.everyone", AudienceEveryone())]]
        for campaign in (await open_for(ctx.repos, unit))[:5]:
            rows.append(
                [
                    ctx.button(
                        "announce.unregistered",
                        AudienceOfCampaign("unregistered", campaign.id),
                        title=campaign.title,
                    )
                ]
            )
            rows.append(
                [
                    ctx.button(
                        "announce.registered",
                        AudienceOfCampaign("registered", campaign.id),
                        title=campaign.title,
                    )
                ]
            )
        if len(await offered_units(ctx)) > 1:
            rows.append([ctx.button("announce.other_unit", AnnounceStep("units"))])
        ctx.say(ctx.t("announce.ask_audience", unit=unit.name), [*rows, back_and_cancel(ctx)])
    else:
        await _preview(ctx)


def _unit_rows(ctx: Ctx, units: list[Unit]) -> list[list[Button]]:
    """A button per unit, named with its code (to type for a unit further down)."""
    return [
        [Button(ctx.t("announce.unit_button", name=unit.name, code=unit.code), AnnounceUnit(unit.id).pack())]
        for unit in units[:PICK_LIMIT]
    ]


async def _on_unit_text(ctx: Ctx, typed: str) -> None:
    """A unit typed by its code, or by a part of its name: searched within the officer's subtrees, taken
    when one unit matches, else the matches offered."""
    unit = await ctx.repos.units.by_code(typed)
    if unit is not None and ctx.who.covers(unit):
        await ctx.dialog.advance(AUDIENCE, unit_id=unit.id)
        await prompt(ctx)
        return
    key = search_key(typed)
    found = await ctx.repos.units.search(key, PICK_LIMIT + 1, within=ctx.who.led_paths) if key else []
    if len(found) == 1:
        await ctx.dialog.advance(AUDIENCE, unit_id=found[0].id)
        await prompt(ctx)
    elif found:
        more = ctx.t("join.more_units") if len(found) > PICK_LIMIT else ""
        ctx.say(
            ctx.t("announce.found_units", query=typed, more=more),
            [*_unit_rows(ctx, found), back_and_cancel(ctx)],
        )
    else:
        problem = Problem("unit", "unit_out_of_scope", {"unit": typed})
        ctx.say(problem_text(ctx, problem), [back_and_cancel(ctx)])


async def _unit(ctx: Ctx) -> Unit | None:
    unit_id = ctx.dialog.data.get("unit_id")
    return await unit_in_charge(ctx.repos, ctx.who, unit_id) if isinstance(unit_id, int) else None


def _audience(data: dict[str, object]) -> Audience | None:
    name = str(data.get("audience", "everyone"))
    campaign_id = data.get("campaign_id")
    return None if name == "everyone" else Audience(name, int(str(campaign_id)))


async def _audience_words(ctx: Ctx) -> Html:
    data = ctx.dialog.data
    name = str(data.get("audience", "everyone"))
    if name == "everyone":
        return ctx.t("announce.everyone")
    campaign = await ctx.repos.campaigns.get(int(data["campaign_id"]))
    return ctx.t(f"announce.{name}", title=campaign.title if campaign else "?")


async def _preview(ctx: Ctx) -> None:
    data = ctx.dialog.data
    unit = await _unit(ctx)
    if unit is None:
        await stale_button(ctx)
        return
    reminder = data.get("mode") == "remind"
    count = await ctx.repos.outbox.count_recipients(
        path=unit.path, audience=_audience(data), skip_opted_out=reminder
    )
    when = (
        ctx.t("announce.when_now")
        if not reminder
        else formatting.moment(datetime.fromisoformat(str(data["when"])), ctx.lang, ctx.settings.zone)
    )
    body = ctx.t(
        "announce.preview",
        unit=unit.name,
        audience=await _audience_words(ctx),
        when=when,
        count=formatting.number(count, ctx.lang),
        text=str(data["text"]),
    )
    ctx.say(body, [[ctx.button("announce.confirm_button", AnnounceStep("go"))], back_and_cancel(ctx)])


async def _advance_to_unit(ctx: Ctx, **data: object) -> None:
    """To the audience of the one unit the officer leads (another is a button away there), else to the
    choice of the unit."""
    if len(ctx.who.led_units) == 1:
        await ctx.dialog.advance(AUDIENCE, **data, unit_id=ctx.who.led_units[0].id)
    else:
        await ctx.dialog.advance(UNIT, **data)
    await prompt(ctx)


async def on_text(ctx: Ctx, typed: str) -> None:
    """The text of the message, or the moment of a reminder."""
    state = ctx.dialog.state
    assert state is not None
    if state.step == TEXT:
        body = typed.strip()
        if not body or len(body) > TEXT_MAX:
            ctx.say(
                problem_text(ctx, Problem("text", "reminder_text_length", {"high": TEXT_MAX})),
                [back_and_cancel(ctx)],
            )
            return
        if state.data.get("mode") == "remind":
            await ctx.dialog.advance(WHEN, text=body)
            await prompt(ctx)
        else:
            await _advance_to_unit(ctx, text=body)
    elif state.step == WHEN:
        moment = parse_moment(typed, ctx.today)
        # A moment that cannot be read, or has passed, is explained and the same step asked again.
        if isinstance(moment, ParseError):
            ctx.say(ctx.t(f"parse.{moment.code}", **moment.params))
            await prompt(ctx)
            return
        when = datetime.combine(moment[0], moment[1], tzinfo=ctx.settings.zone).astimezone(UTC)
        if when <= ctx.now:
            ctx.say(problem_text(ctx, Problem("when", "reminder_in_past")))
            await prompt(ctx)
            return
        await _advance_to_unit(ctx, when=when.isoformat())
    elif state.step == UNIT:
        await _on_unit_text(ctx, typed)
    else:
        ctx.say(ctx.t("dialog.use_buttons"))
        await prompt(ctx)


FormButton = AnnounceStep | AnnounceUnit | AudienceEveryone | AudienceOfCampaign


async def button(ctx: Ctx, pressed: FormButton) -> None:
    """ann:new opens a reminder; inside the form the unit (and another one, from the audience), the audience
    and the confirmation."""
    if pressed == AnnounceStep("new"):
        await ctx.dialog.start(FLOW, TEXT, mode="remind")
        await prompt(ctx)
        return
    state = ctx.dialog.state
    step = state.step if state is not None and state.flow == FLOW else None
    match pressed:
        case AnnounceUnit(unit=unit_id) if step == UNIT:
            unit = await unit_in_charge(ctx.repos, ctx.who, unit_id)
            if unit is None:
                await stale_button(ctx)
                return
            await ctx.dialog.advance(AUDIENCE, unit_id=unit.id)
            await prompt(ctx)
        case AnnounceStep(action="units") if step == AUDIENCE:
            await ctx.dialog.advance(UNIT)
            await prompt(ctx)
        case AudienceEveryone() if step == AUDIENCE:
            await ctx.dialog.advance(PREVIEW, audience="everyone", campaign_id=None)
            await prompt(ctx)
        case AudienceOfCampaign(audience=audience, campaign=campaign_id) if step == AUDIENCE:
            unit = await _unit(ctx)
            offered = {campaign.id for campaign in await open_for(ctx.repos, unit)} if unit else set()
            if campaign_id not in offered:  # only the campaigns offered: another unit's says nothing
                await stale_button(ctx)
                return
            await ctx.dialog.advance(PREVIEW, audience=audience, campaign_id=campaign_id)
            await prompt(ctx)
        case AnnounceStep(action="go") if step == PREVIEW:
            await _confirm(ctx)
        case _:
            await stale_button(ctx)


async def _confirm(ctx: Ctx) -> None:
    data = ctx.dialog.data
    unit = await _unit(ctx)
    if unit is None:
        await stale_button(ctx)
        return
    if data.get("mode") == "remind":
        campaign = (
            await ctx.repos.campaigns.get(int(data["campaign_id"])) if data.get("campaign_id") else None
        )
        result = await schedule_custom(
            ctx.repos,
            ctx.who,
            CustomReminder(
                unit=unit,
                text=str(data["text"]),
                when=datetime.fromisoformat(str(data["when"])),
                audience=str(data.get("audience", "everyone")),
                campaign=campaign,
            ),
            ctx.now,
        )
        await ctx.dialog.finish()
        if isinstance(result, Problem):
            ctx.say(problem_text(ctx, result))
            return
        ctx.say(
            ctx.t(
                "announce.scheduled",
                at=formatting.moment(datetime.fromisoformat(str(data["when"])), ctx.lang, ctx.settings.zone),
            )
        )
        return
    await ctx.dialog.finish()
    body = str(data["text"])
    audience = _audience(data)
    campaign_id = audience.campaign_id if audience else None
    campaign = await ctx.repos.campaigns.get(campaign_id) if campaign_id else None
    registering = campaign is None or check_open(campaign, ctx.today) is None
    sender = ctx.who.sender_for(unit)  # a district's notice to a base union below is headed by the district
    messages = {
        lang: unit_notice(lang, sender, body, audience, head="announce.head", registering=registering)
        for lang in LANGUAGES
    }
    sent = await send_to_subtree(
        ctx.repos,
        kind="broadcast",
        title=formatting.excerpt(body, TITLE_WIDTH),
        unit=unit,
        campaign_id=campaign_id,  # a campaign's export counts the broadcasts to its registered or not
        requested_by=ctx.who.account.id,
        messages={lang: message.to_json() for lang, message in messages.items()},
        default_language=ctx.settings.language,
        now=ctx.now,
        audience=audience,
        audit=AuditEntry(ctx.who.actor, "broadcast.send", f"unit:{unit.code}"),
    )
    said = ctx.t("announce.sent", count=formatting.number(sent.queued, ctx.lang))
    # Where quiet hours are kept, the outbox holds some until their quiet hours end: say so, and when.
    zone = ctx.settings.zone
    held = (
        await held_for_quiet_hours(ctx.repos, sent.broadcast_id, ctx.now, zone)
        if ctx.settings.quiet_hours
        else None
    )
    if held is not None and held.until is not None:
        at = formatting.moment(held.until, ctx.lang, zone)
        said = Html(said + "\n" + ctx.t("announce.held", held=formatting.number(held.count, ctx.lang), at=at))
    ctx.say(said)


async def cancel_button(ctx: Ctx, pressed: CancelReminder) -> None:
    """Cancel a planned reminder of one's units; only its owner may."""
    cancelled = await cancel_planned(ctx.repos, pressed.rule, ctx.who, ctx.now)
    if isinstance(cancelled, Problem):  # gone already, or another officer's
        ctx.say(problem_text(ctx, cancelled))
        return
    ctx.say(ctx.t("announce.cancelled", count=formatting.number(cancelled, ctx.lang)))


ANNOUNCE_FLOW = Flow(FLOW, prompt, on_text, buttons_only=frozenset({AUDIENCE, PREVIEW}))
