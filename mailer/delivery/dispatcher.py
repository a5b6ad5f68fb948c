"""The dispatcher: claims a campaign's next batch, hands it to the transport, records the
answer, and decides what each kind of failure means.

- Rows are marked in_flight (committed) before a request, sent or failed after its answer.
  The next batch is read, built and claimed while a request is on the wire (batch_pipeline),
  and checked for leavers just before its own request; one request at a time is on the wire.
- 429: wait as the provider says, then try again (not counted as a failed try).
- 5xx and connection failures: exponential backoff with jitter, bounded tries; then the batch
  goes back to pending and the campaign pauses with the reason.
- 401/403: stop at once; the batch goes back to pending, the campaign pauses.
- 400 naming recipients: the batch is split in halves until the offending recipients are
  alone; only they fail, with the provider's message. A 400 about the content pauses.
- Answer lost after the request went out: the batch is in_doubt, never resent silently.
- A sender that died (kill -9) leaves its in-flight batch behind; whoever takes the campaign
  over marks it in_doubt before sending anything else (and gives back the batch it had
  claimed but not sent).
- Pause and cancel take effect before the next batch.
"""

from __future__ import annotations

import random
import sys
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from enum import Enum

import sqlalchemy as sa

from mailer.clock import Clock, utc_now
from mailer.config import DeliverySettings
from mailer.db.engine import write_transaction
from mailer.db.tables import campaigns
from mailer.delivery import ledger, local_time, ownership
from mailer.delivery.batch_pipeline import BatchPipeline
from mailer.delivery.campaign_states import Action
from mailer.delivery.campaigns import move_campaign
from mailer.delivery.recipients import RecipientBuilder
from mailer.delivery.transports.base import (
    AnswerLost,
    AuthenticationFailed,
    BadRequest,
    BatchContent,
    BatchResult,
    Outgoing,
    PreparedRequest,
    RateLimited,
    TemporaryFailure,
    Transport,
)
from mailer.errors import MailerError

# A provider that keeps answering 429 for this many waits in a row is treated as failing.
MAX_RATE_LIMIT_WAITS = 100
LONGEST_RATE_LIMIT_WAIT = 900.0
SWITCH_INTERVAL_SECONDS = 0.0005


@dataclass
class Tally:
    """What this run did, for the progress bar and the summary."""

    sent: int = 0
    failed: int = 0
    skipped: int = 0
    in_doubt: int = 0
    requests: int = 0


ProgressHandler = Callable[[Tally], None]


class _Next(Enum):
    CONTINUE = "continue"
    STOP = "stop"


