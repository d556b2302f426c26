"""Registering for a campaign (đăng ký thi đua): /join CODE or the Register button, titles, pledges,
the initiative behind a Chiến sĩ thi đua candidacy, a confirmation; change (the current pledges shown and
kept unless replaced or removed) or withdraw (after a confirmation) until the deadline; /my lists one's
registrations. Officers register a collective of a unit they cover the same way.
"""

from __future__ import annotations

from dataclasses import asdict

from bot.domain import registrations as domain
from bot.domain.campaigns import concerns
from bot.domain.problems import Problem
from bot.domain.records import Campaign, Pledge, Registration, Unit
from bot.domain.titles import NEEDS_INITIATIVE
from bot.engine.access import campaign_scope
from bot.engine.buttons import (
    CollectiveStart,
    ConfirmWithdrawal,
    Register,
    RegisterStep,
    RegisterTitle,
    RegisterUnit,
    ViewCampaign,
    WithdrawRegistration,
)
from bot.engine.context import Ctx, Flow
from bot.engine.events import Button
from handlers.campaign_views import (
    problem_text,
    registration_lines,
    switch_title,
    title_names,
    title_switches,
)
from handlers.campaigns import list_campaigns
from handlers.common import back_and_cancel, link_first, stale_button
from handlers.initiatives import initiatives_section
from handlers.notify import Localized, fellow_officers, notify
from messages import Html, formatting

FLOW, COLLECTIVE_FLOW = "register", "collective"
UNIT, TITLES, PLEDGES, INITIATIVE, CONFIRM = "unit", "titles", "pledges", "initiative", "confirm"


async def _campaign(ctx: Ctx) -> Campaign | None:
    """The campaign of the open registration form (its id was stored by the bot itself)."""
    campaign_id = ctx.dialog.data.get("campaign_id")
    return await ctx.repos.campaigns.get(campaign_id) if isinstance(campaign_id, int) else None


async def join(ctx: Ctx) -> None:
    """/join CODE: register for that campaign; /join alone lists the open ones."""
    if ctx.who.member is None:
        await link_first(ctx)
        return
    if not ctx.event.args:
        await list_campaigns(ctx)  # the list carries the buttons to register
        return
    campaign = await ctx.repos.campaigns.by_code(ctx.event.args[0])
    if campaign is None:
        ctx.say(ctx.t("problem.code_unknown", code=ctx.event.args[0]))
        return
    await _start(ctx, campaign)


async def _concerns_member(ctx: Ctx, campaign: Campaign) -> bool:
    """True for a launched or closed campaign of the member's own unit or a unit above it."""
    assert ctx.who.unit is not None
    return campaign.status != "draft" and await concerns(ctx.repos, campaign, ctx.who.unit)


async def _start(ctx: Ctx, campaign: Campaign) -> None:
    assert ctx.who.member is not None and ctx.who.unit is not None
    problem = domain.check_open(campaign, ctx.today)
    if problem is None and not await concerns(ctx.repos, campaign, ctx.who.unit):
        problem = Problem("campaign", "not_yours", {"title": campaign.title})  # the member typed its code
    if problem is None and not campaign.individual_titles:
        problem = Problem("campaign", "no_individual_titles", {"title": campaign.title})
    if problem is not None:
        ctx.say(problem_text(ctx, problem))
        return
    existing = await ctx.repos.registrations.of_member(campaign.id, ctx.who.member.id)
    active = existing is not None and existing.status == "active"
    await ctx.dialog.start(
        FLOW,
        TITLES,
        campaign_id=campaign.id,
        titles=list(existing.titles) if active and existing else [],
        pledges=[asdict(p) for p in existing.pledges] if active and existing else [],
        initiative_title=existing.initiative_title if active and existing else None,
    )
    ctx.say(ctx.t("register.intro_change" if active else "register.intro", title=campaign.title))
    await prompt(ctx)


def _title_rows(ctx: Ctx, offered: tuple[str, ...]) -> list[list[Button]]:
    return title_switches(ctx, offered, RegisterTitle, RegisterStep("done"))


async def prompt(ctx: Ctx) -> None:
    """Ask for the current step of either registration flow."""
    state = ctx.dialog.state
    assert state is not None
    campaign = await _campaign(ctx)
    if campaign is None:
        await ctx.dialog.finish()
        await stale_button(ctx)
        return
    collective = state.flow == COLLECTIVE_FLOW
    if state.step == UNIT:
        rows = [
            [Button(unit.name, RegisterUnit(unit.id).pack())]
            for unit in await _collective_units(ctx, campaign)
        ]
        ctx.say(ctx.t("collective.ask_unit"), [*rows, back_and_cancel(ctx)])
    elif state.step == TITLES:
        offered = campaign.collective_titles if collective else campaign.individual_titles
        ctx.say(ctx.t("register.ask_titles"), _title_rows(ctx, offered))
    elif state.step == PLEDGES:
        _ask_pledges(ctx)
    elif state.step == INITIATIVE:
        ctx.say(ctx.t("register.ask_initiative"), [back_and_cancel(ctx)])
    else:
        ctx.say(
            await _summary(ctx, campaign),
            [[ctx.button("register.confirm_button", RegisterStep("confirm"))], back_and_cancel(ctx)],
        )


