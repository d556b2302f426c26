"""Fills the insights' plain data from storage for one campaign and one scope unit."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.domain.campaigns import targets_of
from bot.domain.insights import CampaignFigures, ExportData, UnitFigures, local_days
from storage.database import Repos
from storage.records import Campaign, Unit


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
    daily = [(day, per_day.get(day, 0)) for day in local_days(campaign.starts_on, last)]
    return CampaignFigures(campaign, whole, children, daily)


async def export_data(
    repos: Repos, campaign: Campaign, scope: Unit, phone_paths: list[str], now: datetime, zone: ZoneInfo
) -> ExportData:
    """Everything the workbook holds, for the scope; phones only within ``phone_paths``."""
    return ExportData(
        figures=await campaign_figures(repos, campaign, scope, now, zone),
        registrations=await repos.stats.registration_rows(campaign.id, scope.path, phone_paths),
        initiatives=await repos.stats.initiative_rows(campaign.id, scope.path),
        deliveries=await repos.stats.delivery_rows(campaign.id, scope.path),
        generated_at=now,
    )


def today_in(zone: ZoneInfo, now: datetime) -> date:
    """The local date."""
    return now.astimezone(zone).date()
