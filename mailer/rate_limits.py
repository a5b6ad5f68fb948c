"""Rate limits that hold across every `mailer serve` process: fixed-window counters in the
database.

Each hit is one statement, ``INSERT ... ON CONFLICT DO UPDATE SET hits = hits + 1 RETURNING
hits``, which SQLite and PostgreSQL both run atomically: two processes counting the same key
at once get two different numbers, so exactly ``limit`` hits of a window are allowed however
many servers share the database. Keys are stored as keyed hashes, so the table holds no
address or IP. A window's counter is deleted once the window is over.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from mailer.clock import Clock, utc_now
from mailer.db.engine import write_transaction
from mailer.db.tables import rate_limits

PURPOSE = re.compile(r"[a-z0-9][a-z0-9_.-]{0,49}")
# Expired windows deleted by one hit at most, so a hit never waits on a large clean-up.
PRUNE_BATCH = 500
# A process clears away ended windows at most this often: a flood of new keys (one window
# each) would otherwise add a clean-up transaction to every hit.
PRUNE_EVERY = timedelta(seconds=60)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


# When each database's ended windows are next cleared away by this process.
_next_prune: dict[str, datetime] = {}


@dataclass(frozen=True)
class RateLimit:
    """At most ``limit`` hits per key in each ``window_seconds``-long window."""

    purpose: str
    limit: int
    window_seconds: int

    def __post_init__(self) -> None:
        if not PURPOSE.fullmatch(self.purpose):
            raise ValueError(f"rate limit purpose {self.purpose!r}: use 1-50 of a-z 0-9 _ . -")
        if self.limit < 1 or self.window_seconds < 1:
            raise ValueError(f"rate limit {self.purpose}: limit and window must be positive")


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    hits: int
    """This hit's number in its window (1 for the first)."""
    retry_after: int
    """Seconds until the window ends: when a refused caller may try again."""


class RateLimiter:
    def __init__(self, engine: sa.Engine, secret: bytes, clock: Clock = utc_now) -> None:
        self.engine = engine
        self.clock = clock
        self._key = hashlib.sha256(b"mailer rate limit keys\n" + secret).digest()

    def key_hash(self, key: str) -> str:
        return hmac.new(self._key, key.encode("utf-8", "surrogatepass"), "sha256").hexdigest()

    def hit(self, rule: RateLimit, key: str) -> Verdict:
        """Count one hit of ``key`` and say whether it is within ``rule``."""
        with write_transaction(self.engine) as connection:
            verdict = self.hit_in(connection, rule, key)
        self.prune_now_and_then()
        return verdict

    def hit_in(self, connection: sa.Connection, rule: RateLimit, key: str) -> Verdict:
        """``hit`` inside the caller's write transaction (counted if it commits)."""
        now = self.clock()
        start = _window_start(now, rule.window_seconds)
        end = start + timedelta(seconds=rule.window_seconds)
        values = {
            "purpose": rule.purpose,
            "key_hash": self.key_hash(key),
            "window_start": start,
            "hits": 1,
            "expires_at": end,
        }
        insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
        statement = (
            insert(rate_limits)
            .values(values)
            .on_conflict_do_update(
                index_elements=["purpose", "key_hash", "window_start"],
                set_={"hits": rate_limits.c.hits + 1},
            )
            .returning(rate_limits.c.hits)
        )
        hits = int(connection.execute(statement).scalar_one())
        allowed = hits <= rule.limit
        retry_after = 0 if allowed else max(1, math.ceil((end - now).total_seconds()))
        return Verdict(allowed, hits, retry_after)

    def hand_back_in(
        self, connection: sa.Connection, rule: RateLimit, key: str, counted_at: datetime
    ) -> None:
        """Take back one hit of ``key`` counted at ``counted_at``, inside the caller's write
        transaction: for a hit that turned out not to count (a log-in that succeeded)."""
        connection.execute(
            rate_limits.update()
            .where(
                rate_limits.c.purpose == rule.purpose,
                rate_limits.c.key_hash == self.key_hash(key),
                rate_limits.c.window_start == _window_start(counted_at, rule.window_seconds),
                rate_limits.c.hits > 0,
            )
            .values(hits=rate_limits.c.hits - 1)
        )

    def prune_now_and_then(self) -> None:
        """``prune`` unless this process did within ``PRUNE_EVERY``."""
        now = self.clock()
        due = _next_prune.get(str(self.engine.url))
        if due is not None and now < due:
            return
        _next_prune[str(self.engine.url)] = now + PRUNE_EVERY
        self.prune(now)

    def prune(self, now: datetime | None = None) -> int:
        """Delete counters of windows that have ended (some of them when there are many);
        the number deleted. Rows another process is deleting are skipped, not waited for."""
        expired = (
            sa.select(rate_limits.c.purpose, rate_limits.c.key_hash, rate_limits.c.window_start)
            .where(rate_limits.c.expires_at <= (now or self.clock()))
            .limit(PRUNE_BATCH)
            .with_for_update(skip_locked=True)
        )
        key = sa.tuple_(rate_limits.c.purpose, rate_limits.c.key_hash, rate_limits.c.window_start)
        with write_transaction(self.engine) as connection:
            return connection.execute(sa.delete(rate_limits).where(key.in_(expired))).rowcount


def _window_start(now: datetime, seconds: int) -> datetime:
    elapsed = (now - EPOCH) // timedelta(seconds=1)
    return EPOCH + timedelta(seconds=elapsed - elapsed % seconds)
