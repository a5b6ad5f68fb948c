"""Rate limits kept in the database: exact under processes hitting one key at once, keyed by
hashes (no address or IP stored), windows that end and are cleared away; over HTTP, 429 with
Retry-After, counted per client across servers."""

from __future__ import annotations

import multiprocessing
from datetime import UTC, datetime, timedelta
from multiprocessing.synchronize import Barrier

import httpx
import pytest
import sqlalchemy as sa
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from mailer.app import Mailer
from mailer.db.migrate import open_database
from mailer.db.tables import rate_limits
from mailer.web.rate_limits import RateLimit, RateLimiter, client_address, enforce
from tests.conftest import Project
from tests.web_server import running_app

SECRET = b"a test key of thirty-two bytes!!"
NOON = datetime(2026, 12, 1, 12, 0, 0, tzinfo=UTC)
SIGNUP = RateLimit("signup-ip", limit=3, window_seconds=60)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def test_a_key_gets_its_limit_per_window_then_429_until_the_window_ends(
    engine: sa.Engine,
) -> None:
    clock = Clock(NOON + timedelta(seconds=15))
    limiter = RateLimiter(engine, SECRET, clock)
    verdicts = [limiter.hit(SIGNUP, "203.0.113.9") for _ in range(5)]
    assert [v.allowed for v in verdicts] == [True, True, True, False, False]
    assert [v.hits for v in verdicts] == [1, 2, 3, 4, 5]
    assert verdicts[3].retry_after == 45  # the window began at noon
    assert limiter.hit(SIGNUP, "198.51.100.7").allowed  # another key counts on its own
    other_purpose = RateLimit("signup-address", limit=1, window_seconds=60)
    assert limiter.hit(other_purpose, "203.0.113.9").allowed
    clock.now = NOON + timedelta(seconds=60)
    assert limiter.hit(SIGNUP, "203.0.113.9").allowed  # a new window


def test_keys_are_stored_as_keyed_hashes_and_ended_windows_are_deleted(
    engine: sa.Engine,
) -> None:
    clock = Clock(NOON)
    limiter = RateLimiter(engine, SECRET, clock)
    limiter.hit(SIGNUP, "ada@example.com")
    limiter.hit(RateLimit("daily", 1, 86_400), "ada@example.com")
    with engine.connect() as connection:
        stored = connection.execute(sa.select(rate_limits)).all()
    assert len(stored) == 2
    assert all("ada" not in row.key_hash and "example" not in row.key_hash for row in stored)
    assert RateLimiter(engine, b"another key, also 32 bytes long!").key_hash(
        "ada@example.com"
    ) != limiter.key_hash("ada@example.com")
    clock.now = NOON + timedelta(minutes=5)
    limiter.hit(SIGNUP, "someone else")  # a new window: ended ones go
    with engine.connect() as connection:
        purposes = connection.execute(sa.select(rate_limits.c.purpose)).scalars().all()
    assert sorted(purposes) == ["daily", "signup-ip"]
    assert limiter.prune(NOON + timedelta(days=2)) == 2


@pytest.mark.parametrize("purpose", ["", "Signup", "a" * 51, "sign up", "ip/x"])
def test_a_purpose_is_a_short_plain_name(purpose: str) -> None:
    with pytest.raises(ValueError, match="purpose"):
        RateLimit(purpose, 1, 1)


def _hammer(url: str, barrier: Barrier, hits: int, results: multiprocessing.Queue[int]) -> None:
    engine = open_database(url)
    limiter = RateLimiter(engine, SECRET, Clock(NOON))
    rule = RateLimit("hammered", limit=57, window_seconds=3600)
    barrier.wait()
    allowed = sum(limiter.hit(rule, "one key").allowed for _ in range(hits))
    engine.dispose()
    results.put(allowed)


def test_processes_hitting_one_key_at_once_get_exactly_the_limit(database_url: str) -> None:
    open_database(database_url).dispose()  # migrated before the processes race
    context = multiprocessing.get_context("spawn")
    processes, hits = 4, 40
    barrier = context.Barrier(processes)
    results: multiprocessing.Queue[int] = context.Queue()
    workers = [
        context.Process(target=_hammer, args=(database_url, barrier, hits, results))
        for _ in range(processes)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:  # a few small numbers fit the queue's pipe: joining first is safe
        worker.join(timeout=120)
    assert [worker.exitcode for worker in workers] == [0] * processes
    allowed = [results.get(timeout=10) for _ in workers]
    assert sum(allowed) == 57
    engine = open_database(database_url)
    with engine.connect() as connection:
        assert connection.execute(sa.select(rate_limits.c.hits)).scalar_one() == processes * hits
    engine.dispose()


LIMITED = RateLimit("test-form-ip", limit=5, window_seconds=3600)


def limited(request: Request) -> Response:
    enforce(request, LIMITED, client_address(request))
    return PlainTextResponse("counted")


class LimitedRoutes:
    @staticmethod
    def routes(mailer: Mailer) -> list[BaseRoute]:
        return [Route("/limited", limited)]


def test_two_servers_on_one_database_share_the_limit_per_client(db_project: Project) -> None:
    with (
        running_app(db_project, [LimitedRoutes]) as first,
        running_app(db_project, [LimitedRoutes]) as second,
    ):
        # Both servers believe the loopback proxy's X-Forwarded-For: the client is that address.
        client = {"X-Forwarded-For": "203.0.113.7"}
        answers = [httpx.get(server + "/limited", headers=client) for server in [first, second] * 4]
        other = httpx.get(second + "/limited", headers={"X-Forwarded-For": "198.51.100.2"})
    assert [answer.status_code for answer in answers] == [200] * 5 + [429] * 3
    refused = answers[-1]
    assert 0 < int(refused.headers["retry-after"]) <= 3600
    assert "Too many tries" in refused.text
    assert refused.headers["x-content-type-options"] == "nosniff"
    assert other.status_code == 200  # another client has its own count
