"""Initiatives (sáng kiến): proposals with their co-authors, attached files and review history.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 08:38:21.063017
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "initiatives",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("author_member_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("title_key", sa.String(length=255), nullable=False),
        sa.Column("field", sa.String(length=255), nullable=False),
        sa.Column("problem", sa.Text(), nullable=False),
        sa.Column("before", sa.Text(), nullable=False),
        sa.Column("steps", sa.Text(), nullable=False),
        sa.Column("improvement", sa.Text(), nullable=False),
        sa.Column("first_applied_on", sa.Date(), nullable=True),
        sa.Column("conditions", sa.Text(), nullable=False),
        sa.Column("benefit", sa.Text(), nullable=False),
        sa.Column("value_dong", sa.BigInteger(), nullable=True),
        sa.Column("author_share", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("scores", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["author_member_id"], ["members.id"], name=op.f("fk_initiatives_author_member_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name=op.f("fk_initiatives_campaign_id_campaigns")
        ),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name=op.f("fk_initiatives_unit_id_units")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_initiatives")),
    )
    with op.batch_alter_table("initiatives", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_initiatives_author_member_id"), ["author_member_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_initiatives_campaign_id"), ["campaign_id"], unique=False)
        batch_op.create_index("ix_initiatives_campaign_status", ["campaign_id", "status"], unique=False)
        batch_op.create_index(batch_op.f("ix_initiatives_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_initiatives_unit_id"), ["unit_id"], unique=False)
        batch_op.create_index("ix_initiatives_unit_status", ["unit_id", "status"], unique=False)

    op.create_table(
        "initiative_attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("initiative_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("file_id", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=True),
        sa.Column("size", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["initiative_id"],
            ["initiatives.id"],
            name=op.f("fk_initiative_attachments_initiative_id_initiatives"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_initiative_attachments")),
    )
    with op.batch_alter_table("initiative_attachments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_initiative_attachments_initiative_id"), ["initiative_id"], unique=False
        )

    op.create_table(
        "initiative_coauthors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("initiative_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("share", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["initiative_id"],
            ["initiatives.id"],
            name=op.f("fk_initiative_coauthors_initiative_id_initiatives"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_initiative_coauthors")),
    )
    with op.batch_alter_table("initiative_coauthors", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_initiative_coauthors_initiative_id"), ["initiative_id"], unique=False
        )

    op.create_table(
        "initiative_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("initiative_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(length=80), nullable=False),
        sa.Column("from_status", sa.String(length=24), nullable=False),
        sa.Column("to_status", sa.String(length=24), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["initiative_id"],
            ["initiatives.id"],
            name=op.f("fk_initiative_history_initiative_id_initiatives"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_initiative_history")),
    )
    with op.batch_alter_table("initiative_history", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_initiative_history_initiative_id"), ["initiative_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("initiative_history", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_initiative_history_initiative_id"))

    op.drop_table("initiative_history")
    with op.batch_alter_table("initiative_coauthors", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_initiative_coauthors_initiative_id"))

    op.drop_table("initiative_coauthors")
    with op.batch_alter_table("initiative_attachments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_initiative_attachments_initiative_id"))

    op.drop_table("initiative_attachments")
    with op.batch_alter_table("initiatives", schema=None) as batch_op:
        batch_op.drop_index("ix_initiatives_unit_status")
        batch_op.drop_index(batch_op.f("ix_initiatives_unit_id"))
        batch_op.drop_index(batch_op.f("ix_initiatives_status"))
        batch_op.drop_index("ix_initiatives_campaign_status")
        batch_op.drop_index(batch_op.f("ix_initiatives_campaign_id"))
        batch_op.drop_index(batch_op.f("ix_initiatives_author_member_id"))

    op.drop_table("initiatives")
