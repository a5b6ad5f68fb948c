"""The per-recipient ledger: who a campaign is for, and what happened to each of them.

A row goes pending -> in_flight -> sent | failed, or to skipped (left the list, suppressed) or
in_doubt (its request may have reached the provider but the answer was lost). Rows are marked
in_flight and committed before their request is made, and sent only after the transport
confirmed them; nothing else moves a row to sent.

A batch is claimed (its rows in_flight) while the request before it is on the wire, and goes
in_flight itself, committed, just before its own request. A claimed batch never went out: a
sender that stops (or dies) with one gives its rows back to pending; only the rows of an
in_flight batch can be in doubt.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from mailer.db.tables import batches, deliveries
from mailer.delivery.ledger_reads import PreparedBatch, in_range
from mailer.delivery.transports.base import BatchResult


class LedgerMoved(Exception):
    """Rows of a prepared batch changed before it was claimed; read it again."""


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


def skip_leavers_of_claimed(
    connection: sa.Connection,
    campaign_id: int,
    batch_id: int,
    leavers: Mapping[int, str],
    remaining: int,
    now: datetime,
) -> None:
    """Some of a claimed batch left before its request: they are skipped, the batch shrinks
    (and goes, when nobody is left in it)."""
    _set_errors(connection, campaign_id, "skipped", leavers, now)
    if remaining:
        connection.execute(
            sa.update(batches).where(batches.c.id == batch_id).values(size=remaining)
        )
    else:
        connection.execute(sa.delete(batches).where(batches.c.id == batch_id))


def claim_prepared(
    connection: sa.Connection, campaign_id: int, prepared: PreparedBatch, now: datetime
) -> int:
    """Skip the batch's leavers and mark its recipients in_flight under a new, claimed batch
    (``submit_batch`` comes before its request); returns the batch id (0 when everyone was
    skipped). Raises LedgerMoved, rolling the transaction back, if the rows changed since
    the read."""
    _set_errors(connection, campaign_id, "skipped", prepared.skipped, now)
    if not prepared.recipients:
        return 0
    batch_id = _new_batch(connection, campaign_id, len(prepared.recipients), now, "claimed")
    marked = connection.execute(
        sa.update(deliveries)
        .where(
            in_range(campaign_id, prepared.first_subscriber_id, prepared.last_subscriber_id),
            deliveries.c.status == "pending",
        )
        .values(status="in_flight", batch_id=batch_id, updated_at=now)
    ).rowcount
    if marked != len(prepared.recipients):
        raise LedgerMoved(f"expected {len(prepared.recipients)} pending rows, found {marked}")
    return batch_id


def submit_batch(connection: sa.Connection, batch_id: int) -> None:
    """The claimed batch's request is about to be made: from now on it may have gone out."""
    connection.execute(
        sa.update(batches)
        .where(batches.c.id == batch_id, batches.c.status == "claimed")
        .values(status="in_flight")
    )


def release_claimed(connection: sa.Connection, campaign_id: int, batch_id: int | None) -> int:
    """Give the rows of a claimed batch (with None: every claimed batch of the campaign, a
    stopped sender's) back to pending and forget the batch: its request was never made.
    Returns how many rows went back."""
    claimed = sa.and_(batches.c.campaign_id == campaign_id, batches.c.status == "claimed")
    if batch_id is not None:
        claimed = sa.and_(claimed, batches.c.id == batch_id)
    ids = [
        int(found) for found in connection.execute(sa.select(batches.c.id).where(claimed)).scalars()
    ]
    if not ids:
        return 0
    result = connection.execute(
        sa.update(deliveries)
        .where(
            deliveries.c.campaign_id == campaign_id,
            deliveries.c.batch_id.in_(ids),
            deliveries.c.status == "in_flight",
        )
        .values(status="pending", batch_id=None)
    )
    connection.execute(sa.delete(batches).where(batches.c.id.in_(ids)))
    return int(result.rowcount)


def _new_batch(
    connection: sa.Connection, campaign_id: int, size: int, now: datetime, status: str
) -> int:
    result = connection.execute(
        sa.insert(batches).values(campaign_id=campaign_id, status=status, size=size, created_at=now)
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
    """A batch refused as a whole is tried again in parts: each part gets a batch of its own,
    claimed (it goes in_flight, like any claimed batch, just before its own request), and the
    refused one is closed as failed."""
    connection.execute(
        sa.update(batches)
        .where(batches.c.id == batch_id)
        .values(status="failed", error=f"split in two: {reason}", finished_at=now)
    )
    new_ids = []
    for part in halves:
        part_id = _new_batch(connection, campaign_id, len(part), now, "claimed")
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
            in_range(campaign_id, min(subscriber_ids), max(subscriber_ids)),
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
    connection: sa.Connection,
    campaign_id: int,
    batch_id: int,
    error: str,
    attempts: int,
    now: datetime,
) -> None:
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
