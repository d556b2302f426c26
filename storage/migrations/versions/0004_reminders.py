"""Reminders: rules, planned sendings, the scheduler lease, and members' reminder preferences.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 08:49:20.114040
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_chat_status", ["channel", "chat_id", "status"], unique=False)
    op.create_table(
        "leases",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("holder", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_leases")),
    )
    op.create_table(
        "reminder_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("audience", sa.String(length=24), nullable=False),
        sa.Column("calendar_key", sa.String(length=48), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("owner_account_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name=op.f("fk_reminder_rules_campaign_id_campaigns")
        ),
        sa.ForeignKeyConstraint(
            ["owner_account_id"],
            ["channel_accounts.id"],
            name=op.f("fk_reminder_rules_owner_account_id_channel_accounts"),
        ),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name=op.f("fk_reminder_rules_unit_id_units")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reminder_rules")),
    )
    with op.batch_alter_table("reminder_rules", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reminder_rules_campaign_id"), ["campaign_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_reminder_rules_unit_id"), ["unit_id"], unique=False)

    op.create_table(
        "reminder_sendings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rule_id", sa.Integer(), nullable=False),
        sa.Column("due_at", sa.DateTime(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("processed_at", sa.DateTime(), nullable=True),
        sa.Column("broadcast_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["broadcast_id"], ["broadcasts.id"], name=op.f("fk_reminder_sendings_broadcast_id_broadcasts")
        ),
        sa.ForeignKeyConstraint(
            ["rule_id"], ["reminder_rules.id"], name=op.f("fk_reminder_sendings_rule_id_reminder_rules")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reminder_sendings")),
    )
    with op.batch_alter_table("reminder_sendings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reminder_sendings_rule_id"), ["rule_id"], unique=False)
        batch_op.create_index("ix_reminder_sendings_status_due", ["status", "due_at"], unique=False)

    with op.batch_alter_table("channel_accounts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("reminders_off", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(sa.Column("quiet_start", sa.Integer(), server_default="1260", nullable=False))
        batch_op.add_column(sa.Column("quiet_end", sa.Integer(), server_default="420", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_chat_status")
    with op.batch_alter_table("channel_accounts", schema=None) as batch_op:
        batch_op.drop_column("quiet_end")
        batch_op.drop_column("quiet_start")
        batch_op.drop_column("reminders_off")

    with op.batch_alter_table("reminder_sendings", schema=None) as batch_op:
        batch_op.drop_index("ix_reminder_sendings_status_due")
        batch_op.drop_index(batch_op.f("ix_reminder_sendings_rule_id"))

    op.drop_table("reminder_sendings")
    with op.batch_alter_table("reminder_rules", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reminder_rules_unit_id"))
        batch_op.drop_index(batch_op.f("ix_reminder_rules_campaign_id"))

    op.drop_table("reminder_rules")
    op.drop_table("leases")
