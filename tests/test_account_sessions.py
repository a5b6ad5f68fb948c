"""Sessions: a random token of which only the hash is kept, ended after the idle limit or the
age limit (on an injected clock), and refused when unknown or forged."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable

import pytest
import sqlalchemy as sa

from mailer.accounts.roles import Role
from mailer.accounts.sessions import (
    active_sessions,
    end_all_sessions,
    end_session,
    prune_sessions,
    session_principal,
    start_session,
)
from mailer.accounts.users import User, add_user
from mailer.app import Mailer
from mailer.db.tables import sessions
from tests.account_helpers import PASSWORD, cheap_hashing, clock, mailer, with_admin
from tests.service_helpers import MovingClock

WithAdmin = Callable[..., Mailer]

__all__ = ["cheap_hashing", "clock", "mailer", "with_admin"]  # fixtures


@pytest.fixture
def ann(mailer: Mailer) -> User:
    return add_user(mailer, "ann@example.com", "editor", PASSWORD, actor="cli")


def _stored(mailer: Mailer) -> list[sa.Row[tuple[object, ...]]]:
    with mailer.engine.connect() as connection:
        return list(connection.execute(sa.select(sessions)).all())


def test_a_session_is_a_random_token_of_which_only_the_hash_is_stored(
    mailer: Mailer, ann: User
) -> None:
    token = start_session(mailer, ann.id)
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", token)
    assert start_session(mailer, ann.id) != token
    stored = _stored(mailer)
    assert hashlib.sha256(token.encode()).hexdigest() in {row.token_hash for row in stored}
    assert token not in str([tuple(row) for row in stored])
    principal = session_principal(mailer, token)
    assert principal is not None
    assert (principal.kind, principal.name, principal.role) == ("user", ann.email, Role.EDITOR)
    assert (principal.user_id, principal.token_id, principal.actor) == (ann.id, None, ann.email)


def test_a_session_ends_after_the_idle_limit_and_each_request_extends_it(
    mailer: Mailer, ann: User, clock: MovingClock, with_admin: WithAdmin
) -> None:
    app = with_admin(session_hours=2)
    token = start_session(app, ann.id)
    for _ in range(3):  # a request every 1 h 59 min keeps it going
        clock.advance(hours=1, minutes=59)
        assert session_principal(app, token) is not None
    clock.advance(hours=1, minutes=59, seconds=59)
    assert session_principal(app, token) is not None
    clock.advance(hours=2)
    assert session_principal(app, token) is None


def test_a_session_ends_at_its_age_limit_however_active(
    mailer: Mailer, ann: User, clock: MovingClock, with_admin: WithAdmin
) -> None:
    app = with_admin(session_hours=12, session_max_days=1)
    token = start_session(app, ann.id)
    for _ in range(23):
        clock.advance(hours=1)
        assert session_principal(app, token) is not None
    clock.advance(minutes=59, seconds=59)
    assert session_principal(app, token) is not None
    clock.advance(seconds=1)
    assert session_principal(app, token) is None


def test_shorter_limits_in_the_settings_hold_for_sessions_already_started(
    mailer: Mailer, ann: User, clock: MovingClock, with_admin: WithAdmin
) -> None:
    token = start_session(mailer, ann.id)  # the default 12 hours idle
    clock.advance(hours=3)
    assert session_principal(with_admin(session_hours=2), token) is None
    assert session_principal(mailer, token) is not None


def test_a_request_writes_the_last_seen_time_at_most_once_a_minute(
    mailer: Mailer, ann: User, clock: MovingClock
) -> None:
    token = start_session(mailer, ann.id)
    started = clock.now
    clock.advance(seconds=59)
    session_principal(mailer, token)
    assert _stored(mailer)[0].last_seen_at == started
    clock.advance(seconds=1)
    session_principal(mailer, token)
    assert _stored(mailer)[0].last_seen_at == clock.now


@pytest.mark.parametrize(
    "forged",
    [
        "",
        "x",
        "A" * 43,
        "A" * 42 + "=",
        "A" * 44,
        "é" * 43,
        "A" * 10_000,
        "../../../etc/passwd",
        "A" * 42 + "\n",
    ],
)
def test_an_unknown_or_forged_token_is_no_one(mailer: Mailer, ann: User, forged: str) -> None:
    start_session(mailer, ann.id)
    assert session_principal(mailer, forged) is None


def test_a_token_changed_by_one_character_is_no_one(mailer: Mailer, ann: User) -> None:
    token = start_session(mailer, ann.id)
    changed = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert session_principal(mailer, changed) is None


def test_logging_out_ends_that_session_or_all_of_them(mailer: Mailer, ann: User) -> None:
    first, second, third = (start_session(mailer, ann.id) for _ in range(3))
    end_session(mailer, first)
    end_session(mailer, "not a token")
    assert session_principal(mailer, first) is None
    assert session_principal(mailer, second) is not None
    assert active_sessions(mailer) == {ann.id: 2}
    assert end_all_sessions(mailer, ann.id) == 2
    assert session_principal(mailer, third) is None
    assert active_sessions(mailer) == {}


def test_ended_sessions_are_cleared_away(mailer: Mailer, ann: User, clock: MovingClock) -> None:
    old = start_session(mailer, ann.id)
    clock.advance(hours=11)
    recent = start_session(mailer, ann.id)
    clock.advance(hours=1)
    assert active_sessions(mailer) == {ann.id: 1}
    assert prune_sessions(mailer) == 1
    assert session_principal(mailer, old) is None
    assert session_principal(mailer, recent) is not None
    assert len(_stored(mailer)) == 1
