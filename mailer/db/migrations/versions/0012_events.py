"""SendGrid's Event Webhook: every event stored once (by its sg_event_id), tied to its
campaign, subscriber and batch; the links clicked stored once each; and batches found by
SendGrid's X-Message-Id.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from mailer.db.types import BigId, Json

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_batches_message_id", "batches", ["message_id"])
    op.create_table(
        "event_urls",
        sa.Column("id", BigId, nullable=False),
        sa.Column("url_hash", sa.String(64), nullable=False),
        sa.Column("url", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_urls")),
        sa.UniqueConstraint("url_hash", name=op.f("uq_event_urls_url_hash")),
    )
    op.create_table(
        "events",
        sa.Column("id", BigId, nullable=False),
        sa.Column("sg_event_id", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(50), nullable=False),
        sa.Column("occurred_at", sa.BigInteger, nullable=False),
        sa.Column(
            "campaign_id",
            BigId,
            sa.ForeignKey(
                "campaigns.id", ondelete="CASCADE", name=op.f("fk_events_campaign_id_campaigns")
            ),
            nullable=True,
        ),
        sa.Column(
            "subscriber_id",
            BigId,
            sa.ForeignKey(
                "subscribers.id",
                ondelete="CASCADE",
                name=op.f("fk_events_subscriber_id_subscribers"),
            ),
            nullable=True,
        ),
        sa.Column("batch_id", BigId, nullable=True),
        sa.Column("email_key", sa.String(320), nullable=True),
        sa.Column("reason", sa.Text, nullable=True),
        sa.Column("status", sa.String(32), nullable=True),
        sa.Column("bounce_type", sa.String(16), nullable=True),
        sa.Column("classification", sa.String(64), nullable=True),
        sa.Column(
            "url_id",
            BigId,
            sa.ForeignKey("event_urls.id", name=op.f("fk_events_url_id_event_urls")),
            nullable=True,
        ),
        sa.Column("machine", sa.Boolean, nullable=True),
        sa.Column("asm_group_id", sa.Integer, nullable=True),
        sa.Column("extra", Json, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
        sa.UniqueConstraint("sg_event_id", name=op.f("uq_events_sg_event_id")),
    )
    op.create_index("ix_events_campaign_id_kind", "events", ["campaign_id", "kind"])
    op.create_index(
        "ix_events_subscriber_id_occurred_at", "events", ["subscriber_id", "occurred_at"]
    )
    op.create_index(
        "ix_events_email_key",
        "events",
        ["email_key"],
        sqlite_where=sa.text("email_key IS NOT NULL"),
        postgresql_where=sa.text("email_key IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_events_email_key", table_name="events")
    op.drop_index("ix_events_subscriber_id_occurred_at", table_name="events")
    op.drop_index("ix_events_campaign_id_kind", table_name="events")
    op.drop_table("events")
    op.drop_table("event_urls")
    op.drop_index("ix_batches_message_id", table_name="batches")
