"""Claimed batches: a sender claims the next batch while a request is on the wire; a claimed
batch has not gone out (unlike an in_flight one), so a stopped sender's claim is given back.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

BEFORE = "status IN ('in_flight', 'sent', 'failed', 'in_doubt')"
AFTER = "status IN ('claimed', 'in_flight', 'sent', 'failed', 'in_doubt')"


def _check(condition: str) -> None:
    # SQLite cannot alter a constraint: batch mode copies the table (batches is small).
    with op.batch_alter_table("batches", recreate="auto") as batch:
        batch.drop_constraint("ck_batches_status", type_="check")
        batch.create_check_constraint(op.f("ck_batches_status"), condition)


def upgrade() -> None:
    _check(AFTER)


def downgrade() -> None:
    op.execute("DELETE FROM batches WHERE status = 'claimed'")
    _check(BEFORE)
