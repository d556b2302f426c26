"""Covering indexes for the figures behind /stats and the export.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 09:49:49.793751
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("initiatives", schema=None) as batch_op:
        batch_op.create_index(
            "ix_initiatives_campaign_unit_status_submitted",
            ["campaign_id", "unit_id", "status", "submitted_at"],
            unique=False,
        )

    with op.batch_alter_table("registrations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_registrations_campaign_status_member", ["campaign_id", "status", "member_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("registrations", schema=None) as batch_op:
        batch_op.drop_index("ix_registrations_campaign_status_member")

    with op.batch_alter_table("initiatives", schema=None) as batch_op:
        batch_op.drop_index("ix_initiatives_campaign_unit_status_submitted")
