"""Targets for the units below a campaign's own (from the campaign's page): its officer splits the campaign's
target by roster size or types one ``CODE: number`` line per unit; each unit is then measured against its own.
"""

from __future__ import annotations

from bot.domain.campaigns import (
    check_unit_targets,
    parse_unit_targets,
    set_unit_targets,
    split_target,
    targets_of,
)
from bot.domain.problems import Problem
from bot.domain.records import Campaign, Unit
from bot.engine.access import campaign_in_charge
from bot.engine.buttons import DialogControl, SplitUnitTargets, UnitTargets, ViewCampaign
from bot.engine.context import Ctx, Flow
from bot.engine.events import Button
from handlers.campaign_views import problem_text
from handlers.common import stale_button
from messages import Html, formatting

FLOW = "unit_targets"
LINES = "lines"
UNITS_SHOWN = 30


async def overview(ctx: Ctx, campaign: Campaign, owner: Unit) -> Html:
    """The campaign's own target and each unit directly below with its code, roster and target."""
    targets = await targets_of(ctx.repos, campaign)
    number = formatting.number
    no_target = ctx.t("targets.none")
    own = targets.get(owner.id)
    lines = [
        ctx.t("targets.head", unit=owner.name, target=number(own, ctx.lang) if own is not None else no_target)
    ]
    rosters = await ctx.repos.stats.member_counts_by_child(campaign.id, owner.id)
    for child in (await ctx.repos.units.children(owner.id))[:UNITS_SHOWN]:
        target = targets.get(child.id)
        lines.append(
            ctx.t(
                "targets.line",
                unit=child.name,
                code=child.code,
                roster=number(rosters.get(child.id, (0, 0, 0))[0], ctx.lang),
                target=number(target, ctx.lang) if target is not None else no_target,
            )
        )
    return Html("\n".join(lines))


async def open_button(ctx: Ctx, pressed: UnitTargets) -> None:
    """The page's "targets for the units below" button: show them and ask for lines or a split."""
    found = await campaign_in_charge(ctx.repos, ctx.who, await ctx.repos.campaigns.get(pressed.campaign))
    if found is None or found[0].status == "closed":
        await stale_button(ctx)
        return
    await ctx.dialog.start(FLOW, LINES, campaign_id=found[0].id)
    await prompt(ctx)


async def _in_charge(ctx: Ctx) -> tuple[Campaign, Unit] | None:
    campaign_id = ctx.dialog.data.get("campaign_id")
    if not isinstance(campaign_id, int):
        return None
    return await campaign_in_charge(ctx.repos, ctx.who, await ctx.repos.campaigns.get(campaign_id))


async def prompt(ctx: Ctx) -> None:
    """The targets so far, how to type them, and the split button."""
    found = await _in_charge(ctx)
    if found is None:
        await ctx.dialog.finish()
        await stale_button(ctx)
        return
    campaign, owner = found
    ctx.say(
        Html(await overview(ctx, campaign, owner) + "\n\n" + ctx.t("targets.ask")),
        [
            [ctx.button("targets.split_button", SplitUnitTargets(campaign.id))],
            [ctx.button("dialog.cancel", DialogControl("cancel"))],
        ],
    )


async def on_text(ctx: Ctx, text: str) -> None:
    """``CODE: number`` lines: every line checked, all stored or none."""
    found = await _in_charge(ctx)
    if found is None:
        await ctx.dialog.finish()
        await stale_button(ctx)
        return
    campaign, owner = found
    entries, problems = parse_unit_targets(text)
    checked = await check_unit_targets(ctx.repos, owner, entries)
    if isinstance(checked, list) or problems:
        _complain(ctx, [*(checked if isinstance(checked, list) else []), *problems])
        return
    await set_unit_targets(ctx.repos, campaign, checked, replace=False, actor=ctx.who.actor, now=ctx.now)
    await _saved(ctx, campaign, owner)


async def split_button(ctx: Ctx, pressed: SplitUnitTargets) -> None:
    """Split the campaign's target among the units directly below by roster size (replacing earlier ones)."""
    found = await campaign_in_charge(ctx.repos, ctx.who, await ctx.repos.campaigns.get(pressed.campaign))
    if found is None or found[0].status == "closed":
        await stale_button(ctx)
        return
    campaign, owner = found
    split = await split_target(ctx.repos, campaign, owner)
    if isinstance(split, Problem):
        _complain(ctx, [split])
        return
    await set_unit_targets(ctx.repos, campaign, split, replace=True, actor=ctx.who.actor, now=ctx.now)
    await _saved(ctx, campaign, owner)


async def _saved(ctx: Ctx, campaign: Campaign, owner: Unit) -> None:
    if ctx.dialog.is_in(FLOW):
        await ctx.dialog.finish()
    ctx.say(
        Html(ctx.t("targets.saved") + "\n\n" + await overview(ctx, campaign, owner)),
        [
            [ctx.button("targets.edit_button", UnitTargets(campaign.id))],
            [Button(campaign.title, ViewCampaign(campaign.id).pack())],
        ],
    )


def _complain(ctx: Ctx, problems: list[Problem]) -> None:
    ctx.say(
        Html("\n".join(problem_text(ctx, problem) for problem in problems)),
        [[ctx.button("dialog.cancel", DialogControl("cancel"))]] if ctx.dialog.is_in(FLOW) else (),
    )


UNIT_TARGETS_FLOW = Flow(FLOW, prompt, on_text)
