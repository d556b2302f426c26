"""Fills the insights' plain data from storage for one campaign and one scope unit."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import TypeVar
from zoneinfo import ZoneInfo

from bot.domain.campaigns import targets_of
from bot.domain.evaluation import titles_reached
from bot.domain.insights import (
    CampaignFigures,
    CommendationRow,
    ExportData,
    FormFigures,
    InitiativeRow,
    TitleCount,
    UnitFigures,
    form_figures,
    local_days,
)
from storage.database import Repos
from storage.records import Campaign, Unit
from storage.repos.stats import ExportRows

T = TypeVar("T")


def _utc_offset_hours(zone: ZoneInfo, now: datetime) -> int:
    offset = now.astimezone(zone).utcoffset()
    return int(offset.total_seconds() // 3600) if offset else 0


async def campaign_figures(
    repos: Repos, campaign: Campaign, scope: Unit, now: datetime, zone: ZoneInfo
) -> CampaignFigures:
    """The campaign's figures for ``scope`` and each unit directly below it, each against its own target."""
    targets = await targets_of(repos, campaign)
    roster, linked, registered = await repos.stats.member_counts(campaign.id, scope.path)
    totals = await repos.initiatives.counts(campaign.id, scope.path)
    whole = UnitFigures(
        scope,
        roster,
        linked,
        registered,
        totals.submitted,
        totals.valid,
        totals.recognised,
        targets.get(scope.id),
    )
    members_by_child = await repos.stats.member_counts_by_child(campaign.id, scope.id)
    initiatives_by_child = await repos.initiatives.counts_by_child(campaign.id, scope.id)
    children = []
    for child in await repos.units.children(scope.id):
        c_roster, c_linked, c_registered = members_by_child.get(child.id, (0, 0, 0))
        counts = initiatives_by_child.get(child.id)
        children.append(
            UnitFigures(
                child,
                c_roster,
                c_linked,
                c_registered,
                counts.submitted if counts else 0,
                counts.valid if counts else 0,
                counts.recognised if counts else 0,
                targets.get(child.id),
            )
        )
    per_day = await repos.stats.daily_submissions(campaign.id, scope.path, _utc_offset_hours(zone, now))
    today = now.astimezone(zone).date()
    last = min(today, campaign.ends_on) if today >= campaign.starts_on else campaign.starts_on
    # A launched campaign takes initiatives before its first day (and a revision may come back after its
    # last): the line runs over those days too, so that it adds up to every submission counted.
    first, last = min([campaign.starts_on, *per_day]), max([last, *per_day])
    daily = [(day, per_day.get(day, 0)) for day in local_days(first, last)]
    return CampaignFigures(campaign, whole, children, daily)


async def export_data(
    repos: Repos,
    campaign: Campaign,
    figures: CampaignFigures,
    phone_paths: list[str],
    now: datetime,
    write: Callable[[ExportData], T],
    forms: Iterable[str] = (),
) -> T:
    """``write(data)``, where ``data`` is everything the workbook of ``figures``' scope holds (phones only
    within ``phone_paths``): its rows come from the database cursor as ``write`` iterates them, once each, so
    ``write`` runs synchronously (``StatsRepo.export_rows``) and must consume them before it returns. The
    commendations are counted by the configured ``forms`` first."""
    path = figures.scope.unit.path
    commendations = await commendation_figures(repos, campaign, figures.scope.unit, forms)
    titles = await title_figures(repos, campaign, figures.scope.unit)

    def fill(rows: ExportRows) -> T:
        return write(
            ExportData(
                figures=figures,
                registrations=rows.registrations(campaign.id, path, phone_paths),
                initiatives=rows.initiatives(campaign.id, path),
                deliveries=rows.deliveries(campaign.id, path),
                generated_at=now,
                commendations=commendations,
                proposals=rows.commendations(campaign.id, path),
                certificates=rows.commendations(campaign.id, path, status="approved"),
                titles=titles,
                title_holders=rows.title_holders(campaign.id, path),
            )
        )

    return await repos.stats.export_rows(fill)


async def recognised_initiatives(
    repos: Repos, campaign: Campaign, scope: Unit, use: Callable[[Iterable[InitiativeRow]], T]
) -> T:
    """``use(rows)``: the scope's recognised initiatives, what a written report commends, in the order they
    were submitted, read on their own rather than picked out of every initiative; from the cursor as ``use``
    walks them (synchronously, see ``export_data``); a report names no step of their review, so their
    history is not read."""
    return await repos.stats.export_rows(
        lambda rows: use(rows.initiatives(campaign.id, scope.path, status="recognised", with_history=False))
    )


async def commendation_figures(
    repos: Repos, campaign: Campaign, scope: Unit, forms: Iterable[str]
) -> list[FormFigures]:
    """The campaign's commendation proposals for candidates of the scope's subtree, by form (one query)."""
    return form_figures(await repos.commendations.counts(campaign.id, scope.path), forms)


async def title_figures(repos: Repos, campaign: Campaign, scope: Unit) -> list[TitleCount]:
    """The titles the evaluation found reached in the scope's subtree, per unit (by path) and title."""
    counts = await titles_reached(repos, [campaign], [scope])
    names = {unit.id: unit.name for unit in await repos.units.many(sorted({c.unit_id for c in counts}))}
    return [TitleCount(names.get(c.unit_id, "?"), c.title, c.individual, c.collective) for c in counts]


async def commended(repos: Repos, campaign: Campaign, scope: Unit) -> list[CommendationRow]:
    """The approved proposals for candidates of the scope's subtree: those to commend, with their
    achievements, as the written report lists them."""
    return await repos.stats.export_rows(
        lambda rows: list(rows.commendations(campaign.id, scope.path, status="approved"))
    )


def today_in(zone: ZoneInfo, now: datetime) -> date:
    """The local date."""
    return now.astimezone(zone).date()
