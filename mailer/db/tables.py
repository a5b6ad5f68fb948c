"""The tables, in SQLAlchemy Core. Migrations in ``migrations/versions`` create the same."""

from __future__ import annotations

import sqlalchemy as sa

from mailer.db.types import BigId, Json, UtcDateTime

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

MEMBERSHIP_STATUSES = ("unconfirmed", "confirmed", "unsubscribed")
SUPPRESSION_REASONS = ("bounce", "spamreport", "unsubscribe", "manual", "invalid")

lists = sa.Table(
    "lists",
    metadata,
    sa.Column("id", BigId, primary_key=True),
    sa.Column("name", sa.String(100), nullable=False, unique=True),
    sa.Column("title", sa.String(200), nullable=False, server_default=""),
    sa.Column("description", sa.Text, nullable=False, server_default=""),
    sa.Column("double_opt_in", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("created_at", UtcDateTime, nullable=False),
)

subscribers = sa.Table(
    "subscribers",
    metadata,
    sa.Column("id", BigId, primary_key=True),
    # The address as the subscriber wrote it (after syntax normalization)...
    sa.Column("email", sa.String(320), nullable=False),
    # ...and the lower-cased form that makes it unique: Ada@x and ada@x are one person.
    sa.Column("email_key", sa.String(320), nullable=False, unique=True),
    sa.Column("name", sa.String(200), nullable=False, server_default=""),
    sa.Column("attributes", Json, nullable=False),
    sa.Column("timezone", sa.String(64), nullable=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
)

memberships = sa.Table(
    "memberships",
    metadata,
    sa.Column("list_id", BigId, sa.ForeignKey("lists.id", ondelete="CASCADE"), primary_key=True),
    sa.Column(
        "subscriber_id",
        BigId,
        sa.ForeignKey("subscribers.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("source", sa.String(200), nullable=False, server_default=""),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.CheckConstraint("status IN ('unconfirmed', 'confirmed', 'unsubscribed')", name="status"),
    sa.Index("ix_memberships_subscriber_id", "subscriber_id"),
    # The primary key is the row's address (list_id first, so a list's members are one range);
    # a separate rowid would be one more b-tree to update on every import row.
    sqlite_with_rowid=False,
)

suppressions = sa.Table(
    "suppressions",
    metadata,
    # sha256 of the address key: what a lookup uses, and all that is left after erasure.
    sa.Column("address_hash", sa.String(64), primary_key=True),
    sa.Column("email", sa.String(320), nullable=True),
    sa.Column("reason", sa.String(16), nullable=False),
    sa.Column("detail", sa.Text, nullable=False, server_default=""),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.CheckConstraint(
        "reason IN ('bounce', 'spamreport', 'unsubscribe', 'manual', 'invalid')", name="reason"
    ),
)
