"""Posts the emulator's events the way SendGrid's Event Webhook does.

Events go out as JSON arrays, every ``interval_seconds`` or as soon as a batch would pass
768 KB, each POST signed (see webhook_key). A batch is made once: its bytes never change, and
an answer other than 2xx, or no answer, sends those same bytes again later (with a fresh
timestamp and signature over them), after a doubling wait, until ``retry_for_seconds`` have
passed since its first attempt; a batch given up is logged and counted, never dropped quietly.
Batches go out in order, one at a time: a receiver that is down sees one retry at a time.

What was posted is kept as the bodies the receiver acknowledged, bytes the garbage collector
never walks, and parsed only when asked for (``/_emulator/events``).
"""

from __future__ import annotations

import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from mailer.emulator.events import EventMaker
from mailer.emulator.webhook_key import WebhookKey

MAX_BATCH_BYTES = 768 * 1024
USER_AGENT = "SendGrid Event API"


@dataclass(frozen=True)
class PosterOptions:
    url: str
    interval_seconds: float = 2.0
    max_batch_bytes: int = MAX_BATCH_BYTES
    retry_for_seconds: float = 24 * 3600.0
    backoff_first_seconds: float = 1.0
    backoff_max_seconds: float = 60.0
    timeout_seconds: float = 10.0
    quiet_seconds: float = 0.5
    """Events are made once no request has come for this long..."""
    max_waiting_recipients: int = 100_000
    """...or while more recipients than this wait for theirs (which bounds the memory the
    waiting requests hold)."""


@dataclass
class Batch:
    body: bytes
    events: int
    attempts: int = 0
    first_attempt: float | None = None
    next_attempt: float = 0.0
    last_problem: str = ""


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


