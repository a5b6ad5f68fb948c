"""Audience: lists, subscribers, memberships and suppressions.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from mailer.db.types import BigId, Json, UtcDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lists",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("title", sa.String(200), nullable=False, server_default=""),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("double_opt_in", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_lists"),
        sa.UniqueConstraint("name", name="uq_lists_name"),
    )
    op.create_table(
        "subscribers",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("email_key", sa.String(320), nullable=False),
        sa.Column("name", sa.String(200), nullable=False, server_default=""),
        sa.Column("attributes", Json, nullable=False),
        sa.Column("timezone", sa.String(64), nullable=True),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_subscribers"),
        sa.UniqueConstraint("email_key", name="uq_subscribers_email_key"),
    )
    op.create_table(
        "memberships",
        sa.Column("list_id", BigId, nullable=False),
        sa.Column("subscriber_id", BigId, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("source", sa.String(200), nullable=False, server_default=""),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("list_id", "subscriber_id", name="pk_memberships"),
        sa.ForeignKeyConstraint(
            ["list_id"], ["lists.id"], name="fk_memberships_list_id_lists", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["subscriber_id"],
            ["subscribers.id"],
            name="fk_memberships_subscriber_id_subscribers",
            ondelete="CASCADE",
        ),
        sa.CheckConstraint(
            "status IN ('unconfirmed', 'confirmed', 'unsubscribed')", name="ck_memberships_status"
        ),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_memberships_subscriber_id", "memberships", ["subscriber_id"])
    op.create_table(
        "suppressions",
        sa.Column("address_hash", sa.String(64), nullable=False),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("reason", sa.String(16), nullable=False),
        sa.Column("detail", sa.Text, nullable=False, server_default=""),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("address_hash", name="pk_suppressions"),
        sa.CheckConstraint(
            "reason IN ('bounce', 'spamreport', 'unsubscribe', 'manual', 'invalid')",
            name="ck_suppressions_reason",
        ),
    )


def downgrade() -> None:
    op.drop_table("suppressions")
    op.drop_table("memberships")
    op.drop_table("subscribers")
    op.drop_table("lists")
