"""The requests of one campaign on the wire at once, each in a thread of its own that makes the
request and tries it again as the failure policy says, until it has an outcome for the
dispatcher to record.

A request that meets a rate limit holds every request of the campaign (``Hold``): none starts,
and none is tried again, before the provider's reset. A request about to be tried again after
a wait first asks whether the campaign is still sending, so a pause or a cancel takes effect
before any further request.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime, timedelta

from mailer.clock import Clock
from mailer.delivery.batch_pipeline import ReadyBatch
from mailer.delivery.failure_policy import Act, Decision, RetryPolicy, Tries, decide
from mailer.delivery.transports.base import BatchResult, Transport, TransportError


class Hold:
    """A time before which no request of the campaign starts (set by a rate limit)."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self._until: datetime | None = None

    def extend(self, seconds: float) -> None:
        until = self.clock() + timedelta(seconds=seconds)
        with self._lock:
            if self._until is None or until > self._until:
                self._until = until

    def remaining(self) -> float:
        with self._lock:
            until = self._until
        if until is None:
            return 0.0
        return max((until - self.clock()).total_seconds(), 0.0)


@dataclass(frozen=True)
class Outcome:
    """How a batch's request ended: answered (``result``), a failure the policy will not
    retry (``decision``), or given up because the campaign stopped sending while it waited to
    try again (``stopped``, the reason)."""

    batch: ReadyBatch
    tries: Tries
    """Every try, the answered one included."""
    result: BatchResult | None = None
    decision: Decision | None = None
    stopped: str = ""

    @property
    def requests(self) -> int:
        return self.tries.attempts + self.tries.rate_limited


class RequestWindow:
    """Up to ``size`` requests at once, one thread each."""

    def __init__(
        self,
        transport: Transport,
        size: int,
        policy: RetryPolicy,
        still_sending: Callable[[], bool],
        *,
        clock: Clock,
        sleep: Callable[[float], None],
    ) -> None:
        self.transport = transport
        self.size = max(1, size)
        self.policy = policy
        self.still_sending = still_sending
        self.sleep = sleep
        self.hold = Hold(clock)
        self._threads = ThreadPoolExecutor(self.size, thread_name_prefix="mailer-deliver")
        self.on_the_wire: dict[Future[Outcome], ReadyBatch] = {}
        self._faulted: list[ReadyBatch] = []

    def has_room(self) -> bool:
        return len(self.on_the_wire) < self.size

    def empty(self) -> bool:
        return not self.on_the_wire

    def start(self, batch: ReadyBatch) -> None:
        """The batch is in_flight (committed): make its request."""
        self.on_the_wire[self._threads.submit(self._deliver, batch)] = batch

    def next_outcome(self) -> Outcome:
        """Wait for a request to end; raises what its thread raised (not a transport failure,
        which the policy decides on, but a fault), after taking it off the window."""
        done, _ = wait(self.on_the_wire, return_when=FIRST_COMPLETED)
        finished = next(iter(done))
        batch = self.on_the_wire.pop(finished)
        try:
            return finished.result()
        except BaseException:
            self._faulted.append(batch)  # its request may have gone out
            raise

    def left_on_the_wire(self) -> list[tuple[ReadyBatch, Outcome | None]]:
        """Stopping early: every batch still in the window, with its outcome if it came."""
        left: list[tuple[ReadyBatch, Outcome | None]] = [(batch, None) for batch in self._faulted]
        self._faulted.clear()
        for future, batch in self.on_the_wire.items():
            came = future.done() and future.exception() is None
            left.append((batch, future.result() if came else None))
        self.on_the_wire.clear()
        return left

    def close(self, *, wait_for_requests: bool = True) -> None:
        self._threads.shutdown(wait=wait_for_requests, cancel_futures=True)

    def _deliver(self, batch: ReadyBatch) -> Outcome:
        """In a thread of the window: the batch's request, tried until it has an outcome."""
        assert batch.request is not None
        tries = Tries()
        if held := self.hold.remaining():  # a rate limit came after the batch was sent off
            self.sleep(held)
            if not self.still_sending():
                return Outcome(batch, tries, stopped="paused while rate limited")
        while True:
            try:
                result = self.transport.deliver(batch.request)
            except TransportError as failure:
                decision = decide(failure, tries, len(batch.request.batch), self.policy)
                tries = decision.tries
                if decision.act is not Act.RETRY:
                    return Outcome(batch, tries, decision=decision)
                if decision.hold_everyone:
                    self.hold.extend(decision.wait)
                self.sleep(max(decision.wait, self.hold.remaining()))
                if not self.still_sending():
                    why = "rate limited" if decision.hold_everyone else "between tries"
                    return Outcome(batch, tries, stopped=f"paused while {why}")
            else:
                return Outcome(batch, Tries(tries.attempts + 1, tries.rate_limited), result)
