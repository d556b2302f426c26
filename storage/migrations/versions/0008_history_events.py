"""An initiative's history records what happened, not only the status: scoring is its own event, with the
scores given. Earlier scorings (valid to valid) become "scored" events whose scores were not kept.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27 14:35:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("initiative_history", schema=None) as batch_op:
        batch_op.add_column(sa.Column("event", sa.String(length=16), nullable=False, server_default="moved"))
        batch_op.add_column(sa.Column("scores", sa.JSON(), nullable=False, server_default="{}"))
    op.execute(
        "UPDATE initiative_history SET event = 'scored' WHERE from_status = 'valid' AND to_status = 'valid'"
    )


def downgrade() -> None:
    with op.batch_alter_table("initiative_history", schema=None) as batch_op:
        batch_op.drop_column("scores")
        batch_op.drop_column("event")
