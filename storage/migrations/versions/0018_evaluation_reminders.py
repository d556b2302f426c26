"""The evaluation's reminders go only to registered members who have not sent their self-assessment yet
(audience ``not_assessed``), as the registration and initiative reminders skip those already done.

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-27 22:30:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("UPDATE reminder_rules SET audience = 'not_assessed' WHERE kind = 'evaluation'")


def downgrade() -> None:
    op.execute("UPDATE reminder_rules SET audience = 'registered' WHERE kind = 'evaluation'")
