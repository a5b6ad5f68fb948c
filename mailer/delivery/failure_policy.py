"""What the sender does when a request fails: one pure function from the failure (and how
often this batch failed before) to the action, so the README's failure table is tested as a
table, with no server and no waiting.

- 429 (RateLimited): wait until the provider's reset (or back off), every request of the
  campaign holding too; a wait is not a try.
- 5xx, cannot connect (TemporaryFailure): back off and retry, up to ``retry_attempts`` tries;
  then give up.
- 401/403 (AuthenticationFailed): give up at once.
- 400 naming recipients (BadRequest): split the batch; a batch of one fails its recipient.
- 400 about the content (BadRequest): give up.
- No answer after the request went out (AnswerLost): the batch is in doubt.

"Give up" means: the batch goes back to pending and the campaign pauses with the reason.
Anything else a transport raises is not a failure this table knows: the caller treats it as
an error (the batch may have gone out).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from mailer.delivery.transports.base import (
    AnswerLost,
    AuthenticationFailed,
    BadRequest,
    RateLimited,
    TemporaryFailure,
    TransportError,
)

# A provider that keeps answering 429 for this many waits in a row is treated as failing.
MAX_RATE_LIMIT_WAITS = 100
LONGEST_RATE_LIMIT_WAIT = 900.0

Jitter = Callable[[float, float], float]


class Act(Enum):
    RETRY = "retry"
    """Wait ``wait`` seconds, then send the same request again."""
    GIVE_UP = "give up"
    """The batch goes back to pending; the campaign pauses with ``reason``."""
    SPLIT = "split"
    """Send the batch again in halves, to find the recipients the provider refuses."""
    REFUSE = "refuse"
    """The batch's one recipient fails for good with ``reason``."""
    IN_DOUBT = "in doubt"
    """The request may have been accepted: never resent without a decision."""


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int
    """Tries of a batch on 5xx or connection errors (rate-limit waits do not count)."""
    base_seconds: float
    max_seconds: float


@dataclass(frozen=True)
class Tries:
    """What one batch has been through so far."""

    attempts: int = 0
    """Requests that counted as tries (a 429 does not)."""
    rate_limited: int = 0


@dataclass(frozen=True)
class Decision:
    act: Act
    tries: Tries
    """The batch's tries, this failure included."""
    reason: str = ""
    wait: float = 0.0
    hold_everyone: bool = False
    """The wait applies to every request of the campaign (a rate limit), not only this one."""


def backoff(attempt: int, policy: RetryPolicy, jitter: Jitter = random.uniform) -> float:
    """Exponential backoff with "full jitter" between half the ceiling and the ceiling:
    senders that failed together do not come back together."""
    ceiling = min(policy.max_seconds, policy.base_seconds * 2 ** (attempt - 1))
    return jitter(ceiling / 2, ceiling)


def decide(
    failure: TransportError,
    tries: Tries,
    recipients: int,
    policy: RetryPolicy,
    jitter: Jitter = random.uniform,
) -> Decision:
    """What to do about ``failure`` of a request for ``recipients`` recipients that had
    ``tries`` before it."""
    if isinstance(failure, RateLimited):
        tries = Tries(tries.attempts, tries.rate_limited + 1)
        if tries.rate_limited > MAX_RATE_LIMIT_WAITS:
            return Decision(Act.GIVE_UP, tries, f"still rate limited: {failure}")
        wait = failure.retry_after or backoff(tries.rate_limited, policy, jitter)
        return Decision(
            Act.RETRY, tries, str(failure), min(wait, LONGEST_RATE_LIMIT_WAIT), hold_everyone=True
        )
    tries = Tries(tries.attempts + 1, tries.rate_limited)
    if isinstance(failure, TemporaryFailure):
        if tries.attempts >= policy.attempts:
            return Decision(Act.GIVE_UP, tries, f"{failure} ({tries.attempts} tries)")
        wait = failure.retry_after or backoff(tries.attempts, policy, jitter)
        return Decision(Act.RETRY, tries, str(failure), wait)
    if isinstance(failure, AuthenticationFailed):
        return Decision(Act.GIVE_UP, tries, str(failure))
    if isinstance(failure, AnswerLost):
        return Decision(Act.IN_DOUBT, tries, str(failure))
    if isinstance(failure, BadRequest):
        if not failure.names_recipients:
            return Decision(Act.GIVE_UP, tries, f"the provider refused the content: {failure}")
        if recipients <= 1:
            return Decision(Act.REFUSE, tries, str(failure))
        return Decision(Act.SPLIT, tries, str(failure))
    raise TypeError(f"no policy for {type(failure).__name__}")
