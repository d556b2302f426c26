"""Generation numbers for what every update reads and almost never changes: an account's identity and the
open campaigns. Triggers raise a generation in the transaction that changes the rows behind it, whoever
writes (any instance, the command line, an import), so a process may keep such reads between updates for as
long as the generation it read them under is current (storage/memo.py).

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-27 22:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

# The columns an identity is read from (storage/repos/accounts.py's identity query): a change to any of them
# raises "identity". An account's other columns (when it was last seen, its reminder settings) do not.
WATCHED = {
    "channel_accounts": (
        "identity",
        ("channel", "user_id", "chat_id", "display_name", "member_id", "language", "reachable"),
    ),
    "members": ("identity", ("code", "full_name", "phone", "email", "unit_id")),
    "units": ("identity", ("code", "name", "parent_id", "path", "depth")),
    "officer_roles": ("identity", ("unit_id", "member_id", "channel", "user_id")),
    "campaigns": ("campaigns", ()),  # any change
}
# A new account changes no one else's identity and is read afresh: only its deletion counts.
INSERTS_COUNT = {"channel_accounts": False}


def upgrade() -> None:
    op.create_table(
        "generations",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.execute("INSERT INTO generations (name, value) VALUES ('identity', 0), ('campaigns', 0)")
    if op.get_bind().dialect.name == "postgresql":
        _postgresql_triggers()
    else:
        _sqlite_triggers()


def _changed(columns: tuple[str, ...], differ: str) -> str:
    return " OR ".join(f"OLD.{column} {differ} NEW.{column}" for column in columns)


def _sqlite_triggers() -> None:
    for table, (name, columns) in WATCHED.items():
        bump = f"BEGIN UPDATE generations SET value = value + 1 WHERE name = '{name}'; END"
        events = ["DELETE"] + (["INSERT"] if INSERTS_COUNT.get(table, True) else [])
        for event in events:
            op.execute(f"CREATE TRIGGER generation_{table}_{event.lower()} AFTER {event} ON {table} {bump}")
        when = f"WHEN {_changed(columns, 'IS NOT')} " if columns else ""
        op.execute(f"CREATE TRIGGER generation_{table}_update AFTER UPDATE ON {table} {when}{bump}")


def _postgresql_triggers() -> None:
    # The generation's row is raised at the commit, once a transaction (a deferred trigger): its lock is
    # taken only at the very end, when the transaction asks for no other, so two writers never wait on each
    # other through it. Until then a setting local to the transaction says the kind changed, so a read later
    # in the same transaction does not use what was kept (storage/memo.py reads both).
    op.execute(
        """
        CREATE FUNCTION thidua_note_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM set_config('thidua.changed_' || TG_ARGV[0], '1', true);
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        """
        CREATE FUNCTION thidua_bump_generation() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF current_setting('thidua.bumped_' || TG_ARGV[0], true) IS DISTINCT FROM '1' THEN
                UPDATE generations SET value = value + 1 WHERE name = TG_ARGV[0];
                PERFORM set_config('thidua.bumped_' || TG_ARGV[0], '1', true);
            END IF;
            RETURN NULL;
        END $$
        """
    )
    for table, (name, columns) in WATCHED.items():
        events = "INSERT OR DELETE" if INSERTS_COUNT.get(table, True) else "DELETE"
        when = f"WHEN ({_changed(columns, 'IS DISTINCT FROM')}) " if columns else ""
        for function, kind in (("thidua_note_change", ""), ("thidua_bump_generation", "CONSTRAINT ")):
            timing = "DEFERRABLE INITIALLY DEFERRED " if kind else ""
            call = f"FOR EACH ROW {{}}EXECUTE FUNCTION {function}('{name}')"
            prefix = f"CREATE {kind}TRIGGER generation_{table}_{function.removeprefix('thidua_')}"
            op.execute(f"{prefix} AFTER {events} ON {table} {timing}{call.format('')}")
            op.execute(f"{prefix}_update AFTER UPDATE ON {table} {timing}{call.format(when)}")


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for table in WATCHED:
        if postgresql:
            for trigger in ("note_change", "bump_generation"):
                op.execute(f"DROP TRIGGER generation_{table}_{trigger} ON {table}")
                op.execute(f"DROP TRIGGER generation_{table}_{trigger}_update ON {table}")
        else:
            for event in ("delete", "insert", "update"):
                op.execute(f"DROP TRIGGER IF EXISTS generation_{table}_{event}")
    if postgresql:
        op.execute("DROP FUNCTION thidua_bump_generation()")
        op.execute("DROP FUNCTION thidua_note_change()")
    op.drop_table("generations")
