"""What the account tests share: argon2 with the cheapest parameters (a real hash, a
thousandth of the time), an application object on the test project's database with a clock
the test moves, and settings with other [admin] limits."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from argon2 import PasswordHasher

from mailer.accounts import passwords
from mailer.app import Mailer
from mailer.config_admin import AdminSettings
from tests.conftest import Project
from tests.service_helpers import MovingClock

T0 = datetime(2031, 5, 4, 1, 0, tzinfo=UTC)
PASSWORD = "tidal basin lanterns 42"
OTHER_PASSWORD = "seven herons over quay"


def cheap_hasher(time_cost: int = 1) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=8, parallelism=1)


@pytest.fixture(autouse=True)
def cheap_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(passwords, "hasher_factory", cheap_hasher)


@pytest.fixture
def clock() -> MovingClock:
    return MovingClock(T0)


@pytest.fixture
def mailer(db_project: Project, clock: MovingClock) -> Iterator[Mailer]:
    app = Mailer(db_project.settings(), clock=clock, environ={})
    yield app
    app.close()


@pytest.fixture
def with_admin(mailer: Mailer) -> Iterator[Callable[..., Mailer]]:
    """Makes another application object on the same database (another process, as it were)
    with other [admin] settings: ``with_admin(session_hours=2)``."""
    made: list[Mailer] = []

    def make(**limits: Any) -> Mailer:
        admin = AdminSettings(**(mailer.settings.admin.model_dump() | limits))
        settings = mailer.settings.model_copy(update={"admin": admin})
        made.append(Mailer(settings, clock=mailer.clock, environ={}))
        return made[-1]

    yield make
    for app in made:
        app.close()
