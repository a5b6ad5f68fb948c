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


def reserve(connection: sa.Connection, per_second: float, count: int, now: datetime) -> float:
    """Take ``count`` tokens and return 0, or take nothing and return the seconds to wait.
    Call inside a write transaction, which serializes the senders sharing the bucket."""
    row = connection.execute(
        sa.select(rate_buckets.c.tokens, rate_buckets.c.updated_at).where(
            rate_buckets.c.name == BUCKET
        )
    ).first()
    capacity = max(per_second, 1.0)
    if row is None:
        tokens = capacity
    else:
        elapsed = max((now - row.updated_at).total_seconds(), 0.0)
        tokens = min(capacity, row.tokens + elapsed * per_second)
    if tokens < 0:
        return -tokens / per_second
    values = {"tokens": tokens - count, "updated_at": now}
    if row is None:
        connection.execute(sa.insert(rate_buckets).values(name=BUCKET, **values))
    else:
        connection.execute(
            sa.update(rate_buckets).where(rate_buckets.c.name == BUCKET).values(**values)
        )
    return 0.0
