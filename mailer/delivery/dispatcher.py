"""The dispatcher: sends a campaign's pending rows in batches, several requests on the wire at
once (the transport's ``concurrency``), and records every answer.

- A batch's rows are claimed (in_flight, committed) while other requests are on the wire, and
  checked for leavers and sent on their way (batch in_flight, committed) just before their own
  request; only its answer marks them sent. At most ``concurrency`` batches are in flight at
  any moment, so a sender killed outright leaves at most that many in doubt.
- What a failed request leads to (wait, back off, split, pause, in doubt) is the failure
  policy's decision (failure_policy.py); the request's thread carries out the waits and the
  tries again (request_window.py), the dispatcher records the outcome (ledger_store.py).
- A rate limit on any request holds every request until the provider's reset.
- Pause and cancel take effect before any further request; the requests already on the wire
  are answered and recorded. A request that gives up pauses the campaign: no further request
  starts, those on the wire are recorded.
- Stopped by Ctrl-C or an error with requests on the wire: answers that came are recorded,
  the other batches are in doubt, and the campaign pauses.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa

from mailer.clock import Clock, utc_now
from mailer.config import DeliverySettings
from mailer.delivery import failure_policy, local_time
from mailer.delivery.batch_pipeline import BatchPipeline, ReadyBatch
from mailer.delivery.failure_policy import Act, RetryPolicy
from mailer.delivery.ledger import LedgerMoved
from mailer.delivery.ledger_store import LedgerStore
from mailer.delivery.recipients import RecipientBuilder
from mailer.delivery.request_window import Outcome, RequestWindow
from mailer.delivery.transports.base import BatchContent, BatchResult, Transport


@dataclass
class Tally:
    """What this run did, for the progress bar and the summary."""

    sent: int = 0
    failed: int = 0
    skipped: int = 0
    in_doubt: int = 0
    requests: int = 0


ProgressHandler = Callable[[Tally], None]


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
        self.transport = transport
        self.campaign_id: int = content.campaign_id
        self.policy = policy
        self.retry = RetryPolicy(
            policy.retry_attempts, policy.retry_base_seconds, policy.retry_max_seconds
        )
        self.clock = clock
        self.sleep = sleep
        self.on_progress = on_progress
        self.tally = Tally()
        self.misfire_grace_seconds = misfire_grace_seconds
        self.store = LedgerStore(engine, self.campaign_id, clock)
        self.waves: local_time.Waves | None = None  # set for a local-time campaign
        self._stop_requested = threading.Event()
        batch_size = transport.max_batch
        if policy.max_per_second:
            # About a second's worth per batch keeps a capped send smooth, not bursty.
            batch_size = max(1, min(batch_size, int(policy.max_per_second)))
        self.batches = BatchPipeline(
            self.store,
            transport,
            content,
            RecipientBuilder(content, link_key),
            batch_size,
            policy.max_per_second,
        )
        # Claimed batches that go before any new read: the parts of a split batch.
        self._queued: deque[ReadyBatch] = deque()
        self._halted = ""  # why no further request may start (the campaign's state)
        self.window: RequestWindow

    def stop(self) -> None:
        """Ask the run to stop before its next request (from a signal handler or another
        thread); the requests on the wire are answered and recorded first."""
        self._stop_requested.set()

    # -- the loop ---------------------------------------------------------------------------

    def run(self) -> str:
        """Send every pending row; returns the campaign's state when this run stops."""
        taken = self.store.take_over(self.policy.stale_after_seconds)
        self.tally.in_doubt += taken.in_doubt
        if taken.local_time:
            self.waves = local_time.Waves(
                self.store.engine, self.campaign_id, self.misfire_grace_seconds, self.clock
            )
            self.waves.release()
        self.batches.start(taken.list_id, taken.snapshot_at)
        window = RequestWindow(
            self.transport,
            self.transport.concurrency,
            self.retry,
            lambda: self.store.beat() == "sending",
            clock=self.clock,
            sleep=self.sleep,
        )
        self.window = window
        ready: list[ReadyBatch | None] = [None]
        abandoned = False
        try:
            status = self._send_all(window, ready)
            return "sending" if status == "lost" else status
        except BaseException as exc:
            abandoned = True
            self._abandon(window, exc)
            raise
        finally:
            # Ctrl-C or a fault: the requests still on the wire are in doubt already.
            window.close(wait_for_requests=not abandoned)
            for batch in [ready[0], *self._queued]:
                if batch is not None and batch.claimed and batch.batch_id:
                    self.store.release_claimed(batch.batch_id)
            self.store.let_go()

    def _send_all(self, window: RequestWindow, ready: list[ReadyBatch | None]) -> str:
        """``ready[0]``: the next batch read (perhaps claimed ahead), kept where ``run`` can
        give it back however this ends."""
        after = 0  # the cursor: the last subscriber id sent on its way
        while True:
            blocked = 0.0  # a wait before the next request may start
            if not self._halted and window.has_room():
                blocked = window.hold.remaining()
                if not blocked:
                    if ready[0] is None and not self._queued:
                        ready[0], after = self._read_next(after, busy=not window.empty())
                    batch = self._queued[0] if self._queued else ready[0]
                    if batch is None:
                        if window.empty():
                            return self.batches.finish(
                                self.waves, stopping=self._stop_requested.is_set()
                            )
                    else:
                        try:
                            sent_off = self.batches.send_off(
                                batch, stopping=self._stop_requested.is_set()
                            )
                        except LedgerMoved:
                            ready[0] = self.batches.read(after)
                            continue
                        if sent_off.status != "sending" or sent_off.stopped:
                            self._halted = sent_off.status
                        elif sent_off.batch is None:
                            blocked = sent_off.wait
                        else:
                            if self._queued:
                                self._queued.popleft()
                            else:
                                ready[0] = None
                                after = sent_off.batch.rows.last_subscriber_id
                            self.tally.skipped += len(sent_off.batch.rows.skipped)
                            if sent_off.batch.request is not None:
                                window.start(sent_off.batch)
                            continue
            if window.empty():
                if self._halted:
                    return self._halted if self._halted != "paused" else self.store.status()
                self.sleep(blocked)
                continue
            if not self._halted and not self._queued:
                # While requests are on the wire: the next batch read, built and claimed.
                if ready[0] is None:
                    ready[0], after = self._read_next(after, busy=True)
                if ready[0] is not None and not ready[0].claimed:
                    ready[0] = self.batches.claim_ahead(ready[0])
            self._record(window.next_outcome())
            self._report()

    def _read_next(self, after: int, *, busy: bool) -> tuple[ReadyBatch | None, int]:
        """The next batch after the cursor; round again from the start when rows were given
        back behind it, or came due (a local-time wave)."""
        came_due = self.waves is not None and self.waves.release(busy=busy)
        ready = self.batches.read(after)
        if ready is None and (came_due or (after and self.store.pending_left())):
            after = 0
            ready = self.batches.read(after)
        return ready, after

    # -- outcomes ---------------------------------------------------------------------------

    def _record(self, outcome: Outcome) -> None:
        batch = outcome.batch
        self.tally.requests += outcome.requests
        attempts = outcome.tries.attempts
        if outcome.result is not None:
            self._answered(batch, outcome.result, attempts)
            return
        if outcome.stopped:
            self.store.give_back(batch.batch_id, outcome.stopped, attempts)
            self._halted = self._halted or self.store.status()
            return
        decision = outcome.decision
        assert decision is not None
        if decision.act is Act.IN_DOUBT:
            self.tally.in_doubt += self.store.in_doubt(batch.batch_id, decision.reason)
        elif decision.act is Act.REFUSE:
            refused = BatchResult(rejected={item.key: decision.reason for item in batch.items})
            self._answered(batch, refused, attempts)
        elif decision.act is Act.SPLIT:
            self._queued.extend(self.batches.split(batch, decision.reason))
        else:  # give up: nothing of the batch went out, the campaign pauses
            reason = f"{decision.reason}; nothing of that batch was sent"
            still_sending = not self._halted
            self.store.give_back(
                batch.batch_id, decision.reason, attempts, pause=reason if still_sending else None
            )
            self._halted = self._halted or "paused"

    def _answered(self, batch: ReadyBatch, result: BatchResult, attempts: int) -> None:
        keys = [item.key for item in batch.items]
        self.store.answered(batch.batch_id, keys, result, attempts)
        self.tally.failed += len(result.rejected)
        self.tally.in_doubt += len(result.in_doubt)
        self.tally.sent += len(batch.items) - result.not_sent
        if result.unsent:
            # The connection broke part way: give the server a moment before the rest.
            self.window.hold.extend(failure_policy.backoff(1, self.retry))

    def _abandon(self, window: RequestWindow, cause: BaseException) -> None:
        """Stopping (Ctrl-C, an error) with requests on the wire: the answers that came are
        recorded; the other requests may have gone out: in doubt, and the campaign pauses."""
        reason = (
            "interrupted while sending"
            if isinstance(cause, KeyboardInterrupt)
            else f"stopped by an error while requests were on the wire: {cause!r}"
        )
        left = window.left_on_the_wire()
        for batch, outcome in left:
            if outcome is not None:
                self._record(outcome)
            else:
                self.tally.in_doubt += self.store.in_doubt(
                    batch.batch_id, "interrupted mid-request"
                )
        if left and not self._halted:
            self.store.pause(reason)

    def _report(self) -> None:
        if self.on_progress is not None:
            self.on_progress(self.tally)
