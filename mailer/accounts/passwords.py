"""Passwords: hashed with argon2id, checked, and held to a few rules when they are set.

The hasher's parameters are argon2-cffi's defaults (RFC 9106's low-memory profile: 64 MiB, 3
passes), about 50 ms a hash. Tests set cheaper ones through ``hasher_factory``. A hash carries
its own parameters, so a stored hash made with older ones still verifies, and is made again
with the current ones at the next login (``PasswordCheck.needs_rehash``).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from mailer.errors import FieldError

MIN_LENGTH = 12
# Long enough for any passphrase, short enough that hashing one is no burden.
MAX_LENGTH = 1000
# The most used passwords of at least twelve characters in the public breach lists, and a
# few shorter ones in case the minimum is ever lowered. A guesser tries these first.
COMMON_PASSWORDS = frozenset(
    {
        "123456789012",
        "1234567890123",
        "12345678901234",
        "123456123456",
        "111111111111",
        "000000000000",
        "1q2w3e4r5t6y",
        "1qaz2wsx3edc",
        "qwertyuiop12",
        "qwertyuiop123",
        "qwertyuiopasdf",
        "qwerty123456",
        "password1234",
        "password12345",
        "passwordpassword",
        "iloveyou1234",
        "abc123abc123",
        "abcdefghijkl",
        "letmein12345",
        "welcome12345",
        "administrator",
        "correcthorsebatterystaple",
        "password",
        "123456789",
        "qwerty123",
    }
)

hasher_factory: Callable[[], PasswordHasher] = PasswordHasher
"""Makes the hasher every hash and check uses; tests replace it with cheaper parameters."""


def password_hasher() -> PasswordHasher:
    return hasher_factory()


@dataclass(frozen=True)
class PasswordCheck:
    """Whether a password matched its hash (``bool()`` of it), and whether the hash should be
    made again with the current parameters."""

    matches: bool
    needs_rehash: bool = False

    def __bool__(self) -> bool:
        return self.matches


def hash_password(password: str) -> str:
    return password_hasher().hash(password)


def verify_password(password_hash: str, password: str) -> PasswordCheck:
    """Whether ``password`` is the one ``password_hash`` was made from. A damaged hash matches
    nothing (the login is refused like a wrong password, not with an error)."""
    hasher = password_hasher()
    try:
        hasher.verify(password_hash, password.encode("utf-8"))
    except (VerificationError, InvalidHashError, UnicodeEncodeError):
        # UnicodeEncodeError: a lone surrogate, which no password set here holds.
        return PasswordCheck(False)
    return PasswordCheck(True, hasher.check_needs_rehash(password_hash))


def verify_nothing(password: str) -> None:
    """Spend what one check costs, for a login whose account does not exist: how long the
    answer takes must not tell whether it does."""
    hasher = password_hasher()
    parameters = (hasher.time_cost, hasher.memory_cost, hasher.parallelism, hasher.hash_len)
    verify_password(_stand_in_hash(*parameters), password)


@cache
def _stand_in_hash(time_cost: int, memory_cost: int, parallelism: int, hash_len: int) -> str:
    """A hash made with these parameters (once per process), checked like a real one."""
    return password_hasher().hash("no account has this password")


def check_new_password(password: str, email: str) -> None:
    """A FieldError for ``password`` saying why it may not be used (never repeating it)."""
    if len(password) < MIN_LENGTH:
        raise FieldError(
            "password", f"use at least {MIN_LENGTH} characters (this one has {len(password)})"
        )
    if len(password) > MAX_LENGTH:
        raise FieldError("password", f"use at most {MAX_LENGTH:,} characters")
    if not password.strip():
        raise FieldError("password", "use something other than spaces")
    if not password.isprintable() and any(_not_text(char) for char in password):
        raise FieldError("password", "use letters, digits, spaces and punctuation only")
    if password.strip().casefold() == email.strip().casefold():
        raise FieldError("password", "must not be the account's email address")
    if password.casefold() in COMMON_PASSWORDS:
        raise FieldError("password", "is one of the most common passwords; choose another")


def _not_text(char: str) -> bool:
    """A control character or a lone surrogate: what no keyboard types (and, for the
    surrogate, what cannot even be stored)."""
    return unicodedata.category(char) in ("Cc", "Cs")
