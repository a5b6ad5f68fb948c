"""The audit log: who changed what, and when. Each entry is written in the transaction of the
change it tells of, so there is never a change without its entry, nor an entry without its
change."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from mailer.app import Mailer
from mailer.db.tables import audit_log
from mailer.errors import FieldError

MAX_PAGE = 1000
ACTION_MAX = 100  # audit_log.action's length
MAX_ID = 2**63 - 1  # the largest id a 64-bit column holds


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: datetime
    actor: str
    """ "ann@example.com", "token:deploy" or "cli"."""
    action: str
    """ "user.add", "token.revoke", "campaign.send", ..."""
    target: str
    detail: dict[str, Any] | None

    def as_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "at": self.at.isoformat().replace("+00:00", "Z"),
            "actor": self.actor,
            "action": self.action,
            "target": self.target,
            "detail": self.detail,
        }


def record(
    connection: sa.Connection,
    actor: str,
    action: str,
    target: str,
    detail: dict[str, Any] | None,
    at: datetime,
) -> None:
    """Add an entry inside the caller's transaction (stored only if the change commits)."""
    connection.execute(
        audit_log.insert().values(at=at, actor=actor, action=action, target=target, detail=detail)
    )


def entries(
    mailer: Mailer,
    *,
    limit: int = 50,
    before_id: int | None = None,
    action_prefix: str | None = None,
) -> list[AuditEntry]:
    """Up to ``limit`` entries, newest first; the next page is the one ``before_id`` the last
    entry's id. ``action_prefix`` keeps the actions that start with it ("user." for changes
    to users)."""
    if not 1 <= limit <= MAX_PAGE:
        raise FieldError("limit", f"use 1 to {MAX_PAGE}", str(limit))
    if before_id is not None and not 1 <= before_id <= MAX_ID:
        raise FieldError("before", f"use an entry's id, 1 to {MAX_ID}", str(before_id)[:40])
    if action_prefix and ("\x00" in action_prefix or len(action_prefix) > ACTION_MAX):
        # No action holds either, and PostgreSQL refuses a NUL in a query.
        raise FieldError("action", f"use at most {ACTION_MAX} characters, and no NUL")
    query = sa.select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
    if before_id is not None:
        query = query.where(audit_log.c.id < before_id)
    if action_prefix:
        query = query.where(audit_log.c.action.startswith(action_prefix, autoescape=True))
    with mailer.engine.connect() as connection:
        rows = connection.execute(query).all()
    return [
        AuditEntry(row.id, row.at, row.actor, row.action, row.target, row.detail) for row in rows
    ]
