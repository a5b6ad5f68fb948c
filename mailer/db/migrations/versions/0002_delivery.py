"""Delivery: campaigns, their requests (batches), the per-recipient ledger, rate buckets.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from mailer.db.types import BigId, UtcDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "campaigns",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("issue_number", sa.Integer, nullable=False),
        sa.Column("issue_file", sa.String(500), nullable=False),
        sa.Column("list_id", BigId, nullable=True),
        sa.Column("list_name", sa.String(100), nullable=False),
        sa.Column("segment", sa.Text, nullable=True),
        sa.Column("transport", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("subject", sa.Text, nullable=True),
        sa.Column("html", sa.Text, nullable=True),
        sa.Column("text", sa.Text, nullable=True),
        sa.Column("message", sa.Text, nullable=False, server_default=""),
        sa.Column("owner", sa.String(200), nullable=True),
        sa.Column("heartbeat_at", UtcDateTime, nullable=True),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("scheduled_at", UtcDateTime, nullable=True),
        sa.Column("started_at", UtcDateTime, nullable=True),
        sa.Column("finished_at", UtcDateTime, nullable=True),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_campaigns"),
        sa.ForeignKeyConstraint(
            ["list_id"], ["lists.id"], name="fk_campaigns_list_id_lists", ondelete="SET NULL"
        ),
        sa.CheckConstraint(
            "status IN ('draft', 'scheduled', 'sending', 'paused', 'sent', 'cancelled', "
            "'failed', 'missed')",
            name="ck_campaigns_status",
        ),
        sa.CheckConstraint(
            "transport IN ('sendgrid', 'smtp', 'outbox')", name="ck_campaigns_transport"
        ),
    )
    op.create_index("ix_campaigns_status", "campaigns", ["status"])
    op.create_table(
        "batches",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("campaign_id", BigId, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("message_id", sa.String(200), nullable=True),
        sa.Column("error", sa.Text, nullable=False, server_default=""),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("finished_at", UtcDateTime, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_batches"),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name="fk_batches_campaign_id_campaigns",
            ondelete="CASCADE",
        ),
        sa.CheckConstraint(
            "status IN ('in_flight', 'sent', 'failed', 'in_doubt')", name="ck_batches_status"
        ),
    )
    op.create_index("ix_batches_campaign_id", "batches", ["campaign_id"])
    op.create_table(
        "deliveries",
        sa.Column("campaign_id", BigId, nullable=False),
        sa.Column("subscriber_id", BigId, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("batch_id", BigId, nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("campaign_id", "subscriber_id", name="pk_deliveries"),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name="fk_deliveries_campaign_id_campaigns",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["subscriber_id"],
            ["subscribers.id"],
            name="fk_deliveries_subscriber_id_subscribers",
            ondelete="CASCADE",
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'in_flight', 'sent', 'failed', 'skipped', 'in_doubt')",
            name="ck_deliveries_status",
        ),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_deliveries_subscriber_id", "deliveries", ["subscriber_id"])
    op.create_table(
        "rate_buckets",
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("tokens", sa.Float, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_rate_buckets"),
    )


def downgrade() -> None:
    op.drop_table("rate_buckets")
    op.drop_table("deliveries")
    op.drop_table("batches")
    op.drop_table("campaigns")
