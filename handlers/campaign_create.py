"""Officers' /newcampaign: a guided form (buttons where choices exist, dates typed the Vietnamese way),
a preview with an edit of any field, then a saved draft that /launch announces.
"""

from __future__ import annotations

from datetime import date

from bot.domain.campaigns import (
    DESCRIPTION_MAX,
    TARGET_MAX,
    CampaignSpec,
    check_code,
    check_dates,
    check_title,
    check_unit_targets,
    create_draft,
    date_warnings,
    parse_unit_targets,
)
from bot.domain.problems import Problem
from bot.domain.records import Campaign
from bot.domain.titles import COLLECTIVE_TITLES, INDIVIDUAL_TITLES
from bot.domain.vn.parsing import ParseError, parse_date
from bot.engine.access import unit_in_charge
from bot.engine.buttons import (
    DialogControl,
    LaunchPreview,
    NewCampaignGoto,
    NewCampaignKind,
    NewCampaignStep,
    NewCampaignTitle,
    NewCampaignUnit,
)
from bot.engine.context import Ctx, Flow
from bot.engine.events import Button
from handlers.campaign_views import campaign_details, problem_text
from handlers.common import stale_button
from messages import Html, formatting

FLOW = "newcampaign"
CODE, TITLE, DESCRIPTION, KIND, UNIT = "code", "title", "description", "kind", "unit"
STARTS, ENDS, REG_DEADLINE, INI_DEADLINE, TARGET = (
    "starts_on",
    "ends_on",
    "registration_deadline",
    "initiative_deadline",
    "initiative_target",
)
INDIVIDUAL, COLLECTIVE, PREVIEW = "individual_titles", "collective_titles", "preview"
UNIT_TARGETS = "unit_targets"  # from the preview: targets for the units below, typed or split by roster
UNITS_SHOWN = 30
STEPS = (
    CODE,
    TITLE,
    DESCRIPTION,
    KIND,
    UNIT,
    STARTS,
    ENDS,
    REG_DEADLINE,
    INI_DEADLINE,
    TARGET,
    INDIVIDUAL,
    COLLECTIVE,
    PREVIEW,
)
DATE_STEPS = (STARTS, ENDS, REG_DEADLINE, INI_DEADLINE)
OPTIONAL_STEPS = (DESCRIPTION, INI_DEADLINE, TARGET)
TITLE_CHOICES = {INDIVIDUAL: INDIVIDUAL_TITLES, COLLECTIVE: COLLECTIVE_TITLES}


def _controls(ctx: Ctx, step: str) -> list[Button]:
    row = [ctx.button("dialog.skip", NewCampaignStep("skip"))] if step in OPTIONAL_STEPS else []
    return [
        *row,
        ctx.button("dialog.back", DialogControl("back")),
        ctx.button("dialog.cancel", DialogControl("cancel")),
    ]


async def new_campaign(ctx: Ctx) -> None:
    """Open the form."""
    await ctx.dialog.start(FLOW, CODE, kind="ongoing", individual_titles=[], collective_titles=[])
    ctx.say(ctx.t("newcampaign.intro"))
    await prompt(ctx)


async def prompt(ctx: Ctx) -> None:
    """Ask for the current step."""
    state = ctx.dialog.state
    assert state is not None
    step = state.step
    if step == KIND:
        ctx.say(
            ctx.t("newcampaign.ask_kind"),
            [
                [
                    ctx.button("campaigns.kind_ongoing", NewCampaignKind("ongoing")),
                    ctx.button("campaigns.kind_peak", NewCampaignKind("peak")),
                ],
                _controls(ctx, step),
            ],
        )
    elif step == UNIT:
        rows = [
            [
                Button(
                    ctx.t("newcampaign.unit_button", name=unit.name, code=unit.code),
                    NewCampaignUnit(unit.id).pack(),
                )
            ]
            for unit in ctx.who.led_units[:20]
        ]
        ctx.say(ctx.t("newcampaign.ask_unit"), [*rows, _controls(ctx, step)])
    elif step in TITLE_CHOICES:
        ctx.say(ctx.t(f"newcampaign.ask_{step}"), _title_rows(ctx, step))
    elif step == PREVIEW:
        await _preview(ctx)
    elif step == UNIT_TARGETS:
        await _ask_unit_targets(ctx)
    else:
        ctx.say(ctx.t(f"newcampaign.ask_{step}"), [_controls(ctx, step)])


