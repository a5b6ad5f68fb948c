"""Who a campaign is for: the audience of a list (and segment) at the snapshot, and who was
suppressed since, which a sender checks every batch against."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from mailer.db.tables import deliveries, memberships, subscribers, suppressions


def audience(
    list_id: int,
    where: sa.ColumnElement[bool] | None,
    *columns: sa.ColumnElement[Any],
) -> sa.Select[Any]:
    """``columns`` (the subscriber id by default) of whom a campaign to the list (and segment)
    is for: confirmed members whose address is not suppressed."""
    query = (
        sa.select(*(columns or (memberships.c.subscriber_id,)))
        .select_from(memberships)
        .join(subscribers, subscribers.c.id == memberships.c.subscriber_id)
        .where(memberships.c.list_id == list_id, memberships.c.status == "confirmed")
    )
    # An anti-join: however many addresses are suppressed, the query binds none of them.
    # (An erased address has no email_key, and no subscriber row either.)
    suppressed = sa.exists().where(suppressions.c.email_key == subscribers.c.email_key)
    query = query.where(~suppressed)
    if where is not None:
        query = query.where(where)
    return query


class RecentSuppressions:
    """Addresses suppressed since a campaign's snapshot, which excluded everyone suppressed
    before it. Each refresh reads only suppressions newer than the newest seen (with an
    overlap for transactions that committed late), so checking a batch costs nothing per
    recipient while nobody new is suppressed."""

    # Clocks of other hosts and transactions that commit late: look this far back.
    OVERLAP = timedelta(minutes=10)
    BEFORE_SNAPSHOT = timedelta(days=1)

    def __init__(self, snapshot_at: datetime) -> None:
        self.newest = snapshot_at - self.BEFORE_SNAPSHOT
        self.reasons: dict[str, str] = {}

    def refresh(self, connection: sa.Connection) -> dict[str, str]:
        rows = connection.execute(
            sa.select(suppressions.c.email_key, suppressions.c.reason, suppressions.c.created_at)
            .where(suppressions.c.created_at >= self.newest - self.OVERLAP)
            .where(suppressions.c.email_key.is_not(None))
        ).all()
        for key, reason, created_at in rows:
            self.reasons.setdefault(key, reason)
            self.newest = max(self.newest, created_at)
        return self.reasons


def count_audience(
    connection: sa.Connection, list_id: int, where: sa.ColumnElement[bool] | None
) -> int:
    return int(
        connection.execute(audience(list_id, where, sa.func.count())).scalar_one()
    )


def snapshot(
    connection: sa.Connection,
    campaign_id: int,
    list_id: int,
    where: sa.ColumnElement[bool] | None,
    now: datetime,
) -> int:
    """Write the campaign's ledger: one pending row per recipient not in it already."""
    already = sa.select(deliveries.c.subscriber_id).where(deliveries.c.campaign_id == campaign_id)
    rows = audience(
        list_id,
        where,
        sa.literal(campaign_id, type_=deliveries.c.campaign_id.type),
        memberships.c.subscriber_id,
        sa.literal("pending"),
        sa.literal(now, type_=deliveries.c.updated_at.type),
    ).where(memberships.c.subscriber_id.not_in(already))
    result = connection.execute(
        sa.insert(deliveries).from_select(
            ["campaign_id", "subscriber_id", "status", "updated_at"], rows
        )
    )
    return int(result.rowcount)
