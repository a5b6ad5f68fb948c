"""The per-recipient ledger: who a campaign is for, and what happened to each of them.

A row goes pending -> in_flight -> sent | failed, or to skipped (left the list, suppressed) or
in_doubt (its request may have reached the provider but the answer was lost). Rows are marked
in_flight and committed before their request is made, and sent only after the transport
confirmed them; nothing else moves a row to sent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
import sqlalchemy as sa

from mailer.audience.addresses import address_hash, address_key
from mailer.db.tables import batches, deliveries, memberships, subscribers, suppressions
from mailer.delivery.transports.base import BatchResult


@dataclass(frozen=True, slots=True)
class LedgerRecipient:
    subscriber_id: int
    email: str
    name: str
    attributes: Mapping[str, Any]


@dataclass(frozen=True)
class ClaimedBatch:
    batch_id: int
    recipients: list[LedgerRecipient]
    skipped: int
    last_subscriber_id: int
    """Where the next claim starts (exclusive)."""


def _suppressed_keys(connection: sa.Connection) -> list[str]:
    """Keys of suppressed addresses that may still have a subscriber row. An erased address
    (only its hash left) has none: erasure deletes the row and imports refuse the hash."""
    emails = connection.execute(
        sa.select(suppressions.c.email).where(suppressions.c.email.is_not(None))
    ).scalars()
    return sorted({address_key(email) for email in emails})


def audience(
    connection: sa.Connection,
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
    keys = _suppressed_keys(connection)
    if keys:
        query = query.where(subscribers.c.email_key.not_in(keys))
    if where is not None:
        query = query.where(where)
    return query


def count_audience(
    connection: sa.Connection, list_id: int, where: sa.ColumnElement[bool] | None
) -> int:
    return int(
        connection.execute(audience(connection, list_id, where, sa.func.count())).scalar_one()
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
        connection,
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


def _in_range(campaign_id: int, first: int, last: int) -> sa.ColumnElement[bool]:
    # Rows are addressed by primary-key range: a claim takes consecutive pending rows, so
    # the range plus a status or batch test picks exactly them, without a list of ids.
    return sa.and_(
        deliveries.c.campaign_id == campaign_id,
        deliveries.c.subscriber_id.between(first, last),
    )


def _set_errors(
    connection: sa.Connection,
    campaign_id: int,
    status: str,
    errors: Mapping[int, str],
    now: datetime,
) -> None:
    if not errors:
        return
    connection.execute(
        sa.update(deliveries)
        .where(
            deliveries.c.campaign_id == campaign_id,
            deliveries.c.subscriber_id == sa.bindparam("sid"),
        )
        .values(status=status, error=sa.bindparam("reason"), updated_at=now),
        [{"sid": sid, "reason": reason} for sid, reason in errors.items()],
    )


def claim_batch(
    connection: sa.Connection,
    campaign_id: int,
    list_id: int | None,
    after: int,
    size: int,
    now: datetime,
) -> ClaimedBatch | None:
    """Take the next pending rows after subscriber id ``after``: rows whose person left the
    list or was suppressed since the snapshot become skipped, the rest in_flight under a new
    batch. None when no pending row is left after ``after``."""
    membership = memberships.alias("membership")
    query = (
        sa.select(
            deliveries.c.subscriber_id,
            subscribers.c.email,
            subscribers.c.email_key,
            subscribers.c.name,
            sa.cast(subscribers.c.attributes, sa.Text).label("attributes"),
            membership.c.status.label("membership"),
        )
        .join(subscribers, subscribers.c.id == deliveries.c.subscriber_id)
        .outerjoin(
            membership,
            sa.and_(
                membership.c.subscriber_id == deliveries.c.subscriber_id,
                membership.c.list_id == list_id,
            ),
        )
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
    hashes = {address_hash(row.email_key): row.subscriber_id for row in rows}
    suppressed = connection.execute(
        sa.select(suppressions.c.address_hash, suppressions.c.reason).where(
            suppressions.c.address_hash.in_(list(hashes))
        )
    ).all()
    skipped = {hashes[hashed]: f"suppressed ({reason})" for hashed, reason in suppressed}
    for row in rows:
        if row.membership != "confirmed" and row.subscriber_id not in skipped:
            left = row.membership or "no longer on the list"
            skipped[row.subscriber_id] = f"{left} before this batch"
    _set_errors(connection, campaign_id, "skipped", skipped, now)
    recipients = [
        LedgerRecipient(row.subscriber_id, row.email, row.name, orjson.loads(row.attributes))
        for row in rows
        if row.subscriber_id not in skipped
    ]
    first, last = rows[0].subscriber_id, rows[-1].subscriber_id
    batch_id = 0
    if recipients:
        batch_id = _new_batch(connection, campaign_id, len(recipients), now)
        connection.execute(
            sa.update(deliveries)
            .where(_in_range(campaign_id, first, last), deliveries.c.status == "pending")
            .values(status="in_flight", batch_id=batch_id, updated_at=now)
        )
    return ClaimedBatch(batch_id, recipients, len(skipped), last)


def _new_batch(connection: sa.Connection, campaign_id: int, size: int, now: datetime) -> int:
    result = connection.execute(
        sa.insert(batches).values(
            campaign_id=campaign_id, status="in_flight", size=size, created_at=now
        )
    )
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def split_batch(
    connection: sa.Connection,
    campaign_id: int,
    batch_id: int,
    halves: Sequence[Sequence[int]],
    reason: str,
    now: datetime,
) -> list[int]:
    """A batch refused as a whole is tried again in parts: each part gets a batch of its own
    (committed before its request), the refused one is closed as failed."""
    connection.execute(
        sa.update(batches)
        .where(batches.c.id == batch_id)
        .values(status="failed", error=f"split in two: {reason}", finished_at=now)
    )
    new_ids = []
    for part in halves:
        part_id = _new_batch(connection, campaign_id, len(part), now)
        connection.execute(
            sa.update(deliveries)
            .where(
                deliveries.c.campaign_id == campaign_id,
                deliveries.c.subscriber_id.in_(list(part)),
            )
            .values(batch_id=part_id, updated_at=now)
        )
        new_ids.append(part_id)
    return new_ids


def finish_batch(
    connection: sa.Connection,
    campaign_id: int,
    batch_id: int,
    subscriber_ids: Sequence[int],
    result: BatchResult,
    *,
    attempts: int,
    now: datetime,
) -> None:
    """The transport answered: rejected recipients failed, unsent ones go back to pending,
    in-doubt ones wait for a decision, and the rest were sent."""
    _set_errors(connection, campaign_id, "failed", result.rejected, now)
    _set_errors(connection, campaign_id, "in_doubt", result.in_doubt, now)
    if result.unsent:
        connection.execute(
            sa.update(deliveries)
            .where(
                deliveries.c.campaign_id == campaign_id,
                deliveries.c.subscriber_id.in_(list(result.unsent)),
            )
            .values(status="pending", batch_id=None, updated_at=now)
        )
    connection.execute(
        sa.update(deliveries)
        .where(
            _in_range(campaign_id, min(subscriber_ids), max(subscriber_ids)),
            deliveries.c.batch_id == batch_id,
            deliveries.c.status == "in_flight",
        )
        .values(status="sent", updated_at=now)
    )
    problems = {**result.rejected, **result.unsent, **result.in_doubt}
    if result.in_doubt:
        status = "in_doubt"
    elif len(result.rejected) == len(subscriber_ids):
        status = "failed"
    else:
        status = "sent"
    error = "; ".join(sorted(set(problems.values())))[:2000]
    connection.execute(
        sa.update(batches)
        .where(batches.c.id == batch_id)
        .values(
            status=status,
            message_id=result.message_id,
            attempts=attempts,
            error=error,
            finished_at=now,
        )
    )


def give_back_batch(
    connection: sa.Connection, campaign_id: int, batch_id: int, error: str, attempts: int,
    now: datetime,
) -> None:  # fmt: skip
    """Nothing of the batch was sent (retries ran out, or the key was refused): its rows go
    back to pending for a later resume, the batch is closed as failed with the reason."""
    connection.execute(
        sa.update(deliveries)
        .where(
            deliveries.c.campaign_id == campaign_id,
            deliveries.c.batch_id == batch_id,
            deliveries.c.status == "in_flight",
        )
        .values(status="pending", batch_id=None, updated_at=now)
    )
    connection.execute(
        sa.update(batches)
        .where(batches.c.id == batch_id)
        .values(status="failed", error=error[:2000], attempts=attempts, finished_at=now)
    )


def mark_in_doubt(
    connection: sa.Connection, campaign_id: int, batch_id: int | None, error: str, now: datetime
) -> int:
    """The batch (or, with None, every in-flight batch of the campaign: a crashed sender's)
    may have been accepted: its rows become in_doubt, never resent without a decision."""
    rows = sa.and_(deliveries.c.campaign_id == campaign_id, deliveries.c.status == "in_flight")
    open_batches = sa.and_(batches.c.campaign_id == campaign_id, batches.c.status == "in_flight")
    if batch_id is not None:
        rows = sa.and_(rows, deliveries.c.batch_id == batch_id)
        open_batches = sa.and_(open_batches, batches.c.id == batch_id)
    connection.execute(
        sa.update(batches)
        .where(open_batches)
        .values(status="in_doubt", error=error, finished_at=now)
    )
    result = connection.execute(
        sa.update(deliveries).where(rows).values(status="in_doubt", error=error, updated_at=now)
    )
    return int(result.rowcount)


def resolve_in_doubt(
    connection: sa.Connection, campaign_id: int, *, resend: bool, now: datetime
) -> int:
    """An editor's decision on in_doubt rows: send them again, or count them as sent."""
    values: dict[str, Any] = (
        {"status": "pending", "batch_id": None} if resend else {"status": "sent"}
    )
    reason = "resent by an editor" if resend else "marked sent by an editor"
    result = connection.execute(
        sa.update(deliveries)
        .where(deliveries.c.campaign_id == campaign_id, deliveries.c.status == "in_doubt")
        .values(error=reason, updated_at=now, **values)
    )
    return int(result.rowcount)


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