def _title_rows(ctx: Ctx, step: str) -> list[list[Button]]:
    chosen = set(ctx.dialog.data.get(step, []))
    rows = [
        [
            Button(
                ("✅ " if code in chosen else "⬜ ") + ctx.t(f"titles.{code}"), NewCampaignTitle(code).pack()
            )
        ]
        for code in TITLE_CHOICES[step]
    ]
    return [*rows, [ctx.button("dialog.done", NewCampaignStep("done"))], _controls(ctx, step)]


def _spec(ctx: Ctx) -> CampaignSpec:
    data = ctx.dialog.data
    when = {step: date.fromisoformat(data[step]) if data.get(step) else None for step in DATE_STEPS}
    return CampaignSpec(
        code=data.get(CODE, ""),
        title=data.get(TITLE, ""),
        description=data.get(DESCRIPTION) or "",
        kind=data.get(KIND, "ongoing"),
        unit_code=data.get("unit_code", ""),
        starts_on=when[STARTS],
        ends_on=when[ENDS],
        registration_deadline=when[REG_DEADLINE],
        initiative_deadline=when[INI_DEADLINE],
        initiative_target=data.get(TARGET),
        individual_titles=list(data.get(INDIVIDUAL, [])),
        collective_titles=list(data.get(COLLECTIVE, [])),
        unit_targets=dict(data.get(UNIT_TARGETS) or {}),
        split_target=data.get("split_target"),
    )


def _targets_preview(ctx: Ctx, spec: CampaignSpec) -> Html | None:
    if spec.split_target is not None:
        return ctx.t("targets.preview_split")
    if not spec.unit_targets:
        return None
    shown = ", ".join(f"{code}: {formatting.number(n, ctx.lang)}" for code, n in spec.unit_targets.items())
    return ctx.t("targets.preview_units", targets=shown)


async def _ask_unit_targets(ctx: Ctx) -> None:
    """The units directly below the owning unit, with their codes and rosters, and how to give targets."""
    unit = await ctx.repos.units.by_code(str(ctx.dialog.data.get("unit_code", "")))
    assert unit is not None
    given = dict(ctx.dialog.data.get(UNIT_TARGETS) or {})
    lines = [ctx.t("targets.head_draft", unit=unit.name)]
    rosters = await ctx.repos.members.count_by_child(unit.id)
    for child in (await ctx.repos.units.children(unit.id))[:UNITS_SHOWN]:
        roster = formatting.number(rosters.get(child.id, 0), ctx.lang)
        target = (
            formatting.number(given[child.code], ctx.lang) if child.code in given else ctx.t("targets.none")
        )
        lines.append(ctx.t("targets.line", unit=child.name, code=child.code, roster=roster, target=target))
    ctx.say(
        Html("\n".join(lines) + "\n\n" + ctx.t("targets.ask")),
        [[ctx.button("targets.split_button", NewCampaignStep("split"))], _controls(ctx, UNIT_TARGETS)],
    )


async def _on_unit_targets(ctx: Ctx, text: str) -> None:
    owner = await ctx.repos.units.by_code(str(ctx.dialog.data.get("unit_code", "")))
    assert owner is not None
    entries, problems = parse_unit_targets(text)
    checked = await check_unit_targets(ctx.repos, owner, entries)
    if isinstance(checked, list) or problems:
        every = [*(checked if isinstance(checked, list) else []), *problems]
        ctx.say(Html("\n".join(problem_text(ctx, p) for p in every)), [_controls(ctx, UNIT_TARGETS)])
        return
    given = dict(ctx.dialog.data.get(UNIT_TARGETS) or {})
    for unit in await ctx.repos.units.many(list(checked)):
        given[unit.code] = checked[unit.id]  # the code as the roster spells it, whatever was typed
    await ctx.dialog.advance(PREVIEW, unit_targets=given, split_target=None)
    await prompt(ctx)


