"""Commendation proposals (đề nghị khen thưởng): a base union proposes a member, a collective or a recognised
initiative to the unit above that grants the form; each step of their way is a row of their history.

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-27 21:50:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

SUBJECT = (
    "(kind = 'member' AND member_id IS NOT NULL AND initiative_id IS NULL)"
    " OR (kind = 'collective' AND member_id IS NULL AND initiative_id IS NULL)"
    " OR (kind = 'initiative' AND initiative_id IS NOT NULL)"
)


def upgrade() -> None:
    op.create_table(
        "commendation_proposals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("initiative_id", sa.Integer(), nullable=True),
        sa.Column("form", sa.String(length=32), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("granting_unit_id", sa.Integer(), nullable=False),
        sa.Column("achievements", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("proposed_by", sa.String(length=80), nullable=False),
        sa.Column("proposer_account_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), server_default="", nullable=False),
        sa.Column("decided_by", sa.String(length=80), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(SUBJECT, name=op.f("ck_commendation_proposals_subject")),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name=op.f("fk_commendation_proposals_campaign_id_campaigns")
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_commendation_proposals_member_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_commendation_proposals_unit_id_units")
        ),
        sa.ForeignKeyConstraint(
            ["initiative_id"],
            ["initiatives.id"],
            name=op.f("fk_commendation_proposals_initiative_id_initiatives"),
        ),
        sa.ForeignKeyConstraint(
            ["granting_unit_id"],
            ["units.id"],
            name=op.f("fk_commendation_proposals_granting_unit_id_units"),
        ),
        sa.ForeignKeyConstraint(
            ["proposer_account_id"],
            ["channel_accounts.id"],
            name=op.f("fk_commendation_proposals_proposer_account_id_channel_accounts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commendation_proposals")),
    )
    with op.batch_alter_table("commendation_proposals", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_commendation_proposals_campaign_id"), ["campaign_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_commendation_proposals_member_id"), ["member_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_commendation_proposals_unit_id"), ["unit_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_commendation_proposals_granting_unit_id"), ["granting_unit_id"], unique=False
        )
        batch_op.create_index(
            "ix_commendation_proposals_campaign_status", ["campaign_id", "status"], unique=False
        )
    op.create_table(
        "commendation_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(length=80), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=False),
        sa.Column("to_status", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), server_default="", nullable=False),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["commendation_proposals.id"],
            name=op.f("fk_commendation_history_proposal_id_commendation_proposals"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commendation_history")),
    )
    with op.batch_alter_table("commendation_history", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_commendation_history_proposal_id"), ["proposal_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("commendation_history", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_commendation_history_proposal_id"))
    op.drop_table("commendation_history")
    with op.batch_alter_table("commendation_proposals", schema=None) as batch_op:
        batch_op.drop_index("ix_commendation_proposals_campaign_status")
        batch_op.drop_index(batch_op.f("ix_commendation_proposals_granting_unit_id"))
        batch_op.drop_index(batch_op.f("ix_commendation_proposals_unit_id"))
        batch_op.drop_index(batch_op.f("ix_commendation_proposals_member_id"))
        batch_op.drop_index(batch_op.f("ix_commendation_proposals_campaign_id"))
    op.drop_table("commendation_proposals")
