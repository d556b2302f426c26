"""An officer's reminder names the unit it comes from: since an officer may plan one for any unit under
theirs, the unit it goes to (``unit_id``) is not always the sender (a district's reminder to a base union
below was headed by the base union). Rules made before keep NULL and are headed by their unit, as they were.

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-28 09:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("reminder_rules", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sender_unit_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_reminder_rules_sender_unit_id_units"), "units", ["sender_unit_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("reminder_rules", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_reminder_rules_sender_unit_id_units"), type_="foreignkey")
        batch_op.drop_column("sender_unit_id")
