"""Initiative targets per unit: the launching unit assigns them to the units below it.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27 14:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "campaign_targets",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("initiative_target", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name=op.f("fk_campaign_targets_campaign_id_campaigns")
        ),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name=op.f("fk_campaign_targets_unit_id_units")),
        sa.PrimaryKeyConstraint("campaign_id", "unit_id", name=op.f("pk_campaign_targets")),
    )


def downgrade() -> None:
    op.drop_table("campaign_targets")
