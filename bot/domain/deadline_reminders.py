"""The reminders a launch plans before a campaign's deadlines: at 08:00 local time 7, 3 and 1 days before
the registration deadline (to the unregistered) and the initiative deadline (to those without one).

Kept apart from reminders.py so that campaigns.py can plan them inside its launch: every launch (the
chat, the demo's seed, an admin's tools) goes through one path and plans the same reminders.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from storage.database import Repos
from storage.records import Campaign

DAYS_BEFORE = (7, 3, 1)
REMIND_AT = time(8, 0)


def local_moment(day: date, at: time, zone: ZoneInfo) -> datetime:
    """A local date and time as an aware UTC datetime."""
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


def deadline_moments(deadline: date, zone: ZoneInfo, now: datetime) -> list[datetime]:
    """08:00 local time 7, 3 and 1 days before a deadline, leaving out moments already past."""
    moments = [local_moment(deadline - timedelta(days=days), REMIND_AT, zone) for days in DAYS_BEFORE]
    return [moment for moment in moments if moment > now]


async def plan_campaign_reminders(
    repos: Repos, campaign: Campaign, owner_account_id: int | None, zone: ZoneInfo, now: datetime
) -> int:
    """At launch: remind the unregistered before the registration deadline, and those without an
    initiative before the initiative deadline. Returns how many sendings were planned."""
    planned = 0
    plans = [("registration", "unregistered", campaign.registration_deadline)]
    if campaign.initiative_deadline is not None:
        plans.append(("initiative", "no_initiative", campaign.initiative_deadline))
    for kind, audience, deadline in plans:
        rule_id = await repos.reminders.create_rule(
            kind=kind,
            unit_id=campaign.unit_id,
            audience=audience,
            campaign_id=campaign.id,
            owner_account_id=owner_account_id,
            now=now,
        )
        moments = deadline_moments(deadline, zone, now)
        await repos.reminders.plan(rule_id, moments)
        planned += len(moments)
    return planned