def _pledge_lines(ctx: Ctx, pledges: list[Pledge]) -> list[Html]:
    return [
        ctx.t("register.summary_pledge", content=pledge.content, unit=pledge.unit, figure=pledge.figure)
        for pledge in pledges
    ]


def _ask_pledges(ctx: Ctx, problems: list[Problem] | None = None) -> None:
    """Ask for the pledges; with some already in the form (a change), show them, to keep or remove."""
    current = [Pledge(**p) for p in ctx.dialog.data.get("pledges", [])]
    lines = [ctx.t("register.pledges_bad"), *(problem_text(ctx, p) for p in problems)] if problems else []
    if current:
        lines += [ctx.t("register.ask_pledges_current"), *_pledge_lines(ctx, current)]
        lines.append(ctx.t("register.ask_pledges_replace"))
        choices = [
            [ctx.button("register.keep_pledges", RegisterStep("skip"))],
            [ctx.button("register.clear_pledges", RegisterStep("clear"))],
        ]
    else:
        lines.append(ctx.t("register.ask_pledges"))
        choices = [[ctx.button("dialog.skip", RegisterStep("skip"))]]
    ctx.say(Html("\n".join(lines)), [*choices, back_and_cancel(ctx)])


async def _collective_units(ctx: Ctx, campaign: Campaign) -> list[Unit]:
    owner = await ctx.repos.units.get(campaign.unit_id)
    assert owner is not None
    units = [u for u in ctx.who.led_units if owner.covers(u)]
    for led in ctx.who.led_units:
        if led.covers(owner) or owner.covers(led):
            units += [child for child in await ctx.repos.units.children(led.id) if owner.covers(child)]
    unique = {unit.id: unit for unit in units}
    return list(unique.values())[:20]


async def _summary(ctx: Ctx, campaign: Campaign) -> Html:
    data = ctx.dialog.data
    pledges = [Pledge(**p) for p in data.get("pledges", [])]
    lines = [ctx.t("register.summary_head", title=campaign.title)]
    if data.get("unit_id"):
        unit = await ctx.repos.units.get(int(data["unit_id"]))
        lines.append(ctx.t("collective.summary_unit", unit=unit.name if unit else "?"))
    lines.append(ctx.t("register.summary_titles", titles=title_names(ctx.lang, data.get("titles", []))))
    lines += _pledge_lines(ctx, pledges)
    if not pledges:
        lines.append(ctx.t("register.summary_no_pledges"))
    if data.get("initiative_title") and NEEDS_INITIATIVE in data.get("titles", []):
        lines.append(ctx.t("register.summary_initiative", initiative=data["initiative_title"]))
    return Html("\n".join(lines))


async def on_text(ctx: Ctx, text: str) -> None:
    """Typed pledges or the initiative's title."""
    state = ctx.dialog.state
    assert state is not None
    if state.step == UNIT:
        unit = await ctx.repos.units.by_code(text.strip())
        campaign = await _campaign(ctx)
        owner = await ctx.repos.units.get(campaign.unit_id) if campaign else None
        if unit is None or owner is None or not ctx.who.covers(unit) or not owner.covers(unit):
            ctx.say(
                problem_text(ctx, Problem("unit", "unit_out_of_scope", {"unit": text.strip()})),
                [back_and_cancel(ctx)],
            )
            return
        await ctx.dialog.advance(TITLES, unit_id=unit.id)
        await prompt(ctx)
    elif state.step == PLEDGES:
        pledges, problems = domain.parse_pledges(text)
        if problems:
            _ask_pledges(ctx, problems)  # nothing taken: the form still holds what it held
            return
        await ctx.dialog.update(pledges=[asdict(p) for p in pledges])
        await _after_pledges(ctx)
    elif state.step == INITIATIVE:
        title = " ".join(text.split())
        problem = domain.check_initiative_title(title)
        if problem is not None:
            ctx.say(problem_text(ctx, problem), [back_and_cancel(ctx)])
            return
        await ctx.dialog.advance(CONFIRM, initiative_title=title)
        await prompt(ctx)
    else:
        ctx.say(ctx.t("dialog.use_buttons"))
        await prompt(ctx)


