"""Logging in: one refusal for a wrong password and an unknown address alike, failures
counted in the database per account and per IP (so two processes share the counts), and a
success that neither resets them nor counts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher

from mailer.accounts import passwords
from mailer.accounts.audit import entries
from mailer.accounts.errors import LoginRefused, LoginThrottled
from mailer.accounts.login import log_in
from mailer.accounts.sessions import session_principal
from mailer.accounts.users import add_user
from mailer.app import Mailer
from mailer.db.tables import users
from tests.account_helpers import (
    OTHER_PASSWORD,
    PASSWORD,
    cheap_hasher,
    cheap_hashing,
    clock,
    mailer,
    with_admin,
)
from tests.service_helpers import MovingClock

__all__ = ["cheap_hashing", "clock", "mailer", "with_admin"]  # fixtures
WithAdmin = Callable[..., Mailer]
IP = "203.0.113.7"


@pytest.fixture
def ann(mailer: Mailer) -> None:
    add_user(mailer, "ann@example.com", "admin", PASSWORD, actor="cli")


def _refused(mailer: Mailer, email: str, password: str, ip: str | None = IP) -> str:
    with pytest.raises(LoginRefused) as refused:
        log_in(mailer, email, password, ip)
    return str(refused.value)


def _throttled(mailer: Mailer, email: str, password: str, ip: str | None = IP) -> int:
    with pytest.raises(LoginThrottled) as throttled:
        log_in(mailer, email, password, ip)
    return throttled.value.retry_after


def test_the_right_password_gives_the_person_and_a_session(mailer: Mailer, ann: None) -> None:
    principal, token = log_in(mailer, "ANN@example.com", PASSWORD, IP)
    assert (principal.kind, principal.name, principal.role, principal.can_send) == (
        "user",
        "ann@example.com",
        "admin",
        True,
    )
    assert session_principal(mailer, token) == principal
    [entry] = entries(mailer, action_prefix="user.login")
    assert (entry.actor, entry.target, entry.detail) == (
        "ann@example.com",
        "ann@example.com",
        {"ip": IP},
    )


@pytest.mark.parametrize(
    ("email", "password"),
    [
        ("ann@example.com", OTHER_PASSWORD),
        ("ann@example.com", ""),
        ("nobody@example.com", PASSWORD),
        ("not an address", PASSWORD),
        ("ann\x00@example.com", PASSWORD),
        ("a" * 10_000 + "@example.com", PASSWORD),
        ("ann@example.com", PASSWORD * 1000),
        ("ann@example.com", PASSWORD + "\udcff\x00"),
    ],
    ids=["wrong", "empty", "unknown", "words", "nul", "long-address", "long-password", "bytes"],
)
def test_a_wrong_password_and_an_unknown_user_read_the_same(
    mailer: Mailer, ann: None, email: str, password: str
) -> None:
    assert _refused(mailer, email, password) == "Wrong email or password."


def test_an_unknown_user_still_costs_one_password_check(
    mailer: Mailer, ann: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    checked: list[str] = []

    class CountingHasher(PasswordHasher):
        def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
            checked.append("check")
            return super().verify(hash, password)

    counting = CountingHasher(time_cost=1, memory_cost=8, parallelism=1)
    monkeypatch.setattr(passwords, "hasher_factory", lambda: counting)
    _refused(mailer, "nobody@example.com", PASSWORD)
    assert len(checked) == 1
    _refused(mailer, "ann@example.com", OTHER_PASSWORD)
    assert len(checked) == 2


def test_the_sixth_failure_for_an_account_is_refused_even_from_another_process(
    mailer: Mailer, ann: None, clock: MovingClock, with_admin: WithAdmin
) -> None:
    other_process = with_admin()
    for attempt in range(5):
        app = mailer if attempt % 2 else other_process
        _refused(app, "ann@example.com", OTHER_PASSWORD, f"198.51.100.{attempt}")
    clock.advance(minutes=5)
    retry_after = _throttled(other_process, "Ann@Example.com", PASSWORD, "192.0.2.1")
    assert 0 < retry_after <= 15 * 60
    _throttled(mailer, "ann@example.com", PASSWORD, None)
    clock.advance(seconds=retry_after)
    principal, _ = log_in(mailer, "ann@example.com", PASSWORD, "192.0.2.1")
    assert principal.name == "ann@example.com"


def test_failures_from_one_ip_are_counted_across_accounts(
    mailer: Mailer, ann: None, with_admin: WithAdmin
) -> None:
    app = with_admin(login_attempts_per_ip=4)
    add_user(app, "bo@example.com", "editor", PASSWORD, actor="cli")
    for email in ["nobody@example.com", "bo@example.com", "cy@example.com", "ann@example.com"]:
        _refused(app, email, OTHER_PASSWORD)
    _throttled(app, "bo@example.com", PASSWORD)
    _throttled(app, "dee@example.com", PASSWORD)
    principal, _ = log_in(app, "bo@example.com", PASSWORD, "203.0.113.8")
    assert principal.name == "bo@example.com"


def test_an_unknown_address_is_throttled_like_a_known_one(mailer: Mailer) -> None:
    for _ in range(5):
        _refused(mailer, "nobody@example.com", PASSWORD, None)
    _throttled(mailer, "nobody@example.com", PASSWORD, None)


def test_a_success_does_not_reset_the_failures_before_it(
    mailer: Mailer, ann: None, with_admin: WithAdmin
) -> None:
    """An attacker with an account of their own cannot log in to it now and then to buy
    more guesses at another's password from the same IP."""
    app = with_admin(login_attempts_per_ip=5)
    add_user(app, "mallory@example.com", "viewer", PASSWORD, actor="cli")
    for _ in range(4):
        _refused(app, "ann@example.com", OTHER_PASSWORD)
    log_in(app, "mallory@example.com", PASSWORD, IP)
    _refused(app, "bo@example.com", OTHER_PASSWORD)
    _throttled(app, "mallory@example.com", PASSWORD)


def test_successes_alone_are_never_throttled(mailer: Mailer, ann: None) -> None:
    for _ in range(40):
        log_in(mailer, "ann@example.com", PASSWORD, IP)


def test_a_hash_made_with_older_parameters_is_made_again_at_login(
    mailer: Mailer, ann: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    def stored() -> Any:
        with mailer.engine.connect() as connection:
            return connection.execute(sa.select(users.c.password_hash)).scalar_one()

    before = stored()
    assert ",t=1," in before
    monkeypatch.setattr(passwords, "hasher_factory", lambda: cheap_hasher(time_cost=2))
    log_in(mailer, "ann@example.com", PASSWORD, IP)
    after = stored()
    assert ",t=2," in after
    assert passwords.verify_password(after, PASSWORD)
    log_in(mailer, "ann@example.com", PASSWORD, IP)
    assert stored() == after
