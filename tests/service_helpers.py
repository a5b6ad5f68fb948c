"""What the service tests share: an application object on a test project's database, with a
clock the test moves and five readers on ``weekly``."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from mailer.app import Mailer
from mailer.audience.lists import create_list
from mailer.delivery.campaigns import Campaign
from mailer.services import sends
from tests.conftest import Project
from tests.sending import fill_list

T0 = datetime(2031, 5, 4, 1, 0, tzinfo=UTC)
ISSUE = "0087-postal-pact-and-ai-talent.md"


class MovingClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> MovingClock:
    return MovingClock(T0)


@pytest.fixture
def mailer(db_project: Project, clock: MovingClock) -> Iterator[Mailer]:
    """The application object on the project's database, with five readers on ``weekly``."""
    app = Mailer(db_project.settings(), clock=clock, environ={})
    create_list(app.engine, "weekly")
    fill_list(app.engine, 5)
    yield app
    app.close()


def schedule(mailer: Mailer, at: str | None = "+2h", **when: str) -> Campaign:
    plan = sends.plan(mailer, "87", "weekly", again=True)  # each call one more campaign
    send_time = sends.send_time(mailer, at, **when)
    assert send_time is not None
    return sends.schedule(mailer, plan, send_time)


def send_now(mailer: Mailer) -> int:
    return sends.send_now(mailer, sends.plan(mailer, "87", "weekly", again=True))


def assert_names_no_command(message: str) -> None:
    """Stored for every face to show: what happened, in no face's words."""
    assert "mailer " not in message and "--" not in message and "Ctrl-C" not in message
