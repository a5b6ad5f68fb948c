"""API tokens: a name, a role, and a secret shown once when made.

The secret is ``mailer_`` and 43 urlsafe characters (32 random bytes). Only its sha256 is
stored: a random 256-bit secret cannot be guessed from its hash, so no slow hash is needed,
and a request's token is found with one indexed lookup.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from mailer.accounts.audit import record
from mailer.accounts.roles import Principal, Role, can_send_for, role_named
from mailer.app import Mailer
from mailer.db.engine import write_transaction
from mailer.db.tables import api_tokens
from mailer.errors import FieldError

PREFIX = "mailer_"
SECRET_SHAPE = re.compile(r"mailer_[A-Za-z0-9_-]{43}")
# Lower-case letters and digits first, then those and _ . -: a name that is safe in a URL
# path, a file name, a log line and a shell word.
TOKEN_NAME = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}")
NAME_RULE = "use 1-64 of a-z 0-9 _ . -, starting with a letter or a digit"
TOUCH_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class ApiToken:
    id: int
    name: str
    role: Role
    can_send: bool
    created_at: datetime
    created_by: str
    last_used_at: datetime | None
    revoked_at: datetime | None

    def as_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "role": str(self.role),
            "can_send": self.can_send,
            "created_at": _iso(self.created_at),
            "created_by": self.created_by,
            "last_used_at": _iso(self.last_used_at),
            "revoked_at": _iso(self.revoked_at),
        }


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat().replace("+00:00", "Z")


def _token(row: Any) -> ApiToken:
    return ApiToken(
        row.id,
        row.name,
        Role(row.role),
        row.can_send,
        row.created_at,
        row.created_by,
        row.last_used_at,
        row.revoked_at,
    )


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


def check_token_name(name: str) -> str:
    if not TOKEN_NAME.fullmatch(name):
        shown = name if len(name) <= 80 else name[:80] + "…"
        raise FieldError("name", NAME_RULE, shown)
    return name


def create_token(
    mailer: Mailer,
    name: str,
    role: Role | str,
    can_send: bool | None = None,
    *,
    actor: str,
) -> tuple[ApiToken, str]:
    """A new token and its secret, which is not stored and cannot be shown again."""
    check_token_name(name)
    chosen = role_named(role)
    sends = can_send_for(chosen, can_send)
    secret = PREFIX + secrets.token_urlsafe(32)
    now = mailer.clock()
    taken = FieldError("name", "is taken by another token (revoked ones keep their names)", name)
    try:
        with write_transaction(mailer.engine) as connection:
            exists = sa.select(api_tokens.c.id).where(api_tokens.c.name == name)
            if connection.execute(exists).first() is not None:
                raise taken
            row = connection.execute(
                api_tokens.insert()
                .values(
                    name=name,
                    role=chosen,
                    can_send=sends,
                    token_hash=secret_hash(secret),
                    created_at=now,
                    created_by=actor,
                )
                .returning(*api_tokens.c)
            ).one()
            record(
                connection,
                actor,
                "token.create",
                name,
                {"role": str(chosen), "can_send": sends},
                now,
            )
    except sa.exc.IntegrityError:
        raise taken from None  # made by another process since the check
    return _token(row), secret


def token_principal(mailer: Mailer, secret: str) -> Principal | None:
    """The token's principal; None for a secret that is unknown, malformed or revoked."""
    if not SECRET_SHAPE.fullmatch(secret):
        return None
    digest = secret_hash(secret)
    with mailer.engine.connect() as connection:
        row = connection.execute(
            sa.select(api_tokens).where(api_tokens.c.token_hash == digest)
        ).first()
    if row is None or row.revoked_at is not None:
        return None
    now = mailer.clock()
    if row.last_used_at is None or now - row.last_used_at >= TOUCH_EVERY:
        # Conditional, so that of the requests that arrive together only one writes.
        recently = api_tokens.c.last_used_at > now - TOUCH_EVERY
        with write_transaction(mailer.engine) as connection:
            connection.execute(
                api_tokens.update()
                .where(
                    api_tokens.c.id == row.id,
                    sa.or_(api_tokens.c.last_used_at.is_(None), ~recently),
                )
                .values(last_used_at=now)
            )
    return Principal("token", row.name, Role(row.role), row.can_send, token_id=row.id)


def list_tokens(mailer: Mailer) -> list[ApiToken]:
    """Every token, revoked ones included, by name."""
    with mailer.engine.connect() as connection:
        rows = connection.execute(sa.select(api_tokens).order_by(api_tokens.c.name)).all()
    return [_token(row) for row in rows]


def revoke_token(mailer: Mailer, name: str, actor: str) -> ApiToken:
    """Revoke the token: from now on its secret is refused. A FieldError for ``name`` when
    there is no such token, or it is revoked already."""
    check_token_name(name)
    now = mailer.clock()
    with write_transaction(mailer.engine) as connection:
        row = connection.execute(
            sa.select(api_tokens).where(api_tokens.c.name == name).with_for_update()
        ).first()
        if row is None:
            raise FieldError("name", "no token has this name", name)
        if row.revoked_at is not None:
            raise FieldError("name", "is revoked already", name)
        revoked = connection.execute(
            api_tokens.update()
            .where(api_tokens.c.id == row.id)
            .values(revoked_at=now)
            .returning(*api_tokens.c)
        ).one()
        record(connection, actor, "token.revoke", name, None, now)
    return _token(revoked)