class Dispatcher:
    def __init__(
        self,
        engine: sa.Engine,
        transport: Transport,
        content: BatchContent,
        link_key: bytes,
        policy: DeliverySettings,
        *,
        clock: Clock = utc_now,
        sleep: Callable[[float], None] = time.sleep,
        on_progress: ProgressHandler | None = None,
        misfire_grace_seconds: float = 3600.0,
    ) -> None:
        if content.campaign_id is None:
            raise ValueError("a dispatcher sends a campaign; test sends go to the transport")
        self.engine = engine
        self.transport = transport
        self.content = content
        self.campaign_id: int = content.campaign_id
        self.policy = policy
        self.clock = clock
        self.sleep = sleep
        self.on_progress = on_progress
        self.me = ownership.this_process()
        self.tally = Tally()
        self.misfire_grace_seconds = misfire_grace_seconds
        self.waves: local_time.Waves | None = None  # set for a local-time campaign
        self._stop_requested = threading.Event()
        batch_size = transport.max_batch
        if policy.max_per_second:
            # About a second's worth per batch keeps a capped send smooth, not bursty.
            batch_size = max(1, min(batch_size, int(policy.max_per_second)))
        self.batches = BatchPipeline(
            engine, transport, content, RecipientBuilder(content, link_key), batch_size,
            policy.max_per_second, clock,
        )  # fmt: skip

    def stop(self) -> None:
        """Ask the run to stop before its next batch (from a signal handler or another
        thread); the batch on the wire is finished and recorded first."""
        self._stop_requested.set()

    # -- the loop ---------------------------------------------------------------------------

    def run(self) -> str:
        """Send every pending row; returns the campaign's state when this run stops."""
        self._take_over()
        # One thread delivers while this one records the last answer and prepares the next
        # batch; a single thread keeps at most one request on the wire.
        wire = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mailer-deliver")
        # An answer that has arrived waits for the GIL until this thread lets go of it: by
        # default up to 5 ms, a quarter of a batch's time on the wire. Switching more often
        # while sending hands the answer over sooner, so the provider is never left idle.
        switch_interval = sys.getswitchinterval()
        sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)
        try:
            return self._send_all(wire)
        finally:
            sys.setswitchinterval(switch_interval)
            wire.shutdown(wait=True)
            with write_transaction(self.engine) as connection:
                ownership.release(connection, self.campaign_id, self.me)

    def _send_all(self, wire: ThreadPoolExecutor) -> str:
        after = 0
        ready = self.batches.read(after)
        try:
            while True:
                came_due = self.waves is not None and self.waves.release(busy=ready is not None)
                if ready is None and (came_due or (after and self.batches.pending_left())):
                    after = 0  # rows given back behind the cursor (or due now): go round again
                    ready = self.batches.read(after)
                    continue
                try:
                    with write_transaction(self.engine) as connection:
                        status = ownership.beat(connection, self.campaign_id, self.me, self.clock())
                        if status != "sending":
                            return status or "sending"
                        if self._stop_requested.is_set():
                            return "sending"  # left for a resume or a worker to continue
                        if ready is None:
                            return self._finish(connection)
                        wait = 0.0
                        if ready.claimed:  # ahead of time: look for leavers since
                            ready = self.batches.recheck(connection, ready)
                        else:
                            wait = self.batches.wait_for_rate(connection, len(ready.items))
                            if not wait:
                                ready = self.batches.claim(connection, ready)
                        if ready.batch_id:
                            ledger.submit_batch(connection, ready.batch_id)
                except ledger.LedgerMoved:
                    ready = self.batches.read(after)
                    continue
                if wait:
                    self.sleep(wait)
                    continue
                after = ready.rows.last_subscriber_id
                self.tally.skipped += len(ready.rows.skipped)
                current, ready = ready, None
                if current.request is None:  # everyone in it was skipped
                    ready = self.batches.read(after)
                    continue
                answer = wire.submit(self.transport.deliver, current.request)
                try:
                    # While the request is on the wire: the next batch read, built and claimed.
                    ready = self.batches.read(after)
                    if ready is not None:
                        ready = self.batches.claim_ahead(ready)
                except BaseException as exc:
                    self._abandon(current.batch_id, current.request, answer, exc)
                    raise
                if self._deliver(current.batch_id, current.request, answer) is _Next.STOP:
                    return self._status()
                self._report()
        finally:
            if ready is not None and ready.claimed and ready.batch_id:
                self.batches.release(ready.batch_id)

    def _abandon(
        self,
        batch_id: int,
        request: PreparedRequest,
        answer: Future[BatchResult],
        cause: BaseException,
    ) -> None:
        """Stopping (Ctrl-C, an error) with a request on the wire: record its answer if it
        came, else it may have gone out: in doubt, and the campaign pauses."""
        if answer.done() and answer.exception() is None:
            self._answered(batch_id, request.batch, answer.result(), 1)
            return
        reason = (
            "interrupted while sending"
            if isinstance(cause, KeyboardInterrupt)
            else f"stopped by an error while a request was on the wire: {cause!r}"
        )
        with write_transaction(self.engine) as connection:
            self.tally.in_doubt += ledger.mark_in_doubt(
                connection, self.campaign_id, batch_id, "interrupted mid-request", self.clock()
            )
            self._pause(connection, reason)

    def _take_over(self) -> None:
        with write_transaction(self.engine) as connection:
            row = connection.execute(
                sa.select(
                    campaigns.c.status,
                    campaigns.c.list_id,
                    campaigns.c.started_at,
                    campaigns.c.local_time,
                ).where(campaigns.c.id == self.campaign_id)
            ).one()
            if row.status != "sending":
                raise MailerError(f"campaign {self.campaign_id} is {row.status}, not sending")
            holder = ownership.take(
                connection,
                self.campaign_id,
                self.me,
                self.clock(),
                self.policy.stale_after_seconds,
            )
            if holder is not None:
                raise MailerError(
                    f"campaign {self.campaign_id} is being sent by {holder}; "
                    "pause it there, or wait for that process to stop"
                )
            # A stopped sender's claimed batch never went out; whatever else is still in
            # flight belonged to a sender that stopped mid-request.
            ledger.release_claimed(connection, self.campaign_id, None)
            self.tally.in_doubt += ledger.mark_in_doubt(
                connection,
                self.campaign_id,
                None,
                "the sending process stopped while this batch was in flight",
                self.clock(),
            )
            if row.local_time:
                self.waves = local_time.Waves(
                    self.engine, self.campaign_id, self.misfire_grace_seconds, self.clock
                )
                self.waves.release(connection)
            self.batches.start(
                int(row.list_id) if row.list_id is not None else None,
                row.started_at or self.clock(),
            )

    def _finish(self, connection: sa.Connection) -> str:
        if self.waves is not None and self.waves.still_waiting(connection):
            return "sending"  # the next wave is not due yet: no sender is needed till then
        now = self.clock()
        move_campaign(connection, self.campaign_id, Action.finish, now, finished_at=now)
        return "sent"

    def _status(self) -> str:
        with self.engine.connect() as connection:
            status = connection.execute(
                sa.select(campaigns.c.status).where(campaigns.c.id == self.campaign_id)
            ).scalar_one()
        return str(status)

    def _report(self) -> None:
        if self.on_progress is not None:
            self.on_progress(self.tally)

    # -- one batch ----------------------------------------------------------------------------

    def _deliver(
        self,
        batch_id: int,
        request: PreparedRequest,
        first_answer: Future[BatchResult] | None = None,
    ) -> _Next:
        """Deliver the batch, trying again as its failures allow; ``first_answer`` is a first
        try already under way in the delivery thread."""
        items = request.batch
        attempts = 0
        rate_limited = 0
        while True:
            attempts += 1
            self.tally.requests += 1
            try:
                if first_answer is not None:
                    answer, first_answer = first_answer, None
                    result = answer.result()
                else:
                    result = self.transport.deliver(request)
            except RateLimited as exc:
                attempts -= 1
                rate_limited += 1
                if rate_limited > MAX_RATE_LIMIT_WAITS:
                    return self._give_up(batch_id, attempts, f"still rate limited: {exc}")
                wait = min(exc.retry_after or self._backoff(rate_limited), LONGEST_RATE_LIMIT_WAIT)
                if not self._wait(wait):
                    return self._give_back(batch_id, attempts, "paused while rate limited")
            except TemporaryFailure as exc:
                if attempts >= self.policy.retry_attempts:
                    return self._give_up(batch_id, attempts, f"{exc} ({attempts} tries)")
                if not self._wait(exc.retry_after or self._backoff(attempts)):
                    return self._give_back(batch_id, attempts, "paused between tries")
            except AuthenticationFailed as exc:
                return self._give_up(batch_id, attempts, str(exc))
            except AnswerLost as exc:
                with write_transaction(self.engine) as connection:
                    self.tally.in_doubt += ledger.mark_in_doubt(
                        connection, self.campaign_id, batch_id, str(exc), self.clock()
                    )
                return _Next.CONTINUE
            except BadRequest as exc:
                return self._refused(batch_id, items, attempts, exc)
            except KeyboardInterrupt:
                # The request may have gone out: same as a crash, but said at once.
                with write_transaction(self.engine) as connection:
                    self.tally.in_doubt += ledger.mark_in_doubt(
                        connection, self.campaign_id, batch_id, "interrupted mid-request",
                        self.clock(),
                    )  # fmt: skip
                    self._pause(connection, "interrupted while sending")
                raise
            else:
                return self._answered(batch_id, items, result, attempts)

    def _answered(
        self, batch_id: int, items: Sequence[Outgoing], result: BatchResult, attempts: int
    ) -> _Next:
        ids = [item.key for item in items]
        with write_transaction(self.engine) as connection:
            ledger.finish_batch(
                connection, self.campaign_id, batch_id, ids, result,
                attempts=attempts, now=self.clock(),
            )  # fmt: skip
        self.tally.failed += len(result.rejected)
        self.tally.in_doubt += len(result.in_doubt)
        self.tally.sent += len(items) - result.not_sent
        if result.unsent and not self._wait(self._backoff(1)):
            # The connection broke part way: give the server a moment before the rest.
            return _Next.STOP
        return _Next.CONTINUE

    def _refused(
        self, batch_id: int, items: Sequence[Outgoing], attempts: int, exc: BadRequest
    ) -> _Next:
        if not exc.names_recipients:
            return self._give_up(batch_id, attempts, f"the provider refused the content: {exc}")
        if len(items) == 1:
            refused = BatchResult(rejected={items[0].key: str(exc)})
            return self._answered(batch_id, items, refused, attempts)
        middle = len(items) // 2
        halves = [items[:middle], items[middle:]]
        with write_transaction(self.engine) as connection:
            part_ids = ledger.split_batch(
                connection, self.campaign_id, batch_id,
                [[item.key for item in half] for half in halves], str(exc), self.clock(),
            )  # fmt: skip
        for part_id, half in zip(part_ids, halves, strict=True):
            if self._deliver(part_id, self.transport.prepare(self.content, half)) is _Next.STOP:
                return _Next.STOP
        return _Next.CONTINUE

    def _backoff(self, attempt: int) -> float:
        ceiling = min(
            self.policy.retry_max_seconds, self.policy.retry_base_seconds * 2 ** (attempt - 1)
        )
        # "Full jitter": senders that failed together do not come back together.
        return random.uniform(ceiling / 2, ceiling)

    def _wait(self, seconds: float) -> bool:
        """Sleep, then renew the heartbeat; False if the campaign was paused or cancelled."""
        self.sleep(seconds)
        with write_transaction(self.engine) as connection:
            return ownership.beat(connection, self.campaign_id, self.me, self.clock()) == "sending"

    def _give_back(self, batch_id: int, attempts: int, reason: str) -> _Next:
        with write_transaction(self.engine) as connection:
            ledger.give_back_batch(
                connection, self.campaign_id, batch_id, reason, attempts, self.clock()
            )
        return _Next.STOP

    def _give_up(self, batch_id: int, attempts: int, reason: str) -> _Next:
        with write_transaction(self.engine) as connection:
            ledger.give_back_batch(
                connection, self.campaign_id, batch_id, reason, attempts, self.clock()
            )
            self._pause(connection, f"{reason}; nothing of that batch was sent")
        return _Next.STOP

    def _pause(self, connection: sa.Connection, message: str) -> None:
        move_campaign(
            connection, self.campaign_id, Action.interrupt, self.clock(), message=message
        )