async def _preview(ctx: Ctx) -> None:
    spec = _spec(ctx)
    unit = await ctx.repos.units.by_code(spec.unit_code)
    assert unit is not None and spec.starts_on and spec.ends_on and spec.registration_deadline
    draft = Campaign(
        0,
        spec.code,
        spec.title,
        spec.description,
        spec.kind,
        unit.id,
        spec.starts_on,
        spec.ends_on,
        spec.registration_deadline,
        spec.initiative_deadline,
        spec.initiative_target,
        tuple(spec.individual_titles),
        tuple(spec.collective_titles),
        "draft",
    )
    warnings = [problem_text(ctx, warning) for warning in date_warnings(spec.starts_on, ctx.today)]
    body = "\n\n".join(
        [ctx.t("newcampaign.preview"), campaign_details(ctx.lang, draft, unit, ctx.today), *warnings]
    )
    targets = _targets_preview(ctx, spec)
    rows = [
        [
            ctx.button("newcampaign.save_button", NewCampaignStep("save")),
            ctx.button("newcampaign.edit_button", NewCampaignStep("edit")),
        ],
        [ctx.button("dialog.cancel", DialogControl("cancel"))],
    ]
    if await ctx.repos.units.children(unit.id):
        rows.insert(1, [ctx.button("targets.button", NewCampaignStep("targets"))])
    ctx.say(Html(body + ("\n" + targets if targets else "")), rows)


async def _next(ctx: Ctx, **data: object) -> None:
    """Store the answer and move on: to the preview when editing one field, else to the next step."""
    state = ctx.dialog.state
    assert state is not None
    if state.data.get("editing"):
        await ctx.dialog.advance(PREVIEW, **data)
    else:
        following = STEPS[STEPS.index(state.step) + 1]
        if following == UNIT and len(ctx.who.led_units) == 1:
            only = ctx.who.led_units[0]
            await ctx.dialog.advance(STARTS, **data, unit_code=only.code, unit_id=only.id)
        else:
            await ctx.dialog.advance(following, **data)
    await prompt(ctx)


def _complain(ctx: Ctx, problem: Problem | ParseError) -> None:
    state = ctx.dialog.state
    assert state is not None
    body = (
        problem_text(ctx, problem)
        if isinstance(problem, Problem)
        else ctx.t(f"parse.{problem.code}", **problem.params)
    )
    ctx.say(body, [_controls(ctx, state.step)])


async def on_text(ctx: Ctx, text: str) -> None:
    """Typed answers: code, title, description, dates, target; a unit code in the unit step."""
    state = ctx.dialog.state
    assert state is not None
    step = state.step
    if step == CODE:
        code = text.strip().upper()
        problem = check_code(code)
        if problem is None and await ctx.repos.campaigns.by_code(code) is not None:
            problem = Problem("code", "code_taken", {"code": code})
        if problem is None:
            await _next(ctx, code=code)
        else:
            _complain(ctx, problem)
    elif step == TITLE:
        title = " ".join(text.split())
        problem = check_title(title)
        if problem is None:
            await _next(ctx, title=title)
        else:
            _complain(ctx, problem)
    elif step == DESCRIPTION:
        if len(text) > DESCRIPTION_MAX:
            _complain(ctx, Problem("description", "description_length", {"high": DESCRIPTION_MAX}))
        else:
            await _next(ctx, description=text.strip())
    elif step in DATE_STEPS:
        await _on_date(ctx, step, text)
    elif step == TARGET:
        digits = text.replace(".", "").replace(",", "").replace(" ", "")
        if not digits.isdecimal() or not 1 <= int(digits) <= TARGET_MAX:  # isdigit() takes "²"
            _complain(ctx, Problem("initiative_target", "target_range", {"high": TARGET_MAX}))
        else:
            await _next(ctx, initiative_target=int(digits))
    elif step == UNIT_TARGETS:
        await _on_unit_targets(ctx, text)
    elif step == UNIT:
        unit = await ctx.repos.units.by_code(text.strip())
        if unit is None or not ctx.who.covers(unit):
            _complain(ctx, Problem("unit", "unit_out_of_scope", {"unit": text.strip()}))
        else:
            await _next(ctx, unit_code=unit.code, unit_id=unit.id)
    else:
        ctx.say(ctx.t("dialog.use_buttons"))
        await prompt(ctx)


