"""Passwords: argon2id hashes that verify, weak passwords refused with the reason, and a hash
made with older parameters flagged to be made again."""

from __future__ import annotations

import pytest

from mailer.accounts import passwords
from mailer.accounts.passwords import check_new_password, hash_password, verify_password
from mailer.errors import FieldError
from tests.account_helpers import PASSWORD, cheap_hasher, cheap_hashing

__all__ = ["cheap_hashing"]  # fixtures


def test_a_hash_verifies_its_password_and_no_other() -> None:
    stored = hash_password(PASSWORD)
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored
    assert verify_password(stored, PASSWORD)
    assert not verify_password(stored, PASSWORD + " ")
    assert not verify_password(stored, PASSWORD.upper())
    # Salted: the same password never makes the same hash twice.
    assert hash_password(PASSWORD) != stored


def test_a_damaged_hash_or_a_password_that_is_not_text_matches_nothing() -> None:
    for damaged in ["", "not a hash", hash_password(PASSWORD)[:-5], "$argon2id$v=19$m=8"]:
        assert not verify_password(damaged, PASSWORD)
    assert not verify_password(hash_password(PASSWORD), PASSWORD + "\udcff")


def test_a_hash_made_with_other_parameters_is_flagged_for_a_new_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    older = hash_password(PASSWORD)
    assert verify_password(older, PASSWORD).needs_rehash is False
    monkeypatch.setattr(passwords, "hasher_factory", lambda: cheap_hasher(time_cost=2))
    check = verify_password(older, PASSWORD)
    assert check and check.needs_rehash
    assert verify_password(hash_password(PASSWORD), PASSWORD).needs_rehash is False


def test_the_default_hasher_is_argon2id_with_the_library_defaults() -> None:
    from argon2 import PasswordHasher, Type

    hasher = PasswordHasher()
    assert hasher.type is Type.ID
    assert (hasher.time_cost, hasher.memory_cost) == (3, 65536)


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("", "use at least 12 characters (this one has 0)"),
        ("short one", "use at least 12 characters (this one has 9)"),
        ("x" * 1001, "use at most 1,000 characters"),
        (" " * 12, "use something other than spaces"),
        ("ann@example.com", "must not be the account's email address"),
        ("ANN@Example.COM", "must not be the account's email address"),
        ("Password1234", "is one of the most common passwords; choose another"),
        ("1q2w3e4r5t6y", "is one of the most common passwords; choose another"),
        ("long enough\ttab", "use letters, digits, spaces and punctuation only"),
        ("long enough \udcff", "use letters, digits, spaces and punctuation only"),
    ],
)
def test_a_weak_password_is_refused_with_the_reason_and_not_repeated(
    password: str, problem: str
) -> None:
    with pytest.raises(FieldError) as refused:
        check_new_password(password, "ann@example.com")
    assert refused.value.field == "password"
    assert refused.value.problem == problem
    assert refused.value.value is None
    if password.strip():
        assert password not in str(refused.value)


def test_a_long_unusual_password_is_taken() -> None:
    check_new_password(PASSWORD, "ann@example.com")
    check_new_password("x" * 1000, "ann@example.com")
    check_new_password("这个密码是一个很长的句子啊", "ann@example.com")
