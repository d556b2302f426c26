"""Self-assessment (tự đánh giá) when a campaign's evaluation opens: /selfassess (/tudanhgia) or a reminder's
button; each pledge reached or not with the figure achieved, then the titles still sought, then submit.
A member assesses their own registration; an officer a collective's of a unit they cover. Every answer is
kept in the draft row as it is given, so /tudanhgia resumes where it stopped, after a restart or a day away.
"""

from __future__ import annotations

from bot.domain import evaluation as domain
from bot.domain.records import Campaign, PledgeResult, Registration, SelfAssessment, Unit
from bot.domain.registrations import MAX_PLEDGES
from bot.domain.vn.parsing import ParseError
from bot.engine.buttons import (
    AssessCampaign,
    AssessClaim,
    AssessPledge,
    AssessStart,
    AssessStep,
    AssessTitle,
)
from bot.engine.context import Ctx, Flow
from bot.engine.events import Button
from handlers.campaign_views import (
    pledge_result_lines,
    problem_text,
    switch_title,
    title_names,
    title_switches,
)
from handlers.common import back_and_cancel, stale_button
from messages import Html

FLOW = "assess"
PLEDGE, FIGURE, CHECK, TITLES, CONFIRM = "pledge", "figure", "check", "titles", "confirm"
PICK_LIMIT = 20


def _step(kind: str, index: int) -> str:
    """A pledge's own step ("pledge:0", "figure:0", "check:0" where an answer claims more than the figures):
    Back returns to the pledge before, as it was asked."""
    return f"{kind}:{index}"


def _parse_step(step: str) -> tuple[str, int]:
    kind, _, index = step.partition(":")
    return kind, int(index) if index.isdecimal() else 0


async def _holder_units(ctx: Ctx, registrations: list[Registration]) -> list[tuple[Registration, Unit]]:
    """Each registration this person may assess with its unit, in their order: their own, and collectives'
    they cover (their units read in one statement)."""
    ids = [r.unit_id for r in registrations if r.member_id is None and r.unit_id is not None]
    units = {unit.id: unit for unit in await ctx.repos.units.many(ids)}
    holders = []
    for registration in registrations:
        if registration.member_id is not None:
            own = ctx.who.member is not None and registration.member_id == ctx.who.member.id
            unit = ctx.who.unit if own else None
        else:
            unit = units.get(registration.unit_id) if registration.unit_id is not None else None
            unit = unit if unit is not None and ctx.who.covers(unit) else None
        if unit is not None:
            holders.append((registration, unit))
    return holders


async def _holder_unit(ctx: Ctx, registration: Registration) -> Unit | None:
    """The unit of a registration this person may assess: their own, or a collective's they cover."""
    holders = await _holder_units(ctx, [registration])
    return holders[0][1] if holders else None


async def _assessable(ctx: Ctx) -> list[tuple[Registration, Campaign, Unit]]:
    """This person's registrations whose evaluation is open: their own, and collectives' they cover."""
    found: list[Registration] = []
    if ctx.who.member is not None:
        found += [
            r for r in await ctx.repos.registrations.all_of_member(ctx.who.member.id) if r.status == "active"
        ]
    found += await ctx.repos.evaluation.collectives_within(ctx.who.led_paths, ctx.today, PICK_LIMIT)
    campaigns = await ctx.repos.campaigns.many([registration.campaign_id for registration in found])
    open_ones = []
    for registration, unit in await _holder_units(ctx, found):
        campaign = campaigns[registration.campaign_id]
        if domain.check_open(campaign, ctx.today) is None:
            open_ones.append((registration, campaign, unit))
    return open_ones[:PICK_LIMIT]


async def assess_command(ctx: Ctx) -> None:
    """/tudanhgia: the self-assessment of the one registration whose evaluation is open, or a choice."""
    await _start_or_pick(ctx, await _assessable(ctx))


async def _start_or_pick(ctx: Ctx, found: list[tuple[Registration, Campaign, Unit]]) -> None:
    """Start the self-assessment of the one registration found, or offer each of them."""
    if not found:
        ctx.say(ctx.t("assess.none"))
        return
    if len(found) == 1:
        await _start(ctx, *found[0])
        return
    rows = []
    for registration, campaign, unit in found:
        label = campaign.title if registration.member_id is not None else f"{campaign.title} — {unit.name}"
        rows.append([Button(label, AssessStart(registration.id).pack())])
    ctx.say(ctx.t("assess.pick"), rows)


