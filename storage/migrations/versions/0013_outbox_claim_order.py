"""An index on outbox (status, not_before, id): the outbox claims the oldest pending rows in that order, and
with only (status, not_before, claimed_until) SQLite sorted every pending row of a broadcast (they share
their not_before) at each claim of 500, which slowed a broadcast to 100,000 members as it went.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-27 20:40:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_status_not_before_id", ["status", "not_before", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_status_not_before_id")
