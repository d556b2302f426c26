"""Initiatives against a campaign's target, the Vietnamese way ("1.709/431 (397%)"): for an officer their
subtree and each unit directly below it, for a member their own unit."""

from __future__ import annotations

from bot.insights import covered_scopes
from handlers.context import Ctx
from messages import Html, formatting
from storage.records import Campaign, InitiativeCounts, Unit

CHILDREN_SHOWN = 30


def _total_line(ctx: Ctx, unit: Unit, counts: InitiativeCounts, target: int) -> Html:
    number = formatting.number
    return ctx.t(
        "initiative.progress_line",
        unit=unit.name,
        submitted=number(counts.submitted, ctx.lang),
        target=number(target, ctx.lang),
        percent=formatting.percent(counts.submitted, target),
        valid=number(counts.valid, ctx.lang),
        recognised=number(counts.recognised, ctx.lang),
    )


async def progress_text(ctx: Ctx, campaign: Campaign, owner: Unit) -> Html | None:
    """The progress block of a campaign's page, or None for a campaign without a target."""
    target = campaign.initiative_target
    if not target:
        return None
    lines = [ctx.t("initiative.progress_head")]
    scopes = covered_scopes(owner, ctx.who.led_units)
    for scope in scopes:
        lines.append(
            _total_line(ctx, scope, await ctx.repos.initiatives.counts(campaign.id, scope.path), target)
        )
        by_child = await ctx.repos.initiatives.counts_by_child(campaign.id, scope.id)
        children = await ctx.repos.units.children(scope.id)
        ranked = sorted(children, key=lambda u: -by_child.get(u.id, InitiativeCounts(0, 0, 0)).submitted)
        for child in ranked[:CHILDREN_SHOWN]:
            counts = by_child.get(child.id, InitiativeCounts(0, 0, 0))
            lines.append(
                ctx.t(
                    "initiative.progress_child",
                    unit=child.name,
                    submitted=formatting.number(counts.submitted, ctx.lang),
                    valid=formatting.number(counts.valid, ctx.lang),
                    recognised=formatting.number(counts.recognised, ctx.lang),
                )
            )
    if not scopes and ctx.who.unit is not None:
        own = await ctx.repos.initiatives.counts(campaign.id, ctx.who.unit.path)
        lines.append(_total_line(ctx, ctx.who.unit, own, target))
    return Html("\n".join(lines)) if len(lines) > 1 else None
