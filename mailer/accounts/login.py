"""Logging in to the admin app: a password checked, held back after too many wrong ones.

Wrong passwords are counted per account and per client IP in the database's rate limit
counters (``mailer.rate_limits``), so the limits hold across every `mailer serve` process.
Each attempt is counted before its password is checked and handed back once it succeeds: many
guesses sent at once cannot slip past the limit while the first are being checked, and a
successful login leaves the failures before it counted (logging in to one's own account does
not buy an IP more guesses at others). A refusal reads the same whether the account exists or
not, and takes as long: an unknown address still costs one argon2 check.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from mailer.accounts.audit import record
from mailer.accounts.errors import LoginRefused as LoginRefused
from mailer.accounts.errors import LoginThrottled as LoginThrottled
from mailer.accounts.passwords import MAX_LENGTH, hash_password, verify_nothing, verify_password
from mailer.accounts.roles import Principal, Role
from mailer.accounts.sessions import insert_session, new_token, prune_now_and_then
from mailer.app import Mailer
from mailer.audience.addresses import ADDRESS_MAX, InvalidAddress, normalize_address
from mailer.db.engine import write_transaction
from mailer.db.tables import users
from mailer.rate_limits import RateLimit, RateLimiter

ACCOUNT_PURPOSE = "login-account"
IP_PURPOSE = "login-ip"


def log_in(
    mailer: Mailer, email: str, password: str, client_ip: str | None
) -> tuple[Principal, str]:
    """The person and a new session's token; LoginRefused for a wrong address or password,
    LoginThrottled past a limit (even with the right password). ``client_ip`` None (not a
    web request) is counted per account only."""
    limits = mailer.settings.admin
    window = limits.login_window_minutes * 60
    rules = {
        IP_PURPOSE: RateLimit(IP_PURPOSE, limits.login_attempts_per_ip, window),
        ACCOUNT_PURPOSE: RateLimit(ACCOUNT_PURPOSE, limits.login_attempts_per_account, window),
    }
    now = mailer.clock()
    # One moment for the whole attempt: a success hands back the hits of the windows it was
    # counted in.
    limiter = RateLimiter(mailer.engine, mailer.signing_key, lambda: now)
    key, is_address = _account_key(email)
    counted: list[tuple[RateLimit, str]] = [(rules[ACCOUNT_PURPOSE], key)]
    if client_ip:
        counted.insert(0, (rules[IP_PURPOSE], client_ip))
    _count_attempt(mailer, limiter, counted)
    row = _user_row(mailer, key) if is_address else None
    if len(password) > MAX_LENGTH:
        raise LoginRefused()  # never set by add_user, so wrong; not worth hashing
    if row is None:
        verify_nothing(password)
        raise LoginRefused()
    check = verify_password(row.password_hash, password)
    if not check:
        raise LoginRefused()
    principal = Principal("user", row.email, Role(row.role), row.can_send, user_id=row.id)
    token = new_token()
    new_hash = hash_password(password) if check.needs_rehash else None
    with write_transaction(mailer.engine) as connection:
        _hand_back(connection, limiter, counted, now)
        if new_hash is not None:
            # Only if the password was not changed meanwhile.
            connection.execute(
                users.update()
                .where(users.c.id == row.id, users.c.password_hash == row.password_hash)
                .values(password_hash=new_hash)
            )
        insert_session(connection, token, row.id, mailer)
        record(connection, principal.actor, "user.login", row.email, {"ip": client_ip}, now)
    limiter.prune_now_and_then()
    prune_now_and_then(mailer)
    return principal, token


def _account_key(email: str) -> tuple[str, bool]:
    """What attempts on one account are counted under, and whether it is an address: its
    address key, or for text that is no address, the text (counted like an address nobody
    has, and never looked up)."""
    text = email.strip()
    if len(text) <= ADDRESS_MAX:
        try:
            return normalize_address(text).key, True
        except InvalidAddress:
            pass
    return text.lower(), False


def _user_row(mailer: Mailer, key: str) -> Any:
    query = sa.select(
        users.c.id, users.c.email, users.c.role, users.c.can_send, users.c.password_hash
    ).where(users.c.email_key == key)
    with mailer.engine.connect() as connection:
        return connection.execute(query).first()


def _count_attempt(
    mailer: Mailer, limiter: RateLimiter, counted: Sequence[tuple[RateLimit, str]]
) -> None:
    """Count the attempt as a failure (until it succeeds); LoginThrottled past a limit. An
    IP already past its limit is not counted against the account as well."""
    refused: LoginThrottled | None = None
    with write_transaction(mailer.engine) as connection:
        for rule, key in counted:
            verdict = limiter.hit_in(connection, rule, key)
            if not verdict.allowed:
                refused = LoginThrottled(verdict.retry_after)
                break
    if refused is not None:
        raise refused


def _hand_back(
    connection: sa.Connection,
    limiter: RateLimiter,
    counted: Sequence[tuple[RateLimit, str]],
    now: datetime,
) -> None:
    """Take back this attempt's hits: it was not a failure."""
    for rule, key in counted:
        limiter.hand_back_in(connection, rule, key, now)
