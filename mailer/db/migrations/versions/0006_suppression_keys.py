"""Suppressions keyed like subscribers: a campaign's audience leaves out the suppressed with one
anti-join on ``email_key`` instead of binding every suppressed address as a parameter (which
PostgreSQL refuses past 65,535 and SQLite past its own limit).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from mailer.audience.addresses import address_key

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

BACKFILL_ROWS = 10_000


def upgrade() -> None:
    with op.batch_alter_table("suppressions") as batch:
        batch.add_column(sa.Column("email_key", sa.String(320), nullable=True))
    # The key is the address lower-cased as Python does it (SQL's lower() is ASCII-only in
    # SQLite), so existing rows are filled in from Python, a slice at a time.
    connection = op.get_bind()
    table = sa.table(
        "suppressions",
        sa.column("address_hash", sa.String),
        sa.column("email", sa.String),
        sa.column("email_key", sa.String),
    )
    rows = connection.execute(
        sa.select(table.c.address_hash, table.c.email).where(table.c.email.is_not(None))
    ).all()
    update = (
        sa.update(table)
        .where(table.c.address_hash == sa.bindparam("hashed"))
        .values(email_key=sa.bindparam("key"))
    )
    for start in range(0, len(rows), BACKFILL_ROWS):
        connection.execute(
            update,
            [
                {"hashed": hashed, "key": address_key(email)}
                for hashed, email in rows[start : start + BACKFILL_ROWS]
            ],
        )
    op.create_index("ix_suppressions_email_key", "suppressions", ["email_key"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_suppressions_email_key", table_name="suppressions")
    with op.batch_alter_table("suppressions") as batch:
        batch.drop_column("email_key")
