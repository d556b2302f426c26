"""The year-end evaluation (bình xét): the day a campaign's evaluation opens, members' and collectives'
self-assessments, and the outcome per candidate and title (``title_results``).

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-27 21:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.add_column(sa.Column("evaluation_opens_on", sa.Date(), nullable=True))
    op.create_table(
        "self_assessments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("registration_id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("results", sa.JSON(), nullable=False),
        sa.Column("titles", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_by", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name=op.f("fk_self_assessments_campaign_id_campaigns")
        ),
        sa.ForeignKeyConstraint(
            ["registration_id"],
            ["registrations.id"],
            name=op.f("fk_self_assessments_registration_id_registrations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_self_assessments")),
        sa.UniqueConstraint("registration_id", name=op.f("uq_self_assessments_registration_id")),
    )
    op.create_index(op.f("ix_self_assessments_campaign_id"), "self_assessments", ["campaign_id"])
    op.create_table(
        "title_results",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=32), nullable=False),
        sa.Column("reached", sa.Boolean(), nullable=False),
        sa.Column("votes_agreed", sa.Integer(), nullable=False),
        sa.Column("votes_present", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("decided_by", sa.String(length=80), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name=op.f("fk_title_results_campaign_id_campaigns")
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_title_results_member_id_members")
        ),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name=op.f("fk_title_results_unit_id_units")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_title_results")),
        sa.UniqueConstraint(
            "campaign_id", "member_id", "unit_id", "title", name="uq_title_results_candidate"
        ),
    )
    op.create_index(op.f("ix_title_results_unit_id"), "title_results", ["unit_id"])
    op.create_index(
        "ix_title_results_campaign_unit_title",
        "title_results",
        ["campaign_id", "unit_id", "title", "reached"],
    )


def downgrade() -> None:
    op.drop_index("ix_title_results_campaign_unit_title", table_name="title_results")
    op.drop_index(op.f("ix_title_results_unit_id"), table_name="title_results")
    op.drop_table("title_results")
    op.drop_index(op.f("ix_self_assessments_campaign_id"), table_name="self_assessments")
    op.drop_table("self_assessments")
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.drop_column("evaluation_opens_on")
