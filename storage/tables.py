"""The database schema as SQLAlchemy Core tables: one place that says what is stored.

Alembic migrations under storage/migrations reproduce exactly this schema (a test compares them).
Times are stored as naive UTC and handed back as aware UTC datetimes (see ``UTCDateTime``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp kept as naive UTC in every database and returned as an aware UTC datetime."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous; pass an aware datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC)

    def result_processor(self, dialect: Dialect, coltype: Any) -> Callable[[Any], datetime | None] | None:
        """SQLite hands back the stored text ("2026-03-25 01:00:00.000000"), read here as UTC at once:
        0.15 µs a time where parsing it naive and then ``replace(tzinfo=UTC)`` took 1 µs (an export reads
        ~150,000); other databases hand back datetimes, for ``process_result_value``."""
        if dialect.name != "sqlite":
            return super().result_processor(dialect, coltype)

        def process(value: str | None) -> datetime | None:
            return None if value is None else datetime.fromisoformat(value + "+00:00")

        return process


def _created_at() -> sa.Column[datetime]:
    return sa.Column("created_at", UTCDateTime(), nullable=False)


units = sa.Table(
    "units",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("code", sa.String(64), nullable=False, unique=True),
    sa.Column("name", sa.String(255), nullable=False),
    # The name without diacritics, lower case: what "type part of the unit's name" searches.
    sa.Column("name_key", sa.String(255), nullable=False),
    sa.Column("parent_id", sa.Integer, sa.ForeignKey("units.id"), nullable=True, index=True),
    # Materialised path of ids, "/1/4/9/": a subtree is one indexed prefix match, at any depth.
    sa.Column("path", sa.String(512), nullable=False, index=True),
    sa.Column("depth", sa.Integer, nullable=False),
    _created_at(),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
)

members = sa.Table(
    "members",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("code", sa.String(64), nullable=False, unique=True),
    sa.Column("full_name", sa.String(255), nullable=False),
    # E.164 ("+84912345678"), so every usual way of writing a number matches the same row.
    sa.Column("phone", sa.String(20), nullable=True, index=True),
    sa.Column("email", sa.String(255), nullable=True),
    sa.Column("unit_id", sa.Integer, sa.ForeignKey("units.id"), nullable=False, index=True),
    sa.Column("source", sa.String(16), nullable=False),  # "roster" or "join_request"
    # The channel the member chose to receive broadcasts and notices on; None: the one they used last.
    sa.Column("preferred_channel", sa.String(16), nullable=True),
    _created_at(),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
)

channel_accounts = sa.Table(
    "channel_accounts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("user_id", sa.String(64), nullable=False),
    sa.Column("chat_id", sa.String(64), nullable=False),
    sa.Column("display_name", sa.String(255), nullable=False),
    sa.Column("member_id", sa.Integer, sa.ForeignKey("members.id"), nullable=True, index=True),
    sa.Column("language", sa.String(8), nullable=True),
    sa.Column("reachable", sa.Boolean, nullable=False, server_default=sa.true()),
    # Reminders the person switched off, and their quiet hours (minutes after local midnight).
    sa.Column("reminders_off", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("quiet_start", sa.Integer, nullable=False, server_default="1260"),
    sa.Column("quiet_end", sa.Integer, nullable=False, server_default="420"),
    sa.Column("linked_at", UTCDateTime(), nullable=True),
    # When the person last wrote on this account, to the minute: a member on two channels is reached on
    # the one they used last.
    sa.Column("last_seen_at", UTCDateTime(), nullable=True),
    _created_at(),
    sa.UniqueConstraint("channel", "user_id", name="uq_channel_accounts_channel_user"),
    sa.UniqueConstraint("member_id", "channel", name="uq_channel_accounts_member_channel"),
)

officer_roles = sa.Table(
    "officer_roles",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("unit_id", sa.Integer, sa.ForeignKey("units.id"), nullable=False, index=True),
    # A role is held by a roster member (on every channel they link) or by one channel identity.
    sa.Column("member_id", sa.Integer, sa.ForeignKey("members.id"), nullable=True, index=True),
    sa.Column("channel", sa.String(16), nullable=True),
    sa.Column("user_id", sa.String(64), nullable=True),
    sa.Column("granted_by", sa.String(80), nullable=False),
    _created_at(),
    sa.UniqueConstraint("unit_id", "member_id", name="uq_officer_roles_unit_member"),
    sa.UniqueConstraint("unit_id", "channel", "user_id", name="uq_officer_roles_unit_user"),
    # Every update's identity query finds the roles of its channel identity by these two.
    sa.Index("ix_officer_roles_channel_user", "channel", "user_id"),
    sa.CheckConstraint(
        "(member_id IS NOT NULL AND user_id IS NULL) OR (member_id IS NULL AND user_id IS NOT NULL)",
        name="holder",
    ),
)

dialog_states = sa.Table(
    "dialog_states",
    metadata,
    sa.Column("channel", sa.String(16), primary_key=True),
    sa.Column("chat_id", sa.String(64), primary_key=True),
    sa.Column("flow", sa.String(32), nullable=False),
    sa.Column("step", sa.String(32), nullable=False),
    sa.Column("data", sa.JSON, nullable=False),
    sa.Column("back_stack", sa.JSON, nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
)

# The newest numbered menu shown in a chat on a channel without buttons, so that a typed "2" still means its
# second option after a restart: [[label, payload], ...] in the order shown.
chat_menus = sa.Table(
    "chat_menus",
    metadata,
    sa.Column("channel", sa.String(16), primary_key=True),
    sa.Column("chat_id", sa.String(64), primary_key=True),
    sa.Column("options", sa.JSON, nullable=False),
    sa.Column("shown_at", UTCDateTime(), nullable=False),
)

# A number per kind of data that nearly every update reads and rarely changes ("identity": accounts, members,
# units, officer roles; "campaigns"), raised by triggers in the transaction that changes it (migration 0017):
# a process keeps those reads while the number it read them under is current (storage/memo.py).
generations = sa.Table(
    "generations",
    metadata,
    sa.Column("name", sa.String(32), primary_key=True),
    sa.Column("value", sa.BigInteger, nullable=False),
)

# Files behind signed download links (bot/engine/files.py), kept until their link expires: in the database,
# so whichever instance a link's request reaches can serve it.
shared_files = sa.Table(
    "shared_files",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("account_id", sa.Integer, nullable=False),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("content", sa.LargeBinary, nullable=False),
    sa.Column("expires_at", UTCDateTime(), nullable=False, index=True),
)

invites = sa.Table(
    "invites",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("code", sa.String(32), nullable=False, unique=True),
    sa.Column("unit_id", sa.Integer, sa.ForeignKey("units.id"), nullable=False),
    sa.Column("created_by", sa.String(80), nullable=False),
    _created_at(),
    sa.Column("expires_at", UTCDateTime(), nullable=False),
    sa.Column("use_count", sa.Integer, nullable=False, server_default="0"),
)

join_requests = sa.Table(
    "join_requests",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("user_id", sa.String(64), nullable=False),
    sa.Column("full_name", sa.String(255), nullable=False),
    sa.Column("phone", sa.String(20), nullable=True),
    sa.Column("unit_id", sa.Integer, sa.ForeignKey("units.id"), nullable=False, index=True),
    sa.Column("invite_id", sa.Integer, sa.ForeignKey("invites.id"), nullable=True),
    sa.Column("status", sa.String(16), nullable=False, index=True),  # pending, approved, rejected, superseded
    # "join": someone new, added to the roster on approval; "link": a typed phone matched ``member_id``,
    # whose account it becomes on approval.
    sa.Column("kind", sa.String(8), nullable=False, server_default="join"),
    sa.Column("member_id", sa.Integer, sa.ForeignKey("members.id"), nullable=True),
    sa.Column("decided_by", sa.String(80), nullable=True),
    sa.Column("decided_at", UTCDateTime(), nullable=True),
    _created_at(),
)

# Personal one-time codes that link a chat account to a roster member where no contact can be shared.
# Only a hash of each code is kept; a code is spent by its first use.
link_codes = sa.Table(
    "link_codes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("member_id", sa.Integer, sa.ForeignKey("members.id"), nullable=False, index=True),
    sa.Column("code_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("created_by", sa.String(80), nullable=False),
    _created_at(),
    sa.Column("expires_at", UTCDateTime(), nullable=False),
    sa.Column("used_at", UTCDateTime(), nullable=True),
    sa.Column("used_by", sa.Integer, sa.ForeignKey("channel_accounts.id"), nullable=True),
)

# Wrong codes typed, per account: guessing is limited to a few tries an hour.
link_code_failures = sa.Table(
    "link_code_failures",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("account_id", sa.Integer, sa.ForeignKey("channel_accounts.id"), nullable=False),
    sa.Column("at", UTCDateTime(), nullable=False),
    sa.Index("ix_link_code_failures_account_at", "account_id", "at"),
)

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("at", UTCDateTime(), nullable=False),
    sa.Column("actor", sa.String(80), nullable=False),  # "telegram:123", "cli"
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("subject", sa.String(128), nullable=False),
    sa.Column("details", sa.JSON, nullable=False),
)

# Telegram allows 64 bytes of callback data; longer button payloads are kept here behind a short token.
button_payloads = sa.Table(
    "button_payloads",
    metadata,
    sa.Column("token", sa.String(16), primary_key=True),
    sa.Column("payload", sa.Text, nullable=False),
    _created_at(),
)

outbox = sa.Table(
    "outbox",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("chat_id", sa.String(64), nullable=False),
    sa.Column("account_id", sa.Integer, sa.ForeignKey("channel_accounts.id"), nullable=True),
    sa.Column("kind", sa.String(32), nullable=False),  # for reports: "join_request", "announcement"...
    sa.Column("broadcast_id", sa.Integer, sa.ForeignKey("broadcasts.id"), nullable=True),
    sa.Column("message", sa.JSON, nullable=False),  # a serialised OutgoingMessage
    sa.Column("status", sa.String(16), nullable=False),  # pending, sent, uncertain, failed, unreachable
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("not_before", UTCDateTime(), nullable=False),
    sa.Column("error", sa.String(255), nullable=True),
    _created_at(),
    sa.Column("sent_at", UTCDateTime(), nullable=True),
    # The instance sending the row and until when its claim holds unless renewed (see bot/engine/outbox.py).
    sa.Column("claimed_by", sa.String(32), nullable=True),
    sa.Column("claimed_until", UTCDateTime(), nullable=True),
    sa.Column("failing_since", UTCDateTime(), nullable=True),  # first failed attempt of a network outage
    sa.Index("ix_outbox_status_not_before_claimed_until", "status", "not_before", "claimed_until"),
    sa.Index("ix_outbox_status_not_before_id", "status", "not_before", "id"),  # the order claims take
    sa.Index("ix_outbox_claimed_by_status", "claimed_by", "status"),
    sa.Index("ix_outbox_broadcast_status", "broadcast_id", "status"),
    sa.Index("ix_outbox_chat_status", "channel", "chat_id", "status"),
)

campaigns = sa.Table(
    "campaigns",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("code", sa.String(32), nullable=False, unique=True),
    sa.Column("title", sa.String(255), nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),  # ongoing, peak
    # The campaign applies to this unit's whole subtree.
    sa.Column("unit_id", sa.Integer, sa.ForeignKey("units.id"), nullable=False, index=True),
    # Calendar dates in the union's time zone; a deadline date includes the whole day.
    sa.Column("starts_on", sa.Date, nullable=False),
    sa.Column("ends_on", sa.Date, nullable=False),
    sa.Column("registration_deadline", sa.Date, nullable=False),
    sa.Column("initiative_deadline", sa.Date, nullable=True),
    sa.Column("initiative_target", sa.Integer, nullable=True),
    sa.Column("individual_titles", sa.JSON, nullable=False),
    sa.Column("collective_titles", sa.JSON, nullable=False),
    sa.Column("status", sa.String(16), nullable=False, index=True),  # draft, launched, closed
    sa.Column("created_by", sa.String(80), nullable=False),
    _created_at(),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.Column("launched_at", UTCDateTime(), nullable=True),
    sa.Column("closed_at", UTCDateTime(), nullable=True),
    # The day the year-end evaluation (bình xét) opens: self-assessments are asked for from then on.
    sa.Column("evaluation_opens_on", sa.Date, nullable=True),
)

# Initiative targets the launching unit gave the units below it (its own: campaigns.initiative_target).
campaign_targets = sa.Table(
    "campaign_targets",
    metadata,
    sa.Column("campaign_id", sa.Integer, sa.ForeignKey("campaigns.id"), primary_key=True),
    sa.Column("unit_id", sa.Integer, sa.ForeignKey("units.id"), primary_key=True),
    sa.Column("initiative_target", sa.Integer, nullable=False),
)

registrations = sa.Table(
    "registrations",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("campaign_id", sa.Integer, sa.ForeignKey("campaigns.id"), nullable=False, index=True),
    # Either a member's own registration or a collective one for a unit.
    sa.Column("member_id", sa.Integer, sa.ForeignKey("members.id"), nullable=True, index=True),
    sa.Column("unit_id", sa.Integer, sa.ForeignKey("units.id"), nullable=True, index=True),
    sa.Column("titles", sa.JSON, nullable=False),
    sa.Column("pledges", sa.JSON, nullable=False),  # [{"content", "unit", "figure"}]
    sa.Column("initiative_title", sa.String(255), nullable=True),
    sa.Column("status", sa.String(16), nullable=False),  # active, withdrawn
    sa.Column("registered_by", sa.String(80), nullable=False),
    _created_at(),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.UniqueConstraint("campaign_id", "member_id", name="uq_registrations_campaign_member"),
    sa.UniqueConstraint("campaign_id", "unit_id", name="uq_registrations_campaign_unit"),
    sa.CheckConstraint("(member_id IS NULL) <> (unit_id IS NULL)", name="holder"),
    # Covers "who registered for the campaign" without reading the rows: /stats counts come from it.
    sa.Index("ix_registrations_campaign_status_member", "campaign_id", "status", "member_id"),
)

broadcasts = sa.Table(
    "broadcasts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("kind", sa.String(32), nullable=False),  # announcement, ...
    sa.Column("title", sa.String(255), nullable=False),  # what the summary calls it
    sa.Column("campaign_id", sa.Integer, sa.ForeignKey("campaigns.id"), nullable=True),
    sa.Column("unit_id", sa.Integer, sa.ForeignKey("units.id"), nullable=False),
    sa.Column("requested_by", sa.Integer, sa.ForeignKey("channel_accounts.id"), nullable=True),
    sa.Column("total", sa.Integer, nullable=False),
    _created_at(),
    sa.Column("finished_at", UTCDateTime(), nullable=True),
)

# An initiative (sáng kiến): a member's improvement proposal, reviewed by the council of a unit above.
initiatives = sa.Table(
    "initiatives",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("campaign_id", sa.Integer, sa.ForeignKey("campaigns.id"), nullable=True, index=True),
    sa.Column("author_member_id", sa.Integer, sa.ForeignKey("members.id"), nullable=False, index=True),
    # The author's unit when the draft was started: whose council reviews it.
    sa.Column("unit_id", sa.Integer, sa.ForeignKey("units.id"), nullable=False, index=True),
    sa.Column("title", sa.String(255), nullable=False),  # "" while a draft has none yet
    sa.Column("title_key", sa.String(255), nullable=False),  # lower case, no diacritics: for look-alikes
    sa.Column("field", sa.String(255), nullable=False, default=""),
    sa.Column("problem", sa.Text, nullable=False, default=""),
    sa.Column("before", sa.Text, nullable=False, default=""),
    sa.Column("steps", sa.Text, nullable=False, default=""),
    sa.Column("improvement", sa.Text, nullable=False, default=""),
    sa.Column("first_applied_on", sa.Date, nullable=True),
    sa.Column("conditions", sa.Text, nullable=False, default=""),
    sa.Column("benefit", sa.Text, nullable=False, default=""),
    sa.Column("value_dong", sa.BigInteger, nullable=True),
    sa.Column("author_share", sa.Integer, nullable=False, default=100),  # percent; co-authors hold the rest
    # draft, submitted, valid, invalid, revision, recognised, not_recognised, withdrawn
    sa.Column("status", sa.String(24), nullable=False, index=True),
    sa.Column("scores", sa.JSON, nullable=False),  # {criterion: points}, {} until scored
    # +1 on every change, so a button drawn for an older version can be refused.
    sa.Column("version", sa.Integer, nullable=False),
    _created_at(),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.Column("submitted_at", UTCDateTime(), nullable=True),
    sa.Index("ix_initiatives_campaign_status", "campaign_id", "status"),
    sa.Index("ix_initiatives_unit_status", "unit_id", "status"),
    # Covers the campaign's counts by unit and by day of submission (/stats) without reading the rows.
    sa.Index(
        "ix_initiatives_campaign_unit_status_submitted", "campaign_id", "unit_id", "status", "submitted_at"
    ),
)

initiative_coauthors = sa.Table(
    "initiative_coauthors",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("initiative_id", sa.Integer, sa.ForeignKey("initiatives.id"), nullable=False, index=True),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("share", sa.Integer, nullable=False),  # percent
)

initiative_attachments = sa.Table(
    "initiative_attachments",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("initiative_id", sa.Integer, sa.ForeignKey("initiatives.id"), nullable=False, index=True),
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("file_id", sa.String(255), nullable=False),  # the channel's own file reference
    sa.Column("kind", sa.String(16), nullable=False),  # photo, document
    sa.Column("file_name", sa.String(255), nullable=True),
    sa.Column("size", sa.Integer, nullable=True),
    _created_at(),
)

initiative_history = sa.Table(
    "initiative_history",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("initiative_id", sa.Integer, sa.ForeignKey("initiatives.id"), nullable=False, index=True),
    sa.Column("at", UTCDateTime(), nullable=False),
    sa.Column("actor", sa.String(80), nullable=False),
    sa.Column("from_status", sa.String(24), nullable=False),
    sa.Column("to_status", sa.String(24), nullable=False),
    sa.Column("note", sa.Text, nullable=False, default=""),
    # "moved" (a change of status) or "scored" (the council's scores, kept in ``scores``).
    sa.Column("event", sa.String(16), nullable=False, server_default="moved"),
    sa.Column("scores", sa.JSON, nullable=False, server_default="{}"),
)

reminder_rules = sa.Table(
    "reminder_rules",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    # registration / initiative (made at a campaign's launch), custom (an officer's /remind), calendar.
    sa.Column("kind", sa.String(24), nullable=False),
    sa.Column("campaign_id", sa.Integer, sa.ForeignKey("campaigns.id"), nullable=True, index=True),
    sa.Column("unit_id", sa.Integer, sa.ForeignKey("units.id"), nullable=False, index=True),
    # everyone, unregistered, registered, no_initiative, not_assessed (registered, no self-assessment sent):
    # who among the unit's linked members receives it.
    sa.Column("audience", sa.String(24), nullable=False),
    sa.Column("calendar_key", sa.String(48), nullable=True),
    sa.Column("text", sa.Text, nullable=True),  # an officer's own words; catalog texts otherwise
    sa.Column("owner_account_id", sa.Integer, sa.ForeignKey("channel_accounts.id"), nullable=True),
    sa.Column("status", sa.String(16), nullable=False),  # active, cancelled
    # An officer's reminder: the unit it comes from, theirs, at or above ``unit_id`` (NULL: ``unit_id``).
    sa.Column("sender_unit_id", sa.Integer, sa.ForeignKey("units.id"), nullable=True),
    _created_at(),
)

reminder_sendings = sa.Table(
    "reminder_sendings",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("rule_id", sa.Integer, sa.ForeignKey("reminder_rules.id"), nullable=False, index=True),
    sa.Column("due_at", UTCDateTime(), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # planned, sent, missed, cancelled
    sa.Column("processed_at", UTCDateTime(), nullable=True),
    sa.Column("broadcast_id", sa.Integer, sa.ForeignKey("broadcasts.id"), nullable=True),
    sa.Index("ix_reminder_sendings_status_due", "status", "due_at"),
)

# One row per job that only one instance may run (the scheduler): whoever holds an unexpired lease runs it.
leases = sa.Table(
    "leases",
    metadata,
    sa.Column("name", sa.String(32), primary_key=True),
    sa.Column("holder", sa.String(64), nullable=False),
    sa.Column("expires_at", UTCDateTime(), nullable=False),
)

# Counters kept per unit in the same transaction as the rows they count (storage/repos/counters.py), so
# /stats and the chart add up one row per unit in view instead of counting members: a unit's roster, and
# how many of its members have linked at least one chat account.
unit_counts = sa.Table(
    "unit_counts",
    metadata,
    sa.Column("unit_id", sa.Integer, sa.ForeignKey("units.id"), primary_key=True),
    sa.Column("roster", sa.Integer, nullable=False, server_default="0"),
    sa.Column("linked", sa.Integer, nullable=False, server_default="0"),
)

# Members of the unit (where they are now) with an active registration for the campaign; collective
# registrations are not counted here.
registration_counts = sa.Table(
    "registration_counts",
    metadata,
    sa.Column("campaign_id", sa.Integer, sa.ForeignKey("campaigns.id"), primary_key=True),
    sa.Column("unit_id", sa.Integer, sa.ForeignKey("units.id"), primary_key=True),
    sa.Column("registered", sa.Integer, nullable=False, server_default="0"),
)

# The campaign's initiatives of the unit (the author's unit when the draft began), one column per status
# (the "submitted" column holds those waiting for the council, not every submitted one): a change of status
# is one UPDATE of one row.
INITIATIVE_STATUSES = (
    "draft",
    "submitted",
    "revision",
    "valid",
    "invalid",
    "recognised",
    "not_recognised",
    "withdrawn",
)
initiative_counts = sa.Table(
    "initiative_counts",
    metadata,
    sa.Column("campaign_id", sa.Integer, sa.ForeignKey("campaigns.id"), primary_key=True),
    sa.Column("unit_id", sa.Integer, sa.ForeignKey("units.id"), primary_key=True),
    *(sa.Column(status, sa.Integer, nullable=False, server_default="0") for status in INITIATIVE_STATUSES),
)

# Initiatives submitted (and not withdrawn) per hour of submission (UTC), kept for the initiative's unit and
# for every unit above it: the chart's line for a subtree reads its top unit's rows, one per hour at most,
# where rows per unit alone would be about as many as the initiatives. Rebuilt when units move.
submission_hours = sa.Table(
    "submission_hours",
    metadata,
    sa.Column("campaign_id", sa.Integer, sa.ForeignKey("campaigns.id"), primary_key=True),
    sa.Column("unit_id", sa.Integer, sa.ForeignKey("units.id"), primary_key=True),
    sa.Column("hour_utc", UTCDateTime(), primary_key=True),
    sa.Column("n", sa.Integer, nullable=False, server_default="0"),
)

# A registered member's (or, with ``unit_id`` alone, a collective's) self-assessment against its pledges when
# the campaign's evaluation opens: kept as a draft while it is filled (so it outlives a restart or an
# expired dialog), then submitted. results: [{"reached": bool, "figure": str}] in the pledges' order.
self_assessments = sa.Table(
    "self_assessments",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("registration_id", sa.Integer, sa.ForeignKey("registrations.id"), nullable=False, unique=True),
    sa.Column("campaign_id", sa.Integer, sa.ForeignKey("campaigns.id"), nullable=False, index=True),
    sa.Column("results", sa.JSON, nullable=False),
    sa.Column("titles", sa.JSON, nullable=False),  # the titles still sought
    sa.Column("status", sa.String(16), nullable=False),  # draft, submitted
    # +1 on every change, so an officer's decision drawn on an older version can be refused.
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("updated_by", sa.String(80), nullable=False),
    _created_at(),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.Column("submitted_at", UTCDateTime(), nullable=True),
)

# The outcome of the base union's evaluation (bình xét): one row per candidate per title per campaign, with
# the meeting's vote. A decision is final (never updated or deleted); its audit row is written with it.
title_results = sa.Table(
    "title_results",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("campaign_id", sa.Integer, sa.ForeignKey("campaigns.id"), nullable=False),
    sa.Column("member_id", sa.Integer, sa.ForeignKey("members.id"), nullable=True),  # None: a collective
    # The member's unit when decided, or the collective's unit: what "titles reached per unit" counts.
    sa.Column("unit_id", sa.Integer, sa.ForeignKey("units.id"), nullable=False, index=True),
    sa.Column("title", sa.String(32), nullable=False),
    sa.Column("reached", sa.Boolean, nullable=False),
    sa.Column("votes_agreed", sa.Integer, nullable=False),
    sa.Column("votes_present", sa.Integer, nullable=False),
    sa.Column("note", sa.Text, nullable=False),
    sa.Column("decided_by", sa.String(80), nullable=False),
    sa.Column("decided_at", UTCDateTime(), nullable=False),
    sa.UniqueConstraint("campaign_id", "member_id", "unit_id", "title", name="uq_title_results_candidate"),
    sa.Index("ix_title_results_campaign_unit_title", "campaign_id", "unit_id", "title", "reached"),
)

# A commendation proposal (đề nghị khen thưởng): a base union proposes a member, a collective (its unit) or a
# recognised initiative to the unit above that grants the form (Giấy khen, Bằng khen...), for a campaign's
# year. Never deleted: a decision moves its status, and every step is a row of ``commendation_history``.
commendation_proposals = sa.Table(
    "commendation_proposals",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("campaign_id", sa.Integer, sa.ForeignKey("campaigns.id"), nullable=False, index=True),
    sa.Column("year", sa.Integer, nullable=False),  # the emulation year: the campaign's end
    sa.Column("kind", sa.String(16), nullable=False),  # member, collective, initiative
    # The member proposed (an initiative's author for an initiative), None for a collective.
    sa.Column("member_id", sa.Integer, sa.ForeignKey("members.id"), nullable=True, index=True),
    # The candidate's unit when proposed: the collective itself, or the member's or initiative's unit.
    sa.Column("unit_id", sa.Integer, sa.ForeignKey("units.id"), nullable=False, index=True),
    sa.Column("initiative_id", sa.Integer, sa.ForeignKey("initiatives.id"), nullable=True),
    sa.Column("form", sa.String(32), nullable=False),  # a code of THIDUA_COMMENDATION_FORMS
    sa.Column("level", sa.String(16), nullable=False),  # the level that grants the form, as when proposed
    sa.Column("granting_unit_id", sa.Integer, sa.ForeignKey("units.id"), nullable=False, index=True),
    sa.Column("achievements", sa.Text, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # proposed, approved, returned
    # +1 on every change, so a button drawn for an older version can be refused.
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("proposed_by", sa.String(80), nullable=False),
    # The proposer's account, told of the decision.
    sa.Column("proposer_account_id", sa.Integer, sa.ForeignKey("channel_accounts.id"), nullable=True),
    sa.Column("note", sa.Text, nullable=False, server_default=""),  # the decision's note
    sa.Column("decided_by", sa.String(80), nullable=True),
    sa.Column("decided_at", UTCDateTime(), nullable=True),
    _created_at(),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.CheckConstraint(
        "(kind = 'member' AND member_id IS NOT NULL AND initiative_id IS NULL)"
        " OR (kind = 'collective' AND member_id IS NULL AND initiative_id IS NULL)"
        " OR (kind = 'initiative' AND initiative_id IS NOT NULL)",
        name="subject",
    ),
    sa.Index("ix_commendation_proposals_campaign_status", "campaign_id", "status"),
)

commendation_history = sa.Table(
    "commendation_history",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column(
        "proposal_id", sa.Integer, sa.ForeignKey("commendation_proposals.id"), nullable=False, index=True
    ),
    sa.Column("at", UTCDateTime(), nullable=False),
    sa.Column("actor", sa.String(80), nullable=False),
    sa.Column("from_status", sa.String(16), nullable=False),  # "" for the proposal itself
    sa.Column("to_status", sa.String(16), nullable=False),
    sa.Column("note", sa.Text, nullable=False, server_default=""),
)
