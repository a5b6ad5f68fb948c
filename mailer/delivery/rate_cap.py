"""The optional send rate cap: a token bucket kept in the database.

Stored rather than held in memory so that a restart (or a second worker) does not get a fresh
full bucket: the cap holds across processes and across crashes. The bucket may go into debt by
one batch, so a batch larger than a second's allowance still goes out, and the next one waits
until the debt is paid; over time the rate is exactly the cap.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from mailer.db.tables import rate_buckets

BUCKET = "delivery"


def _tokens(connection: sa.Connection, per_second: float, now: datetime) -> tuple[float, bool]:
    row = connection.execute(
        sa.select(rate_buckets.c.tokens, rate_buckets.c.updated_at).where(
            rate_buckets.c.name == BUCKET
        )
    ).first()
    capacity = max(per_second, 1.0)
    if row is None:
        return capacity, False
    elapsed = max((now - row.updated_at).total_seconds(), 0.0)
    return min(capacity, row.tokens + elapsed * per_second), True


def wait_needed(connection: sa.Connection, per_second: float, now: datetime) -> float:
    """Seconds until the bucket is out of debt (0 when the next batch may go now)."""
    tokens, _ = _tokens(connection, per_second, now)
    return max(-tokens, 0.0) / per_second


def charge(connection: sa.Connection, per_second: float, count: int, now: datetime) -> None:
    """Take ``count`` tokens for a batch about to go out. Call inside the write transaction
    that claims the batch, which serializes the senders sharing the bucket."""
    tokens, stored = _tokens(connection, per_second, now)
    values = {"tokens": tokens - count, "updated_at": now}
    if stored:
        connection.execute(
            sa.update(rate_buckets).where(rate_buckets.c.name == BUCKET).values(**values)
        )
    else:
        connection.execute(sa.insert(rate_buckets).values(name=BUCKET, **values))
