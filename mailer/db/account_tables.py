"""The tables of who may use the admin app and the API: people's accounts, their login
sessions, API tokens, and the audit log of what each of them changed."""

from __future__ import annotations

import sqlalchemy as sa

from mailer.db.metadata import metadata
from mailer.db.types import BigId, Json, UtcDateTime

# As mailer.accounts.roles.Role (kept here so the tables load without the accounts package).
ROLES = ("owner", "admin", "editor", "viewer")
ROLE_CHECK = "role IN ('owner', 'admin', 'editor', 'viewer')"

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", BigId, primary_key=True),
    # The address as typed (after syntax normalization), and the key that makes it unique, as
    # subscribers.email and email_key.
    sa.Column("email", sa.String(320), nullable=False),
    sa.Column("email_key", sa.String(320), nullable=False, unique=True),
    sa.Column("role", sa.String(16), nullable=False),
    # Whether they may send or schedule a campaign (an owner always may, a viewer never).
    sa.Column("can_send", sa.Boolean, nullable=False),
    # argon2id, in the PHC string form that carries its own parameters and salt.
    sa.Column("password_hash", sa.Text, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.Column("password_changed_at", UtcDateTime, nullable=False),
    sa.CheckConstraint(ROLE_CHECK, name="role"),
)

# A login: the cookie holds a random token, the table only its sha256, so a copy of the
# database lets no one in.
sessions = sa.Table(
    "sessions",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("user_id", BigId, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("last_seen_at", UtcDateTime, nullable=False),
    # The sooner of the idle limit (from last_seen_at) and the age limit (from created_at), as
    # the settings were when last written: what expired sessions are cleared by.
    sa.Column("expires_at", UtcDateTime, nullable=False),
    sa.Index("ix_sessions_user_id", "user_id"),
    sa.Index("ix_sessions_expires_at", "expires_at"),
)

# Tokens of the REST API, made by `mailer tokens create`. Like sessions, only the sha256 of
# the secret is kept; a revoked token stays listed (and keeps its name) until the end.
api_tokens = sa.Table(
    "api_tokens",
    metadata,
    sa.Column("id", BigId, primary_key=True),
    sa.Column("name", sa.String(64), nullable=False, unique=True),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("can_send", sa.Boolean, nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
    # Who made it, as the audit log names people ("cli", an address).
    sa.Column("created_by", sa.Text, nullable=False),
    sa.Column("last_used_at", UtcDateTime, nullable=True),
    sa.Column("revoked_at", UtcDateTime, nullable=True),
    sa.CheckConstraint(ROLE_CHECK, name="role"),
)

# What was changed, by whom, when: written in the transaction of the change itself. Who and
# what are kept as text, so an entry outlives the account or the token it names.
audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", BigId, primary_key=True),
    sa.Column("at", UtcDateTime, nullable=False),
    # "ann@example.com", "token:deploy" or "cli".
    sa.Column("actor", sa.Text, nullable=False),
    # "user.add", "token.revoke", "campaign.send", ...
    sa.Column("action", sa.String(100), nullable=False),
    sa.Column("target", sa.Text, nullable=False),
    sa.Column("detail", Json, nullable=True),
    sa.Index("ix_audit_log_at", "at"),
)
