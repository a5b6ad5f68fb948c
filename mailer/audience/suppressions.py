"""Global suppressions: addresses that are never mailed, whatever list they are on."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from mailer.audience.addresses import address_hash, require_address
from mailer.clock import Clock, utc_now
from mailer.db.engine import write_transaction
from mailer.db.tables import SUPPRESSION_REASONS, suppressions
from mailer.errors import MailerError, NotFoundError


@dataclass(frozen=True)
class Suppression:
    email: str | None
    """None once the person was erased: only the hash of the address is left."""
    reason: str
    detail: str
    created_at: datetime

    def as_json(self) -> dict[str, object]:
        return {
            "email": self.email,
            "reason": self.reason,
            "detail": self.detail,
            "created_at": self.created_at.isoformat().replace("+00:00", "Z"),
        }


def check_reason(reason: str) -> str:
    if reason not in SUPPRESSION_REASONS:
        raise MailerError(
            f"suppression reason {reason!r}: use one of {', '.join(SUPPRESSION_REASONS)}"
        )
    return reason


def find_suppression(connection: sa.Connection, key: str) -> Suppression | None:
    row = connection.execute(
        sa.select(suppressions).where(suppressions.c.address_hash == address_hash(key))
    ).first()
    if row is None:
        return None
    return Suppression(row.email, row.reason, row.detail, row.created_at)


def add_suppression(
    connection: sa.Connection,
    key: str,
    email: str | None,
    reason: str,
    detail: str = "",
    clock: Clock = utc_now,
) -> bool:
    """Suppress the address unless it already is (the first reason stays); True if added."""
    if find_suppression(connection, key) is not None:
        return False
    connection.execute(
        sa.insert(suppressions).values(
            address_hash=address_hash(key),
            email=email,
            email_key=None if email is None else key,
            reason=check_reason(reason),
            detail=detail,
            created_at=clock(),
        )
    )
    return True


def suppress(
    engine: sa.Engine, email: str, reason: str, detail: str = "", clock: Clock = utc_now
) -> bool:
    check_reason(reason)
    address = require_address(email)
    with write_transaction(engine) as connection:
        return add_suppression(connection, address.key, address.email, reason, detail, clock)


def unsuppress(engine: sa.Engine, email: str) -> Suppression:
    """Lift a suppression explicitly; the only way a suppressed address is mailed again."""
    address = require_address(email)
    with write_transaction(engine) as connection:
        return remove_suppression(connection, address.key, address.email)


def remove_suppression(connection: sa.Connection, key: str, email: str) -> Suppression:
    """``unsuppress`` of the address with ``key`` inside the caller's write transaction; the
    suppression lifted (NotFoundError naming ``email`` if there was none)."""
    existing = find_suppression(connection, key)
    if existing is None:
        raise NotFoundError(f"{email} is not suppressed")
    connection.execute(
        sa.delete(suppressions).where(suppressions.c.address_hash == address_hash(key))
    )
    return existing


# Suppressions are listed by address (erased ones, which have none, first), then by hash.
SuppressionKey = tuple[str, str]


def suppressions_after(
    engine: sa.Engine, after: SuppressionKey | None, limit: int, prefix: str = ""
) -> list[tuple[SuppressionKey, Suppression]]:
    """Up to ``limit`` suppressions whose address starts with ``prefix`` (any case), ordered
    by address, those after the key ``after``; each with its key, to continue from."""
    order = (sa.func.coalesce(suppressions.c.email_key, ""), suppressions.c.address_hash)
    query = sa.select(*order, suppressions).order_by(*order).limit(limit)
    if prefix:
        query = query.where(suppressions.c.email_key.startswith(prefix.lower(), autoescape=True))
    if after is not None:
        query = query.where(sa.tuple_(*order) > sa.tuple_(*after))
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    return [
        ((str(row[0]), str(row[1])), Suppression(row.email, row.reason, row.detail, row.created_at))
        for row in rows
    ]