async def _after_pledges(ctx: Ctx) -> None:
    data = ctx.dialog.data
    individual = ctx.dialog.is_in(FLOW)
    await ctx.dialog.advance(
        INITIATIVE if individual and NEEDS_INITIATIVE in data.get("titles", []) else CONFIRM
    )
    await prompt(ctx)


async def start_button(ctx: Ctx, pressed: Register) -> None:
    """The Register button of a campaign page or a reminder."""
    campaign = await ctx.repos.campaigns.get(pressed.campaign)
    if ctx.who.member is None:
        await link_first(ctx)
    elif campaign is None or not await _concerns_member(ctx, campaign):
        await stale_button(ctx)
    else:
        await _start(ctx, campaign)


async def _open_form(ctx: Ctx) -> tuple[str, str, Campaign] | None:
    """The open registration form's flow, step and campaign, or None when there is none."""
    state = ctx.dialog.state
    if state is None or state.flow not in (FLOW, COLLECTIVE_FLOW):
        return None
    campaign = await _campaign(ctx)
    return (state.flow, state.step, campaign) if campaign is not None else None


async def title_button(ctx: Ctx, pressed: RegisterTitle) -> None:
    """A title switched on or off."""
    form = await _open_form(ctx)
    if form is None:
        await stale_button(ctx)
        return
    flow, step, campaign = form
    offered = campaign.collective_titles if flow == COLLECTIVE_FLOW else campaign.individual_titles
    if step != TITLES or pressed.title not in offered:
        await stale_button(ctx)
        return
    await switch_title(ctx, pressed.title)
    ctx.say(ctx.t("register.ask_titles"), _title_rows(ctx, offered), replace=True)


async def unit_button(ctx: Ctx, pressed: RegisterUnit) -> None:
    """The unit of a collective registration, among those offered."""
    form = await _open_form(ctx)
    if form is None or form[:2] != (COLLECTIVE_FLOW, UNIT):
        await stale_button(ctx)
        return
    if pressed.unit not in {unit.id for unit in await _collective_units(ctx, form[2])}:
        await stale_button(ctx)
        return
    await ctx.dialog.advance(TITLES, unit_id=pressed.unit)
    await prompt(ctx)


async def step_button(ctx: Ctx, pressed: RegisterStep) -> None:
    """Done, skip and confirm inside the registration forms."""
    form = await _open_form(ctx)
    if form is None:
        await stale_button(ctx)
        return
    _, step, campaign = form
    state = ctx.dialog.state
    assert state is not None
    action = pressed.action
    if action == "done" and step == TITLES:
        if not state.data.get("titles"):
            ctx.say(problem_text(ctx, Problem("titles", "titles_none")))
            return
        await ctx.dialog.advance(PLEDGES)
        await prompt(ctx)
    elif action == "skip" and step == PLEDGES:
        await _after_pledges(ctx)  # the pledges stay as they are: none, or those of the registration changed
    elif action == "clear" and step == PLEDGES:
        await ctx.dialog.update(pledges=[])
        await _after_pledges(ctx)
    elif action == "confirm" and step == CONFIRM:
        await _confirm(ctx, campaign)
    else:
        await stale_button(ctx)


async def _confirm(ctx: Ctx, campaign: Campaign) -> None:
    data = ctx.dialog.data
    pledges = [Pledge(**p) for p in data.get("pledges", [])]
    if ctx.dialog.is_in(COLLECTIVE_FLOW):
        unit = await ctx.repos.units.get(data["unit_id"]) if isinstance(data.get("unit_id"), int) else None
        if unit is None:
            await stale_button(ctx)
            return
        problem = await domain.register_collective(
            ctx.repos,
            ctx.who,
            unit,
            campaign,
            titles=data["titles"],
            pledges=pledges,
            now=ctx.now,
            today=ctx.today,
        )
        done = ctx.t("collective.saved", unit=unit.name, title=campaign.title)
        if problem is None:
            await notify(
                ctx,
                await fellow_officers(ctx, unit.id),
                "collective_registration",
                "collective.notice",
                unit=unit.name,
                title=campaign.title,
                titles=Localized(lambda language: title_names(language, data["titles"])),
            )
    else:
        assert ctx.who.member is not None and ctx.who.unit is not None
        problem = await domain.register_member(
            ctx.repos,
            ctx.who.member,
            ctx.who.unit,
            campaign,
            titles=data["titles"],
            pledges=pledges,
            initiative_title=data.get("initiative_title"),
            actor=ctx.who.actor,
            now=ctx.now,
            today=ctx.today,
        )
        done = ctx.t(
            "register.saved", title=campaign.title, deadline=formatting.day(campaign.registration_deadline)
        )
    await ctx.dialog.finish()
    ctx.say(problem_text(ctx, problem) if problem else done)


