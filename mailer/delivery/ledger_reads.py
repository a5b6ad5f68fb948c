"""Reading the ledger for a sender: the next pending rows, and who among them left the list or
was suppressed since the snapshot. Nothing here writes; see ledger.py for the rows' moves.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

import orjson
import sqlalchemy as sa

from mailer.db.tables import deliveries, memberships, subscribers


class LedgerRecipient(NamedTuple):
    subscriber_id: int
    email: str
    name: str
    attributes: Mapping[str, Any]


@dataclass(frozen=True)
class PreparedBatch:
    """The next pending rows as read (nothing written yet): who to send to, and who to skip
    because they left the list or were suppressed since the snapshot."""

    recipients: list[LedgerRecipient]
    skipped: dict[int, str]
    first_subscriber_id: int
    last_subscriber_id: int
    """Where the next batch starts (exclusive)."""


def in_range(campaign_id: int, first: int, last: int) -> sa.ColumnElement[bool]:
    # Rows are addressed by primary-key range: a claim takes consecutive pending rows, so
    # the range plus a status or batch test picks exactly them, without a list of ids.
    return sa.and_(
        deliveries.c.campaign_id == campaign_id,
        deliveries.c.subscriber_id.between(first, last),
    )


def read_batch(
    connection: sa.Connection,
    campaign_id: int,
    after: int,
    size: int,
    *,
    attributes: bool = True,
) -> PreparedBatch | None:
    """The next pending rows after subscriber id ``after``, read but not claimed, so a sender
    can read the next batch while the last one is on the wire (``drop_leavers`` then checks
    them just before the claim). ``attributes``: whether the content uses any (decoding them
    is a good part of a read). None when no pending row is left after ``after``."""
    attributes_text = sa.cast(subscribers.c.attributes, sa.Text) if attributes else sa.null()
    query = (
        sa.select(
            deliveries.c.subscriber_id, subscribers.c.email, subscribers.c.name, attributes_text
        )
        .join(subscribers, subscribers.c.id == deliveries.c.subscriber_id)
        .where(
            deliveries.c.campaign_id == campaign_id,
            deliveries.c.status == "pending",
            deliveries.c.subscriber_id > after,
        )
        .order_by(deliveries.c.subscriber_id)
        .limit(size)
    )
    rows = connection.execute(query).all()
    if not rows:
        return None
    no_attributes: dict[str, Any] = {}
    # Plain tuples, one comprehension: this runs for every recipient of a campaign.
    recipients = [
        LedgerRecipient(
            subscriber_id, email, name, orjson.loads(values) if values else no_attributes
        )
        for subscriber_id, email, name, values in rows
    ]
    return PreparedBatch(recipients, {}, rows[0][0], rows[-1][0])


def drop_leavers(
    connection: sa.Connection,
    campaign_id: int,
    list_id: int | None,
    batch: PreparedBatch,
    suppressed: Mapping[str, str],
    batch_id: int | None = None,
) -> PreparedBatch:
    """The batch without whoever left the list or was suppressed since the snapshot (they
    move to ``skipped``). Run in the transaction that claims the batch (its rows pending) and
    again in the one that submits it (its rows in_flight under ``batch_id``), so it holds up
    to the request. ``suppressed``: address keys suppressed since the snapshot (see
    RecentSuppressions). Returns ``batch`` itself when nobody left."""
    wanted = {recipient.subscriber_id for recipient in batch.recipients}
    skipped: dict[int, str] = {}
    if list_id is not None:
        # The database finds the leavers (usually none) among the batch's rows: no row of a
        # thousand crosses into Python to be looked at.
        membership = sa.and_(
            memberships.c.list_id == list_id,
            memberships.c.subscriber_id == deliveries.c.subscriber_id,
        )
        rows_now = (
            deliveries.c.status == "pending"
            if batch_id is None
            else deliveries.c.batch_id == batch_id
        )
        found = connection.execute(
            sa.select(deliveries.c.subscriber_id, memberships.c.status)
            .select_from(deliveries.outerjoin(memberships, membership))
            .where(
                in_range(campaign_id, batch.first_subscriber_id, batch.last_subscriber_id),
                rows_now,
                sa.or_(memberships.c.status.is_(None), memberships.c.status != "confirmed"),
            )
        ).all()
        skipped = {
            int(subscriber_id): f"{status or 'no longer on the list'} before this batch"
            for subscriber_id, status in found
            if subscriber_id in wanted
        }
    if suppressed:
        for recipient in batch.recipients:
            reason = suppressed.get(recipient.email.lower())
            if reason is not None:
                skipped[recipient.subscriber_id] = f"suppressed ({reason})"
    if not skipped:
        return batch
    return PreparedBatch(
        [recipient for recipient in batch.recipients if recipient.subscriber_id not in skipped],
        {**batch.skipped, **skipped},
        batch.first_subscriber_id,
        batch.last_subscriber_id,
    )


def pending_left(connection: sa.Connection, campaign_id: int, after: int = 0) -> bool:
    """Whether a pending row is left (after subscriber id ``after``)."""
    return (
        connection.execute(
            sa.select(deliveries.c.subscriber_id)
            .where(
                deliveries.c.campaign_id == campaign_id,
                deliveries.c.status == "pending",
                deliveries.c.subscriber_id > after,
            )
            .limit(1)
        ).first()
        is not None
    )
