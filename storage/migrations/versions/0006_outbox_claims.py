"""Outbox rows are claimed by the instance sending them; a network outage is timed from its first failure.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 13:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claimed_by", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("claimed_until", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("failing_since", sa.DateTime(), nullable=True))
        batch_op.drop_index("ix_outbox_status_not_before")
        batch_op.create_index(
            "ix_outbox_status_not_before_claimed_until",
            ["status", "not_before", "claimed_until"],
            unique=False,
        )
        batch_op.create_index("ix_outbox_claimed_by_status", ["claimed_by", "status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_claimed_by_status")
        batch_op.drop_index("ix_outbox_status_not_before_claimed_until")
        batch_op.create_index("ix_outbox_status_not_before", ["status", "not_before"], unique=False)
        batch_op.drop_column("failing_since")
        batch_op.drop_column("claimed_until")
        batch_op.drop_column("claimed_by")