async def campaign_button(ctx: Ctx, pressed: AssessCampaign) -> None:
    """A reminder's button: the person's own registration for that campaign, or the collective's of a unit
    they lead, those not yet assessed first (a choice when there are several)."""
    campaign = await ctx.repos.campaigns.get(pressed.campaign)
    if campaign is None:
        await stale_button(ctx)
        return
    found: list[Registration] = []
    if ctx.who.member is not None:
        own = await ctx.repos.registrations.of_member(campaign.id, ctx.who.member.id)
        found += [own] if own is not None and own.status == "active" else []
    found += await ctx.repos.registrations.collective_within(campaign.id, ctx.who.led_paths)
    theirs = [(registration, campaign, unit) for registration, unit in await _holder_units(ctx, found)]
    if not theirs:
        await stale_button(ctx)
        return
    assessed = await ctx.repos.evaluation.assessments([registration.id for registration, _, _ in theirs])
    waiting = [
        entry
        for entry in theirs
        if entry[0].id not in assessed or assessed[entry[0].id].status != "submitted"
    ]
    await _start_or_pick(ctx, (waiting or theirs)[:PICK_LIMIT])


async def start_button(ctx: Ctx, pressed: AssessStart) -> None:
    """One registration picked from /tudanhgia's list."""
    registration = await ctx.repos.registrations.get(pressed.registration)
    unit = await _holder_unit(ctx, registration) if registration is not None else None
    campaign = await ctx.repos.campaigns.get(registration.campaign_id) if registration is not None else None
    if registration is None or unit is None or campaign is None or registration.status != "active":
        await stale_button(ctx)
        return
    await _start(ctx, registration, campaign, unit)


def _results(data: dict[str, object], count: int) -> list[PledgeResult | None]:
    raw = data.get("results")
    items = list(raw) if isinstance(raw, list) else []
    items += [None] * (count - len(items))
    return [PledgeResult(**item) if isinstance(item, dict) else None for item in items[:count]]


def _as_data(results: list[PledgeResult | None]) -> list[dict[str, object] | None]:
    return [{"reached": r.reached, "figure": r.figure} if r else None for r in results]


async def _start(ctx: Ctx, registration: Registration, campaign: Campaign, unit: Unit) -> None:
    problem = domain.check_open(campaign, ctx.today)
    if problem is not None:
        ctx.say(problem_text(ctx, problem))
        return
    found = await ctx.repos.evaluation.assessment(registration.id)
    if found is not None and found.status == "submitted":
        _say_submitted(ctx, registration, campaign, found)
        return
    results = list(found.results) if found is not None else []
    results += [None] * (len(registration.pledges) - len(results))
    titles = list(found.titles) if found is not None else list(registration.titles)
    unanswered = next((i for i, result in enumerate(results) if result is None), None)
    step = _step(PLEDGE, unanswered) if unanswered is not None else TITLES
    await ctx.dialog.start(
        FLOW, step, registration_id=registration.id, results=_as_data(results), titles=titles, reached=None
    )
    key = "assess.intro_resumed" if found is not None else "assess.intro"
    whose = ctx.t("assess.collective_part", unit=unit.name) if registration.member_id is None else ""
    ctx.say(ctx.t(key, title=campaign.title, count=len(registration.pledges), unit=whose))
    await prompt(ctx)


def _say_submitted(ctx: Ctx, registration: Registration, campaign: Campaign, found: SelfAssessment) -> None:
    lines = [ctx.t("assess.already_submitted", title=campaign.title)]
    lines += pledge_result_lines(ctx.lang, registration, list(found.results))
    lines.append(ctx.t("assess.summary_titles", titles=title_names(ctx.lang, list(found.titles))))
    ctx.say(Html("\n".join(lines)))


async def _open_form(ctx: Ctx) -> tuple[Registration, Campaign, str] | None:
    """The open form's registration and campaign, still this person's to assess, and its current step."""
    state = ctx.dialog.state
    if state is None or state.flow != FLOW:
        return None
    registration_id = ctx.dialog.data.get("registration_id")
    registration = (
        await ctx.repos.registrations.get(registration_id) if isinstance(registration_id, int) else None
    )
    if registration is None or await _holder_unit(ctx, registration) is None:
        return None
    campaign = await ctx.repos.campaigns.get(registration.campaign_id)
    return (registration, campaign, state.step) if campaign is not None else None


def _title_rows(ctx: Ctx, registration: Registration) -> list[list[Button]]:
    return title_switches(ctx, registration.titles, AssessTitle, AssessStep("done"))


