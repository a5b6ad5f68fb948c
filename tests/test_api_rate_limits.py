"""Each API token may make ``[api] requests_per_minute`` requests a minute, counted in the
database (so over every server process): past it, 429 with Retry-After, as a problem; other
tokens are not held back."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx

from mailer.accounts.tokens import create_token
from mailer.app import Mailer
from mailer.web.app import create_app
from tests.api_helpers import assert_problem
from tests.conftest import Project
from tests.servers import serve
from tests.web_server import SIGNING_KEY, running_server

LIMIT = 3


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _low_limit(project: Project) -> None:
    with project.config.open("a", encoding="utf-8") as config:
        config.write(f"\n[api]\nrequests_per_minute = {LIMIT}\n")


def test_a_token_past_its_limit_gets_429_until_the_minute_is_over(db_project: Project) -> None:
    _low_limit(db_project)
    clock = Clock(datetime(2026, 12, 7, 12, 0, 15, tzinfo=UTC))
    mailer = Mailer(db_project.settings(), clock, {"MAILER_SECRET_KEY": SIGNING_KEY})
    busy = create_token(mailer, "busy", "viewer", actor="cli")[1]
    other = create_token(mailer, "other", "viewer", actor="cli")[1]
    try:
        with serve(create_app(mailer)) as base_url, httpx.Client(base_url=base_url) as client:

            def get(secret: str) -> httpx.Response:
                return client.get("/api/v1/lists", headers={"Authorization": f"Bearer {secret}"})

            assert [get(busy).status_code for _ in range(LIMIT)] == [200] * LIMIT
            refused = get(busy)
            problem = assert_problem(refused, 429)
            assert refused.headers["retry-after"] == "45"  # the minute began at 12:00:00
            assert f"More than {LIMIT} requests a minute" in problem["detail"]
            assert get(other).status_code == 200  # counted apart
            clock.now = datetime(2026, 12, 7, 12, 1, 0, tzinfo=UTC)
            assert get(busy).status_code == 200  # a new minute
    finally:
        mailer.close()


def test_the_limit_holds_on_a_real_mailer_serve_from_its_config(db_project: Project) -> None:
    """Requests within one minute never all pass: however the calls fall across a minute's
    end, 2 x LIMIT + 1 of them meet at least one 429."""
    _low_limit(db_project)
    mailer = Mailer(db_project.settings(), environ={"MAILER_SECRET_KEY": SIGNING_KEY})
    secret = create_token(mailer, "busy", "viewer", actor="cli")[1]
    mailer.close()
    with running_server(db_project) as server, server.client() as client:
        headers = {"Authorization": f"Bearer {secret}"}
        answers = [client.get("/api/v1/lists", headers=headers) for _ in range(2 * LIMIT + 1)]
    statuses = [answer.status_code for answer in answers]
    assert set(statuses) == {200, 429}, statuses
    refused = next(answer for answer in answers if answer.status_code == 429)
    assert_problem(refused, 429)
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert statuses[:LIMIT] == [200] * LIMIT  # a new token: no window holds more hits yet
