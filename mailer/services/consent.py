"""The consent record: every subscribe, confirm, unsubscribe and resubscribe, with when,
through what, and (only where the operator chose to keep it) from which IP address."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from mailer.db.tables import consent_events

ACTIONS = ("subscribe", "confirm", "unsubscribe", "resubscribe")


@dataclass(frozen=True)
class Origin:
    """Where an action came from: ``source`` names the face and the form (``one-click``,
    ``unsubscribe page``, ``preferences``, ``signup form``, ``command line``...)."""

    source: str
    ip: str | None = None


def record(
    connection: sa.Connection,
    subscriber_id: int,
    list_names: list[str],
    action: str,
    origin: Origin,
    now: datetime,
    *,
    keep_ip: bool,
) -> None:
    if not list_names:
        return
    assert action in ACTIONS, action
    connection.execute(
        sa.insert(consent_events),
        [
            {
                "subscriber_id": subscriber_id,
                "list_name": name,
                "action": action,
                "source": origin.source[:100],
                "ip": origin.ip if keep_ip else None,
                "created_at": now,
            }
            for name in list_names
        ],
    )