async def prompt(ctx: Ctx) -> None:
    """Ask for the current step: a pledge reached or not, its figure, the titles, the confirmation."""
    form = await _open_form(ctx)
    if form is None:
        await ctx.dialog.finish()
        await stale_button(ctx)
        return
    registration, campaign, step = form
    kind, index = _parse_step(step)
    if kind in (PLEDGE, FIGURE, CHECK) and index < len(registration.pledges):
        pledge = registration.pledges[index]
        params = {
            "number": index + 1,
            "count": len(registration.pledges),
            "content": pledge.content,
            "unit": pledge.unit,
            "planned": pledge.figure,
        }
        recorded = (await _recorded(ctx, registration, campaign))[index]
        # What the product records (recognised initiatives) is shown beside the pledge as it is asked.
        known = "\n" + ctx.t("assess.recorded_initiatives", recorded=recorded) if recorded is not None else ""
        if kind == PLEDGE:
            choices = [
                ctx.button("assess.reached_button", AssessPledge("yes")),
                ctx.button("assess.missed_button", AssessPledge("no")),
            ]
            ctx.say(Html(ctx.t("assess.ask_pledge", **params) + known), [choices, back_and_cancel(ctx)])
        elif kind == FIGURE:
            ctx.say(Html(ctx.t("assess.ask_figure", **params) + known), [back_and_cancel(ctx)])
        else:
            claimed = _claimed(ctx.dialog.data)
            doubts = domain.claim_doubts(pledge, claimed, recorded) if claimed is not None else []
            lines = [
                ctx.t("assess.check_head", **params),
                *(problem_text(ctx, doubt) for doubt in doubts),
                ctx.t("assess.check_ask"),
            ]
            choices = [
                ctx.button("assess.keep_button", AssessClaim("keep")),
                ctx.button("assess.change_button", AssessClaim("change")),
            ]
            ctx.say(Html("\n".join(lines)), [choices, back_and_cancel(ctx)])
    elif kind == TITLES:
        ctx.say(ctx.t("assess.ask_titles"), _title_rows(ctx, registration))
    else:
        results = _results(ctx.dialog.data, len(registration.pledges))
        lines = [
            ctx.t("assess.summary_head", title=campaign.title),
            *pledge_result_lines(ctx.lang, registration, results),
        ]
        lines.append(ctx.t("assess.summary_titles", titles=title_names(ctx.lang, ctx.dialog.data["titles"])))
        lines.append(ctx.t("assess.summary_final"))
        ctx.say(
            Html("\n".join(lines)),
            [[ctx.button("assess.submit_button", AssessStep("submit"))], back_and_cancel(ctx)],
        )


async def _keep_draft(ctx: Ctx, registration: Registration, results: list[PledgeResult | None]) -> bool:
    """Write the answers so far to the draft; False (said) when it was submitted meanwhile."""
    titles = list(ctx.dialog.data.get("titles", []))
    problem = await domain.save_draft(ctx.repos, registration, results, titles, ctx.who.actor, ctx.now)
    if problem is not None:
        await ctx.dialog.finish()
        ctx.say(problem_text(ctx, problem))
        return False
    return True


async def on_text(ctx: Ctx, text: str) -> None:
    """The figure achieved against the current pledge."""
    form = await _open_form(ctx)
    if form is None:
        await stale_button(ctx)
        return
    registration, _, step = form
    kind, index = _parse_step(step)
    if kind != FIGURE or index >= len(registration.pledges):
        ctx.say(ctx.t("dialog.use_buttons"))
        await prompt(ctx)
        return
    figure = domain.parse_figure(text)
    if isinstance(figure, ParseError):
        ctx.say(ctx.t(f"parse.{figure.code}", **figure.params), [back_and_cancel(ctx)])
        return
    result = PledgeResult(bool(ctx.dialog.data.get("reached")), figure)
    recorded = (await _recorded(ctx, registration, form[1]))[index]
    if domain.claim_doubts(registration.pledges[index], result, recorded):
        # Reached with less than pledged, or more initiatives than recognised: asked to confirm, not refused.
        await ctx.dialog.advance(_step(CHECK, index), claimed=figure)
        await prompt(ctx)
        return
    await _answer(ctx, registration, index, result)


