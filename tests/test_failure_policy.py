"""The README's failure table, row by row, against the pure failure policy: no server, no
waiting."""

from __future__ import annotations

import pytest

from mailer.delivery.failure_policy import (
    LONGEST_RATE_LIMIT_WAIT,
    MAX_RATE_LIMIT_WAITS,
    Act,
    RetryPolicy,
    Tries,
    backoff,
    decide,
)
from mailer.delivery.transports.base import (
    AnswerLost,
    AuthenticationFailed,
    BadRequest,
    RateLimited,
    TemporaryFailure,
)

POLICY = RetryPolicy(attempts=5, base_seconds=1.0, max_seconds=60.0)


def ceiling(low: float, high: float) -> float:
    return high  # the jitter's upper end, so waits are exact


def test_a_rate_limit_waits_for_the_reset_holds_everyone_and_is_not_a_try() -> None:
    decision = decide(RateLimited("429", retry_after=7.5), Tries(2, 0), 1000, POLICY)
    assert decision.act is Act.RETRY
    assert decision.wait == 7.5
    assert decision.hold_everyone
    assert decision.tries == Tries(2, 1)  # the tries so far are untouched


def test_a_rate_limit_without_a_reset_backs_off_and_a_long_reset_is_capped() -> None:
    decision = decide(RateLimited("429"), Tries(0, 2), 10, POLICY, ceiling)
    assert (decision.act, decision.wait) == (Act.RETRY, 4.0)  # third wait: 1 * 2**2
    far = decide(RateLimited("429", retry_after=86_400), Tries(), 10, POLICY)
    assert far.wait == LONGEST_RATE_LIMIT_WAIT


def test_a_provider_that_never_stops_rate_limiting_gives_up_with_the_reason() -> None:
    decision = decide(RateLimited("slow down"), Tries(0, MAX_RATE_LIMIT_WAITS), 10, POLICY)
    assert decision.act is Act.GIVE_UP
    assert decision.reason == "still rate limited: slow down"


def test_server_errors_back_off_exponentially_then_give_up_after_the_last_try() -> None:
    waits = []
    tries = Tries()
    while True:
        decision = decide(TemporaryFailure("HTTP 503"), tries, 1000, POLICY, ceiling)
        tries = decision.tries
        if decision.act is not Act.RETRY:
            break
        assert not decision.hold_everyone
        waits.append(decision.wait)
    assert waits == [1.0, 2.0, 4.0, 8.0]
    assert decision.act is Act.GIVE_UP
    assert decision.reason == "HTTP 503 (5 tries)"
    assert tries.attempts == 5


def test_the_backoff_is_jittered_between_half_and_all_of_its_ceiling_and_capped() -> None:
    for attempt in range(1, 12):
        wait = backoff(attempt, POLICY)
        top = min(60.0, 2.0 ** (attempt - 1))
        assert top / 2 <= wait <= top


def test_a_server_asking_for_a_wait_gets_it() -> None:
    decision = decide(TemporaryFailure("503", retry_after=12.0), Tries(), 5, POLICY, ceiling)
    assert (decision.act, decision.wait) == (Act.RETRY, 12.0)


def test_a_refused_key_gives_up_at_once() -> None:
    decision = decide(AuthenticationFailed("key refused"), Tries(), 1000, POLICY)
    assert (decision.act, decision.reason, decision.tries.attempts) == (
        Act.GIVE_UP,
        "key refused",
        1,
    )


def test_a_lost_answer_makes_the_batch_in_doubt_never_a_retry() -> None:
    decision = decide(AnswerLost("read timeout"), Tries(1, 0), 1000, POLICY)
    assert (decision.act, decision.reason) == (Act.IN_DOUBT, "read timeout")


@pytest.mark.parametrize(
    ("recipients", "act"), [(1000, Act.SPLIT), (2, Act.SPLIT), (1, Act.REFUSE)]
)
def test_a_400_naming_recipients_splits_until_the_refused_one_is_alone(
    recipients: int, act: Act
) -> None:
    failure = BadRequest("personalizations.0.to.0.email: invalid", names_recipients=True)
    decision = decide(failure, Tries(), recipients, POLICY)
    assert decision.act is act
    assert decision.reason == "personalizations.0.to.0.email: invalid"


def test_a_400_about_the_content_gives_up_since_splitting_would_not_help() -> None:
    decision = decide(BadRequest("subject: required", names_recipients=False), Tries(), 9, POLICY)
    assert decision.act is Act.GIVE_UP
    assert decision.reason == "the provider refused the content: subject: required"