async def _on_date(ctx: Ctx, step: str, text: str) -> None:
    parsed = parse_date(text, ctx.today)
    if isinstance(parsed, ParseError):
        _complain(ctx, parsed)
        return
    spec = _spec(ctx)
    setattr(spec, step, parsed)
    problems = check_dates(spec, ctx.today)  # the dates so far; all is checked again on saving
    if problems:
        _complain(ctx, problems[0])
        return
    for warning in date_warnings(parsed if step == STARTS else None, ctx.today):
        ctx.say(problem_text(ctx, warning))  # allowed, but said at once in case the year is a typo
    await _next(ctx, **{step: parsed.isoformat()})


FormButton = NewCampaignStep | NewCampaignKind | NewCampaignUnit | NewCampaignTitle | NewCampaignGoto


async def button(ctx: Ctx, pressed: FormButton) -> None:
    """The form's buttons: kind, unit, titles, skip, done, save, edit and the field to edit."""
    state = ctx.dialog.state
    if state is None or state.flow != FLOW:
        await stale_button(ctx)
        return
    step, data = state.step, state.data
    match pressed:
        case NewCampaignKind(kind=kind) if step == KIND:
            await _next(ctx, kind=kind)
        case NewCampaignUnit(unit=unit_id) if step == UNIT:
            unit = await unit_in_charge(ctx.repos, ctx.who, unit_id)
            if unit is None:
                await stale_button(ctx)
            else:
                await _next(ctx, unit_code=unit.code, unit_id=unit.id)
        case NewCampaignTitle(title=title) if step in TITLE_CHOICES and title in TITLE_CHOICES[step]:
            chosen = list(data.get(step, []))
            chosen = [c for c in chosen if c != title] if title in chosen else [*chosen, title]
            await ctx.dialog.update(**{step: chosen})
            ctx.say(ctx.t(f"newcampaign.ask_{step}"), _title_rows(ctx, step), replace=True)
        case NewCampaignStep(action="done") if step in TITLE_CHOICES:
            if step == COLLECTIVE and not data.get(INDIVIDUAL) and not data.get(COLLECTIVE):
                _complain(ctx, Problem("titles", "titles_none"))
            else:
                await _next(ctx)
        case NewCampaignStep(action="skip") if step in OPTIONAL_STEPS:
            await _next(ctx, **{step: None})
        case NewCampaignStep(action="edit") if step == PREVIEW:
            rows = [[ctx.button(f"newcampaign.field_{s}", NewCampaignGoto(s))] for s in STEPS[1:-1]]
            ctx.say(ctx.t("newcampaign.which_field"), rows)
        case NewCampaignGoto(step=goto) if step == PREVIEW and goto in STEPS[1:-1]:
            await ctx.dialog.advance(goto, editing=True)
            await prompt(ctx)
        case NewCampaignStep(action="save") if step == PREVIEW:
            await _save(ctx)
        case NewCampaignStep(action="targets") if step == PREVIEW:
            await ctx.dialog.advance(UNIT_TARGETS)
            await prompt(ctx)
        case NewCampaignStep(action="split") if step == UNIT_TARGETS:
            if not data.get(TARGET):
                _complain(ctx, Problem("split_target", "split_needs_target"))
            else:
                await ctx.dialog.advance(PREVIEW, unit_targets={}, split_target="roster")
                await prompt(ctx)
        case _:
            await stale_button(ctx)


async def _save(ctx: Ctx) -> None:
    result = await create_draft(ctx.repos, ctx.who, _spec(ctx), ctx.who.actor, ctx.now, ctx.today)
    if isinstance(result, list):
        ctx.say(
            Html("\n".join(problem_text(ctx, problem) for problem in result)),
            [
                [
                    ctx.button("newcampaign.edit_button", NewCampaignStep("edit")),
                    ctx.button("dialog.cancel", DialogControl("cancel")),
                ]
            ],
        )
        return
    await ctx.dialog.finish()
    ctx.say(
        ctx.t("newcampaign.saved", code=result.code, title=result.title),
        [[ctx.button("launch.button", LaunchPreview(result.id))]],
    )


NEW_CAMPAIGN_FLOW = Flow(
    FLOW, prompt, on_text, buttons_only=frozenset({KIND, INDIVIDUAL, COLLECTIVE, PREVIEW})
)