async def _answer(ctx: Ctx, registration: Registration, index: int, result: PledgeResult) -> None:
    """Keep a pledge's answer in the draft and go on to the next pledge, or to the titles."""
    results = _results(ctx.dialog.data, len(registration.pledges))
    results[index] = result
    await ctx.dialog.update(results=_as_data(results))
    if not await _keep_draft(ctx, registration, results):
        return
    following = index + 1
    await ctx.dialog.advance(_step(PLEDGE, following) if following < len(registration.pledges) else TITLES)
    await prompt(ctx)


def _claimed(data: dict[str, object]) -> PledgeResult | None:
    """The answer waiting for confirmation at a pledge's check step."""
    figure = data.get("claimed")
    return PledgeResult(bool(data.get("reached")), figure) if isinstance(figure, str) else None


async def _recorded(ctx: Ctx, registration: Registration, campaign: Campaign) -> list[int | None]:
    unit = await _holder_unit(ctx, registration)
    assert unit is not None  # the open form checked it
    return await domain.recorded_figures(ctx.repos, campaign, registration, unit)


async def claim_button(ctx: Ctx, pressed: AssessClaim) -> None:
    """An answer that claims more than the figures: kept as given (the evaluation decides), or asked again."""
    form = await _open_form(ctx)
    kind, index = _parse_step(form[2]) if form is not None else ("", 0)
    claimed = _claimed(ctx.dialog.data)
    if form is None or kind != CHECK or claimed is None or index >= len(form[0].pledges):
        await stale_button(ctx)
        return
    if pressed.action == "keep":
        await _answer(ctx, form[0], index, claimed)
    else:
        await ctx.dialog.advance(_step(PLEDGE, index))
        await prompt(ctx)


async def pledge_button(ctx: Ctx, pressed: AssessPledge) -> None:
    """The current pledge reached or not: then its figure is asked for."""
    form = await _open_form(ctx)
    kind, index = _parse_step(form[2]) if form is not None else ("", 0)
    if kind != PLEDGE:
        await stale_button(ctx)
        return
    await ctx.dialog.advance(_step(FIGURE, index), reached=pressed.reached == "yes")
    await prompt(ctx)


async def title_button(ctx: Ctx, pressed: AssessTitle) -> None:
    """A title still sought, switched on or off, and kept in the draft at once like every answer."""
    form = await _open_form(ctx)
    if form is None or form[2] != TITLES or pressed.title not in form[0].titles:
        await stale_button(ctx)
        return
    registration = form[0]
    await switch_title(ctx, pressed.title)
    if await _keep_draft(ctx, registration, _results(ctx.dialog.data, len(registration.pledges))):
        ctx.say(ctx.t("assess.ask_titles"), _title_rows(ctx, registration), replace=True)


async def step_button(ctx: Ctx, pressed: AssessStep) -> None:
    """Done with the titles; submit."""
    form = await _open_form(ctx)
    if form is None:
        await stale_button(ctx)
        return
    registration, campaign, step = form
    results = _results(ctx.dialog.data, len(registration.pledges))
    if pressed.action == "done" and step == TITLES:
        if not ctx.dialog.data.get("titles"):
            ctx.say(ctx.t("problem.titles_none"))
            return
        if await _keep_draft(ctx, registration, results):
            await ctx.dialog.advance(CONFIRM)
            await prompt(ctx)
    elif pressed.action == "submit" and step == CONFIRM:
        unit = await _holder_unit(ctx, registration)
        assert unit is not None
        problem = await domain.submit(
            ctx.repos,
            registration,
            unit,
            campaign,
            results,
            list(ctx.dialog.data.get("titles", [])),
            ctx.who.actor,
            ctx.now,
            ctx.today,
        )
        await ctx.dialog.finish()
        if problem is not None:
            ctx.say(problem_text(ctx, problem))
        elif registration.member_id is None:  # a collective's: its officers hear the outcome, not "bạn"
            ctx.say(ctx.t("assess.submitted_collective", title=campaign.title, unit=unit.name))
        else:
            ctx.say(ctx.t("assess.submitted", title=campaign.title))
    else:
        await stale_button(ctx)


async def on_cancel(ctx: Ctx) -> None:
    """Cancel keeps the answers given: /tudanhgia goes on from there."""
    ctx.say(ctx.t("assess.kept"), remove_keyboard=True)


ASSESS_FLOW = Flow(
    FLOW,
    prompt,
    on_text,
    on_cancel=on_cancel,
    buttons_only=frozenset(
        {TITLES, CONFIRM, *(_step(kind, i) for kind in (PLEDGE, CHECK) for i in range(MAX_PLEDGES))}
    ),
)
