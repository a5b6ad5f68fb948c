"""Campaign reports without reading every event: each campaign's events counted by kind and
hour (``event_tallies``), the kinds of event each recipient had (``deliveries.event_kinds``,
one bit per kind, indexed) and an index of clicks by link and person.

Events stored before this migration are counted here, so reports stay whole.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from mailer.db.types import BigId

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

# As mailer.events.kinds.KIND_BITS and FIRST_BITS on the day of this migration.
KIND_BITS = {
    "processed": 1,
    "deferred": 2,
    "delivered": 4,
    "bounce": 8,
    "dropped": 16,
    "spamreport": 32,
}
FIRST_BITS = {
    "first_open_at": 64,
    "first_human_open_at": 128,
    "first_click_at": 256,
    "first_human_click_at": 512,
}

COUNT_EVENTS = """
INSERT INTO event_tallies (campaign_id, kind, hour, events, machine_events)
SELECT campaign_id, kind, (occurred_at / 3600) * 3600, COUNT(*),
       SUM(CASE WHEN machine THEN 1 ELSE 0 END)
FROM events WHERE campaign_id IS NOT NULL
GROUP BY campaign_id, kind, occurred_at / 3600
"""


def mark_event_kinds() -> str:
    """Each delivery's bits, from its events (a sum of distinct bits is their union)."""
    bit = " ".join(f"WHEN '{kind}' THEN {value}" for kind, value in KIND_BITS.items())
    kinds = ", ".join(f"'{kind}'" for kind in KIND_BITS)
    return f"""
UPDATE deliveries SET event_kinds = seen.bits
FROM (
    SELECT campaign_id, subscriber_id, SUM(DISTINCT CASE kind {bit} END) AS bits
    FROM events
    WHERE kind IN ({kinds}) AND campaign_id IS NOT NULL AND subscriber_id IS NOT NULL
    GROUP BY campaign_id, subscriber_id
) AS seen
WHERE deliveries.campaign_id = seen.campaign_id
  AND deliveries.subscriber_id = seen.subscriber_id
"""


def mark_firsts() -> str:
    """The bits of each delivery's first opens and clicks."""
    bits = " | ".join(
        f"CASE WHEN {column} IS NULL THEN 0 ELSE {bit} END" for column, bit in FIRST_BITS.items()
    )
    return f"""
UPDATE deliveries SET event_kinds = COALESCE(event_kinds, 0) | {bits}
WHERE first_open_at IS NOT NULL OR first_click_at IS NOT NULL
"""


def upgrade() -> None:
    op.create_table(
        "event_tallies",
        sa.Column("campaign_id", BigId, nullable=False),
        sa.Column("kind", sa.String(50), nullable=False),
        sa.Column("hour", sa.BigInteger, nullable=False),
        sa.Column("events", sa.BigInteger, nullable=False),
        sa.Column("machine_events", sa.BigInteger, nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_event_tallies_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("campaign_id", "kind", "hour", name=op.f("pk_event_tallies")),
        sqlite_with_rowid=False,
    )
    op.create_index(
        "ix_events_clicks",
        "events",
        ["campaign_id", "url_id", "subscriber_id", "machine"],
        sqlite_where=sa.text("kind = 'click'"),
        postgresql_where=sa.text("kind = 'click'"),
    )
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("event_kinds", sa.Integer, nullable=True))
    op.execute(COUNT_EVENTS)
    op.execute(mark_event_kinds())
    op.execute(mark_firsts())
    op.create_index(
        "ix_deliveries_event_kinds",
        "deliveries",
        ["campaign_id", "event_kinds"],
        sqlite_where=sa.text("event_kinds IS NOT NULL"),
        postgresql_where=sa.text("event_kinds IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_deliveries_event_kinds", table_name="deliveries")
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("event_kinds")
    op.drop_index("ix_events_clicks", table_name="events")
    op.drop_table("event_tallies")
