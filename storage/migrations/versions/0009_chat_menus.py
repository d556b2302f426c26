"""The newest numbered menu of each chat on a channel without buttons, kept so that a number typed after a
restart still names an option.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27 16:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "chat_menus",
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("chat_id", sa.String(length=64), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("shown_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("channel", "chat_id"),
    )


def downgrade() -> None:
    op.drop_table("chat_menus")
