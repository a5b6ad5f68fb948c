"""That a ``mailer worker`` is running, written where the admin app can read it.

A worker writes its row (``host:pid``) when it starts, renews ``seen_at`` as it loops (at most
every ``RENEW_SECONDS``, so a loop that turns several times a second costs nothing more) and
removes the row when it stops cleanly. A worker that was killed leaves its row, which simply
stops being renewed: readers judge by the newest ``seen_at``, never by the rows' presence.
``worker --once`` (run from cron) writes one row per host (``host:once``) at each run and leaves
it: the run is over before anyone reads it, and its row says runs keep coming.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from mailer.clock import Clock, utc_now
from mailer.db.engine import write_transaction
from mailer.db.tables import workers

log = logging.getLogger("mailer.worker")

# Well under a minute, so "not seen for N minutes" (N >= 1) is never a renewal just missed.
RENEW_SECONDS = 30.0


class WorkerPresence:
    def __init__(
        self,
        engine: sa.Engine,
        name: str,
        *,
        clock: Clock = utc_now,
        renew_seconds: float = RENEW_SECONDS,
    ) -> None:
        self.engine = engine
        self.name = name
        self.clock = clock
        self.every = timedelta(seconds=renew_seconds)
        self._written: datetime | None = None
        # Renewed from the worker's loop and from its timekeeper's thread (during a long send).
        self._lock = threading.Lock()

    def announce(self) -> None:
        """Write this worker's row, started and seen now (replacing one a previous process
        with the same pid left)."""
        now = self.clock()
        with self._lock, write_transaction(self.engine) as connection:
            connection.execute(sa.delete(workers).where(workers.c.name == self.name))
            connection.execute(
                sa.insert(workers).values(name=self.name, started_at=now, seen_at=now)
            )
            self._written = now

    def renew(self) -> bool:
        """Say this worker was seen now, if it last said so ``renew_seconds`` ago or more;
        whether it wrote. A database error is logged, not raised: sending goes on without it."""
        now = self.clock()
        with self._lock:
            if self._written is not None and now - self._written < self.every:
                return False
            try:
                self._write_seen(now)
            except SQLAlchemyError as exc:
                log.warning("worker %s: could not record that it runs: %s", self.name, exc)
                return False
            self._written = now
            return True

    def _write_seen(self, now: datetime) -> None:
        with write_transaction(self.engine) as connection:
            updated = connection.execute(
                sa.update(workers).where(workers.c.name == self.name).values(seen_at=now)
            ).rowcount
            if not updated:  # removed meanwhile (by hand, or a restored database)
                connection.execute(
                    sa.insert(workers).values(name=self.name, started_at=now, seen_at=now)
                )

    def visit(self) -> None:
        """Say a worker was seen now and leave the row (``worker --once``). Several runs on one
        host share the row, so an upsert: two at once both succeed. A database error is logged,
        not raised, as for ``renew``."""
        now = self.clock()
        try:
            with write_transaction(self.engine) as connection:
                insert = (
                    postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
                )
                connection.execute(
                    insert(workers)
                    .values(name=self.name, started_at=now, seen_at=now)
                    .on_conflict_do_update(index_elements=["name"], set_={"seen_at": now})
                )
        except SQLAlchemyError as exc:
            log.warning("worker %s: could not record that it runs: %s", self.name, exc)

    def withdraw(self) -> None:
        """Remove this worker's row (a clean stop). A database error is logged: the worker
        stops anyway, and its row is left to grow old."""
        with self._lock:
            try:
                with write_transaction(self.engine) as connection:
                    connection.execute(sa.delete(workers).where(workers.c.name == self.name))
            except SQLAlchemyError as exc:
                log.warning("worker %s: could not record that it stopped: %s", self.name, exc)
            self._written = None


def last_seen(connection: sa.Connection) -> datetime | None:
    """When any worker was last seen; None if none ever was (or every one stopped cleanly)."""
    seen: datetime | None = connection.execute(sa.select(sa.func.max(workers.c.seen_at))).scalar()
    return seen
