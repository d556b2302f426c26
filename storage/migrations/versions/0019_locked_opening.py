"""On PostgreSQL, a function that takes a chat's lock and then reads what every update reads first (the
identities' and campaigns' generations and the chat's dialog): a read-only update is then answered without
BEGIN and COMMIT, in one round trip for the lock and its first read (storage/server_transaction.py). A
volatile plpgsql function takes a fresh snapshot for each statement in it, so the read sees whatever the
chat's update that held the lock before committed. SQLite needs nothing.

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-28 08:30:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

# The lock is the one storage/server_transaction.py's BEGIN takes for the same chat.
OPENING = """
CREATE FUNCTION thidua_opening(hold text, chat_channel text, chat text)
RETURNS TABLE (
    identity_generation bigint,
    identity_changed_here text,
    campaigns_generation bigint,
    flow varchar,
    step varchar,
    data json,
    back_stack json,
    updated_at timestamp
)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended(hold, 0));
    RETURN QUERY
        SELECT identities.value,
               current_setting('thidua.changed_identity', true),
               (SELECT campaigns.value FROM generations AS campaigns WHERE campaigns.name = 'campaigns'),
               dialog.flow, dialog.step, dialog.data, dialog.back_stack, dialog.updated_at
        FROM generations AS identities
        LEFT OUTER JOIN dialog_states AS dialog
            ON dialog.channel = chat_channel AND dialog.chat_id = chat
        WHERE identities.name = 'identity';
END
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(OPENING)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION thidua_opening(text, text, text)")
