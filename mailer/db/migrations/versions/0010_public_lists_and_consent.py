"""Public lists and the consent record: a list is offered on the public pages only when it is
public (a private one is shown only to its members), and every subscribe, confirm,
unsubscribe and resubscribe is kept with when, through what and (if the operator chose)
from which IP address.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from mailer.db.types import BigId, UtcDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("lists") as batch:
        batch.add_column(sa.Column("public", sa.Boolean, nullable=False, server_default=sa.false()))
    op.create_table(
        "consent_events",
        sa.Column("id", BigId, nullable=False),
        sa.Column(
            "subscriber_id",
            BigId,
            sa.ForeignKey(
                "subscribers.id",
                ondelete="CASCADE",
                name=op.f("fk_consent_events_subscriber_id_subscribers"),
            ),
            nullable=False,
        ),
        sa.Column("list_name", sa.String(100), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("source", sa.String(100), nullable=False),
        sa.Column("ip", sa.String(64), nullable=True),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_events")),
        sa.CheckConstraint(
            "action IN ('subscribe', 'confirm', 'unsubscribe', 'resubscribe')",
            name=op.f("ck_consent_events_action"),
        ),
    )
    op.create_index("ix_consent_events_subscriber_id", "consent_events", ["subscriber_id"])


def downgrade() -> None:
    op.drop_index("ix_consent_events_subscriber_id", table_name="consent_events")
    op.drop_table("consent_events")
    with op.batch_alter_table("lists") as batch:
        batch.drop_column("public")
