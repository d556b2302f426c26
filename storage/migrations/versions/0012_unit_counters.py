"""Per-unit counters (roster, linked, registered per campaign, initiatives per campaign and status, and
submissions per hour for each unit and the units above it), filled from the rows already stored: /stats
then adds up one row per unit instead of counting members.

The counts are written out here rather than taken from storage/repos/counters.py, so that this migration
keeps doing what it did when that code changes.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-27 19:30:00.000000
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_STATUSES = (
    "draft",
    "submitted",
    "revision",
    "valid",
    "invalid",
    "recognised",
    "not_recognised",
    "withdrawn",
)
_FILL = (
    """
    INSERT INTO unit_counts (unit_id, roster, linked)
    SELECT m.unit_id, count(*),
           count(CASE WHEN m.id IN (SELECT a.member_id FROM channel_accounts a) THEN 1 END)
    FROM members m
    GROUP BY m.unit_id
    """,
    """
    INSERT INTO registration_counts (campaign_id, unit_id, registered)
    SELECT r.campaign_id, m.unit_id, count(*)
    FROM registrations r JOIN members m ON m.id = r.member_id
    WHERE r.status = 'active'
    GROUP BY r.campaign_id, m.unit_id
    """,
    f"""
    INSERT INTO initiative_counts (campaign_id, unit_id, {", ".join(_STATUSES)})
    SELECT i.campaign_id, i.unit_id,
           {", ".join(f"count(CASE WHEN i.status = '{status}' THEN 1 END)" for status in _STATUSES)}
    FROM initiatives i
    WHERE i.campaign_id IS NOT NULL
    GROUP BY i.campaign_id, i.unit_id
    """,
)


def upgrade() -> None:
    op.create_table(
        "unit_counts",
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("roster", sa.Integer(), server_default="0", nullable=False),
        sa.Column("linked", sa.Integer(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name=op.f("fk_unit_counts_unit_id_units")),
        sa.PrimaryKeyConstraint("unit_id", name=op.f("pk_unit_counts")),
    )
    op.create_table(
        "registration_counts",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("registered", sa.Integer(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name=op.f("fk_registration_counts_campaign_id_campaigns")
        ),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name=op.f("fk_registration_counts_unit_id_units")),
        sa.PrimaryKeyConstraint("campaign_id", "unit_id", name=op.f("pk_registration_counts")),
    )
    op.create_table(
        "initiative_counts",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        *(sa.Column(status, sa.Integer(), server_default="0", nullable=False) for status in _STATUSES),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name=op.f("fk_initiative_counts_campaign_id_campaigns")
        ),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name=op.f("fk_initiative_counts_unit_id_units")),
        sa.PrimaryKeyConstraint("campaign_id", "unit_id", name=op.f("pk_initiative_counts")),
    )
    hours = op.create_table(
        "submission_hours",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("hour_utc", sa.DateTime(), nullable=False),
        sa.Column("n", sa.Integer(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name=op.f("fk_submission_hours_campaign_id_campaigns")
        ),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name=op.f("fk_submission_hours_unit_id_units")),
        sa.PrimaryKeyConstraint("campaign_id", "unit_id", "hour_utc", name=op.f("pk_submission_hours")),
    )
    for statement in _FILL:
        op.execute(sa.text(statement))
    _fill_submission_hours(hours)


def _fill_submission_hours(hours: sa.Table) -> None:
    """One per submitted (not withdrawn) initiative of a campaign, at its hour (naive UTC, as stored), at its
    unit and at every unit above it (the ids of its unit's path)."""
    submitted = sa.text(
        """
        SELECT i.campaign_id, u.path, i.submitted_at
        FROM initiatives i JOIN units u ON u.id = i.unit_id
        WHERE i.campaign_id IS NOT NULL AND i.submitted_at IS NOT NULL
          AND i.status NOT IN ('draft', 'withdrawn')
        """
    ).columns(campaign_id=sa.Integer(), path=sa.String(), submitted_at=sa.DateTime())
    counted: Counter[tuple[int, int, datetime]] = Counter()
    for campaign_id, path, submitted_at in op.get_bind().execute(submitted):
        hour = submitted_at.replace(minute=0, second=0, microsecond=0)
        for unit_id in path.strip("/").split("/"):
            counted[(campaign_id, int(unit_id), hour)] += 1
    rows = [
        {"campaign_id": campaign_id, "unit_id": unit_id, "hour_utc": hour, "n": n}
        for (campaign_id, unit_id, hour), n in counted.items()
    ]
    if rows:
        op.bulk_insert(hours, rows)


def downgrade() -> None:
    op.drop_table("submission_hours")
    op.drop_table("initiative_counts")
    op.drop_table("registration_counts")
    op.drop_table("unit_counts")
