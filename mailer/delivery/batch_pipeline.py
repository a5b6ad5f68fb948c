"""The batches a dispatcher sends, on their way to the wire: read from the ledger and prepared
for the transport (nothing written), claimed (their rows in_flight, committed) while requests
are on the wire, checked for leavers and sent off (in_flight, committed) just before their own
request, and given back to pending if they will not go out after all."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from mailer.delivery import campaign_audience, ledger, ledger_reads, local_time, rate_cap
from mailer.delivery.ledger_store import LedgerStore
from mailer.delivery.recipients import RecipientBuilder
from mailer.delivery.transports.base import BatchContent, Outgoing, PreparedRequest, Transport


@dataclass
class ReadyBatch:
    """A batch read from the ledger and prepared for the transport; ``batch_id`` is set
    when it is claimed."""

    rows: ledger_reads.PreparedBatch
    items: list[Outgoing]
    request: PreparedRequest | None
    """None when everyone in the batch is to be skipped."""
    batch_id: int = 0
    claimed: bool = False
    """Claimed: its rows are in_flight under ``batch_id`` (0 if all were skipped)."""


@dataclass(frozen=True)
class SendOff:
    """What came of trying to send a batch on its way."""

    status: str
    """The campaign's state: anything but "sending" means no request may start."""
    batch: ReadyBatch | None = None
    """Sent on its way (in_flight, committed); its ``request`` is None if all were skipped."""
    wait: float = 0.0
    """The rate cap asks for this wait before the batch may be claimed."""
    stopped: bool = False
    """This sender was asked to stop: nothing was claimed."""


class BatchPipeline:
    """One campaign's batches, for one dispatcher run."""

    def __init__(
        self,
        store: LedgerStore,
        transport: Transport,
        content: BatchContent,
        builder: RecipientBuilder,
        batch_size: int,
        max_per_second: float,
    ) -> None:
        assert content.campaign_id is not None
        self.store = store
        self.transport = transport
        self.content = content
        self.campaign_id: int = content.campaign_id
        self.builder = builder
        self.batch_size = batch_size
        self.max_per_second = max_per_second
        self.clock = store.clock
        self.list_id: int | None = None
        self.suppressions = campaign_audience.RecentSuppressions(self.clock())

    def start(self, list_id: int | None, snapshot_at: datetime) -> None:
        """The campaign's list (None: no list to leave), and when its audience was taken."""
        self.list_id = list_id
        self.suppressions = campaign_audience.RecentSuppressions(snapshot_at)

    def send_off(self, ready: ReadyBatch, *, stopping: bool) -> SendOff:
        """In one transaction: renew the heartbeat and, while the campaign is sending and
        this sender is not stopping, claim the batch (or look again for leavers in one
        claimed ahead) and mark it in_flight: after the commit its request may go out.
        Raises LedgerMoved when its rows changed since they were read."""
        with self.store.writing() as connection:
            status = self.store.beat(connection)
            if status != "sending" or stopping:
                return SendOff(status, stopped=stopping)
            if ready.claimed:
                ready = self.recheck(connection, ready)
            else:
                wait = self.wait_for_rate(connection, len(ready.items))
                if wait:
                    return SendOff(status, wait=wait)
                ready = self.claim(connection, ready)
            if ready.batch_id:
                ledger.submit_batch(connection, ready.batch_id)
        return SendOff(status, ready)

    def finish(self, waves: local_time.Waves | None, *, stopping: bool) -> str:
        """Nothing is left to read and nothing is on the wire: the campaign's state after
        finishing it (unless it is no longer sending, or this sender is stopping)."""
        with self.store.writing() as connection:
            status = self.store.beat(connection)
            if status != "sending" or stopping:
                return status
            return self.store.finish(connection, waves)

    def split(self, ready: ReadyBatch, reason: str) -> list[ReadyBatch]:
        """A batch refused because of some of its recipients, in two halves, each claimed
        under a batch of its own (the refused one is closed)."""
        middle = len(ready.items) // 2
        halves = [ready.items[:middle], ready.items[middle:]]
        ids = self.store.split(ready.batch_id, [[item.key for item in h] for h in halves], reason)
        parts = []
        for part_id, half in zip(ids, halves, strict=True):
            keys = {item.key for item in half}
            rows = _subset(ready.rows, keys)
            request = self.transport.prepare(self.content, half)
            parts.append(ReadyBatch(rows, list(half), request, part_id, claimed=True))
        return parts

    def claim_ahead(self, ready: ReadyBatch) -> ReadyBatch:
        """Claim the next batch while requests are on the wire, so that it can go as soon as
        one of them is answered. Left unclaimed, for the loop to deal with, when the rate cap
        asks for a wait or the rows changed since the read."""
        try:
            with self.store.writing() as connection:
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
        rows = ledger_reads.drop_leavers(
            connection, self.campaign_id, self.list_id, ready.rows, suppressed, ready.batch_id
        )
        if rows is ready.rows:
            return ready
        leavers = {
            key: reason for key, reason in rows.skipped.items() if key not in ready.rows.skipped
        }
        ledger.skip_leavers_of_claimed(
            connection,
            self.campaign_id,
            ready.batch_id,
            leavers,
            len(rows.recipients),
            self.clock(),
        )
        if not rows.recipients:
            return ReadyBatch(rows, [], None, claimed=True)
        prepared = self.prepare(rows)
        prepared.batch_id, prepared.claimed = ready.batch_id, True
        return prepared

    def read(self, after: int) -> ReadyBatch | None:
        """The next batch read and prepared (nothing written); None when none is left."""
        with self.store.reading() as connection:
            rows = ledger_reads.read_batch(
                connection,
                self.campaign_id,
                after,
                self.batch_size,
                attributes=self.builder.wants_attributes,
            )
        return None if rows is None else self.prepare(rows)

    def prepare(self, rows: ledger_reads.PreparedBatch) -> ReadyBatch:
        items = self.builder.outgoing(rows.recipients)
        request = self.transport.prepare(self.content, items) if items else None
        return ReadyBatch(rows, items, request)

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
            rows = ledger_reads.drop_leavers(
                connection, self.campaign_id, self.list_id, rows, suppressed
            )
            if rows is not ready.rows:
                ready = self.prepare(rows)
        ready.batch_id = ledger.claim_prepared(connection, self.campaign_id, rows, self.clock())
        ready.claimed = True
        if ready.items and self.max_per_second:
            rate_cap.charge(connection, self.max_per_second, len(ready.items), self.clock())
        return ready


def _subset(rows: ledger_reads.PreparedBatch, keys: set[int]) -> ledger_reads.PreparedBatch:
    """The rows of a batch that belong to one of its parts (by subscriber id)."""
    kept = [recipient for recipient in rows.recipients if recipient.subscriber_id in keys]
    return ledger_reads.PreparedBatch(kept, {}, kept[0].subscriber_id, kept[-1].subscriber_id)
