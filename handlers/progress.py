"""Initiatives against a campaign's targets, the Vietnamese way ("1.709/431 (397%)"): for an officer their
subtree and each unit directly below it, for a member their own unit, each against the target that unit was
given (the launching unit's own, or one it assigned below), and "no target" where none was given."""

from __future__ import annotations

from bot.domain.campaigns import targets_of
from bot.domain.insights import covered_scopes
from bot.domain.records import Campaign, InitiativeCounts, Unit
from bot.engine.context import Ctx
from messages import Html, formatting, text

CHILDREN_SHOWN = 30
NONE_YET = InitiativeCounts(0, 0, 0)


def against_target(language: str, submitted: int, target: int | None) -> Html:
    """ "5/120 (4%)"; "5/0" against a target of none (a split by roster gives a small unit 0), with no share
    of it; "5 (no target)" for a unit nobody gave a target. A campaign's page, /stats and /report say it
    alike."""
    number = formatting.number
    if target is None:
        return text(language, "insights.progress_no_target", submitted=number(submitted, language))
    if not target:
        return text(language, "initiative.progress_of_none", submitted=number(submitted, language))
    return text(
        language,
        "initiative.progress_figure",
        submitted=number(submitted, language),
        target=number(target, language),
        percent=formatting.percent(submitted, target, language),
    )


def _line(ctx: Ctx, key: str, unit: Unit, counts: InitiativeCounts, target: int | None) -> Html:
    return ctx.t(
        key,
        unit=unit.name,
        progress=against_target(ctx.lang, counts.submitted, target),
        valid=formatting.number(counts.valid, ctx.lang),
        recognised=formatting.number(counts.recognised, ctx.lang),
    )


async def progress_text(ctx: Ctx, campaign: Campaign, owner: Unit) -> Html | None:
    """The progress block of a campaign's page, or None for a campaign without any target."""
    targets = await targets_of(ctx.repos, campaign)
    if not targets:
        return None
    lines = [ctx.t("initiative.progress_head")]
    scopes = covered_scopes(owner, ctx.who.led_units)
    for scope in scopes:
        counts = await ctx.repos.initiatives.counts(campaign.id, scope.path)
        lines.append(_line(ctx, "initiative.progress_line", scope, counts, targets.get(scope.id)))
        by_child = await ctx.repos.initiatives.counts_by_child(campaign.id, scope.id)
        children = await ctx.repos.units.children(scope.id)
        ranked = sorted(children, key=lambda u: -by_child.get(u.id, NONE_YET).submitted)
        for child in ranked[:CHILDREN_SHOWN]:
            counts = by_child.get(child.id, NONE_YET)
            lines.append(_line(ctx, "initiative.progress_child", child, counts, targets.get(child.id)))
    if not scopes and ctx.who.unit is not None:
        own = await ctx.repos.initiatives.counts(campaign.id, ctx.who.unit.path)
        lines.append(_line(ctx, "initiative.progress_line", ctx.who.unit, own, targets.get(ctx.who.unit.id)))
    return Html("\n".join(lines)) if len(lines) > 1 else None