class EventPoster:
    def __init__(
        self,
        options: PosterOptions,
        key: WebhookKey,
        maker: EventMaker,
        clock: Callable[[], float] = time.time,
        log: Callable[[str], None] = _stderr,
    ) -> None:
        self.options = options
        self.key = key
        self.maker = maker
        self.clock = clock
        self.log = log
        self._lock = threading.RLock()
        self._wake = threading.Condition(self._lock)
        # Requests as their JSON bytes (parsed again when their events are made): a third of
        # the memory of the parsed objects, and nothing for the garbage collector to walk.
        self._inbox: deque[tuple[bytes, int, str, float]] = deque()
        self._waiting_recipients = 0
        self._last_request = float("-inf")
        self._parts: list[bytes] = []
        self._size = 2  # the brackets
        self._opened_at: float | None = None
        self._outbox: deque[Batch] = deque()
        self._posted: list[bytes] = []
        self._abandoned: list[Batch] = []
        self._generated: Counter[str] = Counter()
        self._counts: Counter[str] = Counter()
        self._thread: threading.Thread | None = None
        self._stopping = False

    # -- input ---------------------------------------------------------------------------

    def accepted(
        self, body: bytes, personalizations: int, message_id: str, accepted_at: float
    ) -> None:
        """Called for every accepted request (its JSON body); the events are made on the
        poster's thread."""
        with self._wake:
            self._inbox.append((body, personalizations, message_id, accepted_at))
            self._waiting_recipients += personalizations
            self._last_request = self.clock()
            self._wake.notify()

    def _quiet(self) -> bool:
        return self.clock() - self._last_request >= self.options.quiet_seconds

    def _make_events(self, final: bool = False) -> None:
        # Not while requests keep coming (unless too many wait): the events are made on the
        # server's interpreter, and made alongside the requests they made the emulator, not
        # the sender, the slower side of a send (bench/send.py, 100,000 recipients: 2.7 s
        # without events, 4.4 s with them made at once).
        # Made outside the lock, one request at a time: the server's threads take the lock
        # to hand over the next request, and must not wait for a thousand recipients' events.
        while True:
            with self._lock:
                if not self._inbox:
                    return
                crowded = self._waiting_recipients > self.options.max_waiting_recipients
                if not (final or crowded or self._quiet()):
                    return
                body, personalizations, message_id, accepted_at = self._inbox.popleft()
                self._waiting_recipients -= personalizations
            events = self.maker.for_request(orjson.loads(body), message_id, accepted_at)
            encoded = [orjson.dumps(event) for event in events]
            with self._lock:
                for part in encoded:
                    self._add(part)
                self._generated.update(event["event"] for event in events)

    def _add(self, encoded: bytes) -> None:
        grown = self._size + len(encoded) + (1 if self._parts else 0)
        if self._parts and grown > self.options.max_batch_bytes:
            self._seal()
        if not self._parts:
            self._opened_at = self.clock()
        self._size += len(encoded) + (1 if self._parts else 0)
        self._parts.append(encoded)

    def _seal(self) -> None:
        if self._parts:
            body = b"[" + b",".join(self._parts) + b"]"
            self._outbox.append(Batch(body, len(self._parts), next_attempt=self.clock()))
            self._parts, self._size, self._opened_at = [], 2, None

    # -- output --------------------------------------------------------------------------

    def post_due(self, *, final: bool = False) -> None:
        """One round: make the events of new requests, close the open batch if its time has
        come (or ``final``), and post the batches that are due, in order, stopping at the
        first that fails. ``final`` makes every waiting request's events and tries every
        waiting batch now, whatever its backoff."""
        self._make_events(final)
        with self._lock:
            now = self.clock()
            opened = self._opened_at
            if final or (opened is not None and now - opened >= self.options.interval_seconds):
                self._seal()
        while True:
            with self._lock:
                if not self._outbox:
                    return
                batch = self._outbox[0]
                if not final and batch.next_attempt > self.clock():
                    return
            problem = self._post(batch)
            with self._lock:
                if problem is None:
                    self._outbox.popleft()
                    self._posted.append(batch.body)
                    self._counts["batches_posted"] += 1
                    self._counts["posted"] += batch.events
                    continue
                self._failed(batch, problem)
                return

    def _post(self, batch: Batch) -> str | None:
        """None when the receiver answered 2xx, else what went wrong."""
        now = self.clock()
        with self._lock:
            batch.attempts += 1
            if batch.first_attempt is None:
                batch.first_attempt = now
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            **self.key.headers(batch.body, int(now)),
        }
        request = urllib.request.Request(
            self.options.url, data=batch.body, headers=headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=self.options.timeout_seconds) as answer:
                answer.read()
                status = int(answer.status)
        except urllib.error.HTTPError as error:
            error.close()
            return f"answered {error.code}"
        except (OSError, ValueError) as error:
            return f"did not answer ({error})"
        return None if 200 <= status < 300 else f"answered {status}"

    def _failed(self, batch: Batch, problem: str) -> None:
        self._counts["failed_attempts"] += 1
        batch.last_problem = problem
        now = self.clock()
        assert batch.first_attempt is not None
        if now - batch.first_attempt >= self.options.retry_for_seconds:
            self._outbox.popleft()
            self._abandoned.append(batch)
            self._counts["abandoned"] += batch.events
            self.log(
                f"Gave up on a batch of {batch.events} events after {batch.attempts} attempts "
                f"over {now - batch.first_attempt:.0f} s: the receiver {problem}."
            )
            return
        wait = self.options.backoff_first_seconds * 2 ** (batch.attempts - 1)
        batch.next_attempt = now + min(wait, self.options.backoff_max_seconds)

    # -- the thread ----------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="event-poster", daemon=True)
        self._thread.start()

    def _seconds_to_next_round(self) -> float:
        now = self.clock()
        waits = [self.options.interval_seconds]
        if self._inbox:
            waits.append(self._last_request + self.options.quiet_seconds - now)
        if self._opened_at is not None:
            waits.append(self._opened_at + self.options.interval_seconds - now)
        if self._outbox:
            waits.append(self._outbox[0].next_attempt - now)
        return max(min(waits), 0.01)

    def _run(self) -> None:
        while True:
            with self._wake:
                if self._stopping:
                    return
                self._wake.wait(self._seconds_to_next_round())
                if self._stopping:
                    return
            try:
                self.post_due()
            except Exception as error:  # keep posting: a bad round must not end the emulator
                self.log(f"Event poster: {error!r}")

    def close(self) -> int:
        """Stop the thread, then make and post what is left, each batch tried once more.
        Returns how many events could not be delivered (and says so)."""
        with self._wake:
            self._stopping = True
            self._wake.notify()
        if self._thread is not None:
            self._thread.join()
        self.post_due(final=True)
        with self._lock:
            left = sum(batch.events for batch in self._outbox)
            if left:
                problem = self._outbox[0].last_problem
                self.log(f"{left} events were not delivered: the receiver {problem}.")
            return left

    # -- the record ----------------------------------------------------------------------

    def events(self, to: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            bodies = list(self._posted)
        wanted = to.lower() if to else None
        return [
            event
            for body in bodies
            for event in orjson.loads(body)
            if wanted is None or str(event["email"]).lower() == wanted
        ]

    def summary(self) -> dict[str, Any]:
        with self._lock:
            return {
                "generated": dict(self._generated),
                "posted": self._counts["posted"],
                "batches_posted": self._counts["batches_posted"],
                "failed_attempts": self._counts["failed_attempts"],
                "waiting": len(self._parts) + sum(batch.events for batch in self._outbox),
                "requests_waiting": len(self._inbox),
                "abandoned": self._counts["abandoned"],
            }

    def reset(self) -> None:
        """Forget what was posted (not what is still to be posted)."""
        with self._lock:
            self._posted.clear()
            self._abandoned.clear()
            self._generated.clear()
            self._counts.clear()
