"""What SendGrid's events told of each recipient: the delivery's outcome (processed,
deferred, delivered, bounced, blocked, dropped, spamreport) with its reason and time, and the
first open and click (all, and without machine opens and automated clicks), so a campaign's
unique opens and clicks are counted from its ledger rows, not from millions of events.

Times are seconds since 1970, as events.occurred_at. Nullable columns only: existing rows
stay as they are (no event has been applied to them) and SQLite adds them without copying
the table.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

NEW_COLUMNS = (
    "outcome",
    "outcome_reason",
    "outcome_at",
    "first_open_at",
    "first_human_open_at",
    "first_click_at",
    "first_human_click_at",
)


def upgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("outcome", sa.String(16), nullable=True))
        batch.add_column(sa.Column("outcome_reason", sa.Text, nullable=True))
        batch.add_column(sa.Column("outcome_at", sa.BigInteger, nullable=True))
        batch.add_column(sa.Column("first_open_at", sa.BigInteger, nullable=True))
        batch.add_column(sa.Column("first_human_open_at", sa.BigInteger, nullable=True))
        batch.add_column(sa.Column("first_click_at", sa.BigInteger, nullable=True))
        batch.add_column(sa.Column("first_human_click_at", sa.BigInteger, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        for name in reversed(NEW_COLUMNS):
            batch.drop_column(name)
