"""Login sessions of the admin app. The cookie holds 32 random bytes; the table holds only
their sha256, so a copy of the database (a backup, a leaked dump) lets no one in.

A session ends after ``[admin] session_hours`` without a request, and ``session_max_days``
after the login however active it is. Every request reads it, but only one a minute writes
its last_seen_at, so the admin app's reads do not each take the database's write lock.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa

from mailer.accounts.roles import Principal, Role
from mailer.app import Mailer
from mailer.config_admin import AdminSettings
from mailer.db.engine import write_transaction
from mailer.db.tables import sessions, users

TOKEN_BYTES = 32
# A token as start_session makes it: urlsafe base64 of 32 bytes. Anything else is no session,
# told without a hash or a query.
TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{43}")
TOUCH_EVERY = timedelta(minutes=1)
# This process clears ended sessions away at most this often (at a login).
PRUNE_EVERY = timedelta(minutes=10)

# When each database's ended sessions are next cleared away by this process.
_next_prune: dict[str, datetime] = {}


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def expiry(created_at: datetime, last_seen_at: datetime, limits: AdminSettings) -> datetime:
    """When a session ends if no request comes before."""
    idle_end = last_seen_at + timedelta(hours=limits.session_hours)
    return min(idle_end, created_at + timedelta(days=limits.session_max_days))


def insert_session(connection: sa.Connection, token: str, user_id: int, mailer: Mailer) -> None:
    """Store a session for ``token`` in the caller's transaction."""
    now = mailer.clock()
    connection.execute(
        sessions.insert().values(
            token_hash=token_hash(token),
            user_id=user_id,
            created_at=now,
            last_seen_at=now,
            expires_at=expiry(now, now, mailer.settings.admin),
        )
    )


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def start_session(mailer: Mailer, user_id: int) -> str:
    """A new session for the user: the token for the cookie (only its hash is stored)."""
    token = new_token()
    with write_transaction(mailer.engine) as connection:
        insert_session(connection, token, user_id, mailer)
    prune_now_and_then(mailer)
    return token


def session_principal(mailer: Mailer, token: str) -> Principal | None:
    """Who the session of ``token`` is, with their role as it is now; None when there is no
    such session or it has ended."""
    if not TOKEN_SHAPE.fullmatch(token):
        return None
    digest = token_hash(token)
    query = (
        sa.select(
            sessions.c.created_at,
            sessions.c.last_seen_at,
            sessions.c.expires_at,
            users.c.id,
            users.c.email,
            users.c.role,
            users.c.can_send,
        )
        .join(users, users.c.id == sessions.c.user_id)
        .where(sessions.c.token_hash == digest)
    )
    with mailer.engine.connect() as connection:
        found = connection.execute(query).first()
    now = mailer.clock()
    if found is None:
        return None
    limits = mailer.settings.admin
    if now >= min(found.expires_at, expiry(found.created_at, found.last_seen_at, limits)):
        return None
    if now - found.last_seen_at >= TOUCH_EVERY:
        _touch(mailer, digest, found.created_at, now)
    return Principal("user", found.email, Role(found.role), found.can_send, user_id=found.id)


def _touch(mailer: Mailer, digest: str, created_at: datetime, now: datetime) -> None:
    # Conditional, so that of the requests that arrive together only one writes.
    with write_transaction(mailer.engine) as connection:
        connection.execute(
            sessions.update()
            .where(sessions.c.token_hash == digest, sessions.c.last_seen_at <= now - TOUCH_EVERY)
            .values(last_seen_at=now, expires_at=expiry(created_at, now, mailer.settings.admin))
        )


def end_session(mailer: Mailer, token: str) -> None:
    """Log out of this session (nothing happens for one that is unknown or over)."""
    if not TOKEN_SHAPE.fullmatch(token):
        return
    with write_transaction(mailer.engine) as connection:
        connection.execute(sessions.delete().where(sessions.c.token_hash == token_hash(token)))


def end_all_sessions(mailer: Mailer, user_id: int) -> int:
    """Log the user out everywhere; how many sessions ended."""
    with write_transaction(mailer.engine) as connection:
        return end_sessions_of(connection, user_id)


def end_sessions_of(connection: sa.Connection, user_id: int) -> int:
    """end_all_sessions in the caller's transaction."""
    return connection.execute(sessions.delete().where(sessions.c.user_id == user_id)).rowcount


def active_sessions(mailer: Mailer) -> dict[int, int]:
    """How many sessions each user has that have not ended, by user id."""
    now = mailer.clock()
    limits = mailer.settings.admin
    query = sa.select(sessions.c.user_id, sessions.c.created_at, sessions.c.last_seen_at).where(
        sessions.c.expires_at > now
    )
    counts: dict[int, int] = {}
    with mailer.engine.connect() as connection:
        for row in connection.execute(query):
            if now < expiry(row.created_at, row.last_seen_at, limits):
                counts[row.user_id] = counts.get(row.user_id, 0) + 1
    return counts


def prune_now_and_then(mailer: Mailer) -> None:
    """``prune_sessions`` unless this process did within ``PRUNE_EVERY``."""
    now = mailer.clock()
    key = str(mailer.engine.url)
    due = _next_prune.get(key)
    if due is not None and now < due:
        return
    _next_prune[key] = now + PRUNE_EVERY
    prune_sessions(mailer)


def prune_sessions(mailer: Mailer) -> int:
    """Delete the sessions that have ended; how many."""
    with write_transaction(mailer.engine) as connection:
        ended = sessions.delete().where(sessions.c.expires_at <= mailer.clock())
        return connection.execute(ended).rowcount