async def _withdrawable(ctx: Ctx, campaign_id: int) -> tuple[Campaign, Registration] | None:
    """The campaign and the member's active registration to withdraw, or None once the reason is said."""
    campaign = await ctx.repos.campaigns.get(campaign_id)
    if campaign is None or ctx.who.member is None or not await _concerns_member(ctx, campaign):
        await stale_button(ctx)
        return None
    registration = await ctx.repos.registrations.of_member(campaign.id, ctx.who.member.id)
    problem = domain.check_open(campaign, ctx.today)
    if problem is None and (registration is None or registration.status != "active"):
        problem = Problem("registration", "not_registered", {"title": campaign.title})
    if problem is not None:
        ctx.say(problem_text(ctx, problem))
        return None
    assert registration is not None
    return campaign, registration


async def withdraw_button(ctx: Ctx, pressed: WithdrawRegistration) -> None:
    """Withdraw from a campaign page: ask first, naming the campaign (one tap must not undo a sign-up)."""
    found = await _withdrawable(ctx, pressed.campaign)
    if found is None:
        return
    campaign, _ = found
    ctx.say(
        ctx.t("register.withdraw_confirm", title=campaign.title),
        [
            [
                ctx.button("register.withdraw_yes", ConfirmWithdrawal(campaign.id, "yes")),
                ctx.button("register.withdraw_no", ConfirmWithdrawal(campaign.id, "no")),
            ]
        ],
    )


async def confirm_withdrawal(ctx: Ctx, pressed: ConfirmWithdrawal) -> None:
    """The answer to the withdrawal question: withdraw, or keep the registration as it is."""
    if pressed.answer == "no":
        campaign = await ctx.repos.campaigns.get(pressed.campaign)
        if campaign is None or ctx.who.member is None or not await _concerns_member(ctx, campaign):
            await stale_button(ctx)
            return
        ctx.say(ctx.t("register.withdraw_kept", title=campaign.title), replace=True)
        return
    found = await _withdrawable(ctx, pressed.campaign)
    if found is None:
        return
    campaign, registration = found
    problem = await domain.withdraw(ctx.repos, registration, campaign, ctx.who.actor, ctx.now, ctx.today)
    if problem is not None:
        ctx.say(problem_text(ctx, problem))
        return
    ctx.say(ctx.t("register.withdrawn", title=campaign.title), replace=True)


async def my_registrations(ctx: Ctx) -> None:
    """/my: the member's registrations, active and withdrawn."""
    if ctx.who.member is None:
        await link_first(ctx)
        return
    found = await ctx.repos.registrations.all_of_member(ctx.who.member.id)
    idea_lines, idea_rows = await initiatives_section(ctx)
    if idea_lines:
        ctx.say("\n\n".join(idea_lines), idea_rows)
    if not found:
        if not idea_lines:
            ctx.say(ctx.t("my.none"))
        return
    lines, rows = [ctx.t("my.head")], []
    shown = found[:20]
    campaigns = await ctx.repos.campaigns.many([registration.campaign_id for registration in shown])
    for registration in shown:
        campaign = campaigns[registration.campaign_id]
        head = ctx.t(
            "my.line",
            title=campaign.title,
            code=campaign.code,
            status=ctx.t(f"campaigns.status_{registration.status}"),
        )
        lines.append(Html("\n".join([head, *registration_lines(ctx.lang, registration)])))
        if campaign.status == "launched":
            rows.append([Button(campaign.title, ViewCampaign(campaign.id).pack())])
    ctx.say("\n\n".join(lines), rows)


async def collective_start(ctx: Ctx, pressed: CollectiveStart) -> None:
    """The "collective registration" button of a campaign page (officers)."""
    found = await campaign_scope(ctx.repos, ctx.who, await ctx.repos.campaigns.get(pressed.campaign))
    if found is None:
        await stale_button(ctx)
        return
    campaign, _ = found
    problem = domain.check_open(campaign, ctx.today)
    if problem is not None:
        ctx.say(problem_text(ctx, problem))
        return
    await ctx.dialog.start(COLLECTIVE_FLOW, UNIT, campaign_id=campaign.id, titles=[], pledges=[])
    if not await _collective_units(ctx, campaign):
        await ctx.dialog.finish()
        ctx.say(ctx.t("collective.no_units"))
        return
    await prompt(ctx)


REGISTER_FLOW = Flow(FLOW, prompt, on_text, buttons_only=frozenset({TITLES, CONFIRM}))
COLLECTIVE = Flow(COLLECTIVE_FLOW, prompt, on_text, buttons_only=frozenset({TITLES, CONFIRM}))
