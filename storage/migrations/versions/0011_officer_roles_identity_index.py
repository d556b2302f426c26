"""An index on officer_roles (channel, user_id): every update's identity query looks up the roles granted to
its channel identity, which scanned the table.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-27 18:25:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("officer_roles", schema=None) as batch_op:
        batch_op.create_index("ix_officer_roles_channel_user", ["channel", "user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("officer_roles", schema=None) as batch_op:
        batch_op.drop_index("ix_officer_roles_channel_user")
