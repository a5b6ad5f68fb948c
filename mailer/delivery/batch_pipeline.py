"""The batches a dispatcher sends, on their way to the wire: read from the ledger and prepared
for the transport (nothing written), claimed (their rows in_flight, committed) while the request
before them is on the wire, checked for leavers just before their own request, and given back
to pending if they will not go out after all."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from mailer.clock import Clock
from mailer.db.engine import write_transaction
from mailer.delivery import campaign_audience, ledger, rate_cap
from mailer.delivery.recipients import RecipientBuilder
from mailer.delivery.transports.base import BatchContent, Outgoing, PreparedRequest, Transport


@dataclass
class ReadyBatch:
    """A batch read from the ledger and prepared for the transport; ``batch_id`` is set
    when it is claimed."""

    rows: ledger.PreparedBatch
    items: list[Outgoing]
    request: PreparedRequest | None
    """None when everyone in the batch is to be skipped."""
    batch_id: int = 0
    claimed: bool = False
    """Claimed: its rows are in_flight under ``batch_id`` (0 if all were skipped)."""


class BatchPipeline:
    """One campaign's batches, for one dispatcher run."""

    def __init__(
        self,
        engine: sa.Engine,
        transport: Transport,
        content: BatchContent,
        builder: RecipientBuilder,
        batch_size: int,
        max_per_second: float,
        clock: Clock,
    ) -> None:
        assert content.campaign_id is not None
        self.engine = engine
        self.transport = transport
        self.content = content
        self.campaign_id: int = content.campaign_id
        self.builder = builder
        self.batch_size = batch_size
        self.max_per_second = max_per_second
        self.clock = clock
        self.list_id: int | None = None
        self.suppressions = campaign_audience.RecentSuppressions(clock())

    def start(self, list_id: int | None, snapshot_at: datetime) -> None:
        """The campaign's list (None: no list to leave), and when its audience was taken."""
        self.list_id = list_id
        self.suppressions = campaign_audience.RecentSuppressions(snapshot_at)

    def claim_ahead(self, ready: ReadyBatch) -> ReadyBatch:
        """Claim the next batch while a request is on the wire, so that it can go as soon as
        that one is answered. Left unclaimed, for the loop to deal with, when the rate cap
        asks for a wait or the rows changed since the read."""
        try:
            with write_transaction(self.engine) as connection:
                if self.wait_for_rate(connection, len(ready.items)):
                    return ready
                # Leavers are looked for once, just before the request (see recheck).
                return self.claim(connection, ready, check_leavers=False)
        except ledger.LedgerMoved:
            return ready

    def recheck(self, connection: sa.Connection, ready: ReadyBatch) -> ReadyBatch:
        """A batch claimed ahead, just before its request: whoever left since the claim is
        skipped after all, so leaving takes effect for every request made after it."""
        suppressed = self.suppressions.refresh(connection)
        rows = ledger.drop_leavers(
            connection, self.campaign_id, self.list_id, ready.rows, suppressed, ready.batch_id
        )
        if rows is ready.rows:
            return ready
        leavers = {
            key: reason for key, reason in rows.skipped.items() if key not in ready.rows.skipped
        }
        ledger.skip_leavers_of_claimed(
            connection, self.campaign_id, ready.batch_id, leavers, len(rows.recipients),
            self.clock(),
        )  # fmt: skip
        if not rows.recipients:
            return ReadyBatch(rows, [], None, claimed=True)
        prepared = self.prepare(rows)
        prepared.batch_id, prepared.claimed = ready.batch_id, True
        return prepared

    def release(self, batch_id: int) -> None:
        """Give a claimed batch that will not go out now back to pending. Best effort: if the
        database is what failed, whoever takes the campaign over gives it back."""
        try:
            with write_transaction(self.engine) as connection:
                ledger.release_claimed(connection, self.campaign_id, batch_id)
        except sa.exc.SQLAlchemyError:
            pass

    def read(self, after: int) -> ReadyBatch | None:
        """The next batch read and prepared (nothing written); None when none is left."""
        with self.engine.connect() as connection:
            rows = ledger.read_batch(
                connection, self.campaign_id, after, self.batch_size,
                attributes=self.builder.wants_attributes,
            )  # fmt: skip
        return None if rows is None else self.prepare(rows)

    def prepare(self, rows: ledger.PreparedBatch) -> ReadyBatch:
        items = self.builder.outgoing(rows.recipients)
        request = self.transport.prepare(self.content, items) if items else None
        return ReadyBatch(rows, items, request)

    def pending_left(self) -> bool:
        with self.engine.connect() as connection:
            return ledger.pending_left(connection, self.campaign_id)

    def wait_for_rate(self, connection: sa.Connection, recipients: int) -> float:
        if not self.max_per_second or not recipients:
            return 0.0  # no cap, or nobody to send to in this batch: no reason to wait
        return rate_cap.wait_needed(connection, self.max_per_second, self.clock())

    def claim(
        self,
        connection: sa.Connection,
        ready: ReadyBatch,
        *,
        check_leavers: bool = True,
    ) -> ReadyBatch:
        """Claim the batch (in_flight, committed with the transaction), after a check for
        leavers unless one comes just before its request anyway; returns it as claimed,
        prepared again if someone left since it was read."""
        rows = ready.rows
        if check_leavers:
            suppressed = self.suppressions.refresh(connection)
            rows = ledger.drop_leavers(connection, self.campaign_id, self.list_id, rows, suppressed)
            if rows is not ready.rows:
                ready = self.prepare(rows)
        ready.batch_id = ledger.claim_prepared(connection, self.campaign_id, rows, self.clock())
        ready.claimed = True
        if ready.items and self.max_per_second:
            rate_cap.charge(connection, self.max_per_second, len(ready.items), self.clock())
        return ready
