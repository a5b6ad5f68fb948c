"""Which process is sending a campaign, so two never send the same one.

The sender writes ``host:pid`` and a heartbeat into the campaign row. Another process may take
the campaign over only when that owner is gone: on the same host, when its pid no longer runs
(a killed sender is taken over at once); elsewhere, when its heartbeat is older than the stale
limit.
"""

from __future__ import annotations

import os
import socket
from datetime import datetime, timedelta

import sqlalchemy as sa

from mailer.db.tables import campaigns

HOST = socket.gethostname()


def this_process() -> str:
    return f"{HOST}:{os.getpid()}"


def _gone(owner: str) -> bool:
    host, _, pid = owner.rpartition(":")
    if host != HOST or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # runs, as another user
        return False
    return False


def is_free(
    owner: str | None, heartbeat: datetime | None, me: str, now: datetime, stale_after: float
) -> bool:
    """Whether ``me`` may send a campaign held by ``owner`` with that last heartbeat."""
    return (
        owner is None
        or owner == me
        or _gone(owner)
        or heartbeat is None
        or now - heartbeat > timedelta(seconds=stale_after)
    )


def take(
    connection: sa.Connection, campaign_id: int, me: str, now: datetime, stale_after: float
) -> str | None:
    """Make ``me`` the sender of a campaign in state sending; returns None on success, or the
    owner that still holds it."""
    row = connection.execute(
        sa.select(campaigns.c.owner, campaigns.c.heartbeat_at).where(campaigns.c.id == campaign_id)
    ).first()
    if row is None:
        return None
    owner, heartbeat = row.owner, row.heartbeat_at
    if not is_free(owner, heartbeat, me, now, stale_after):
        return str(owner)
    # Conditional on the owner read above: of two processes taking over at once, one wins.
    condition = campaigns.c.owner.is_(None) if owner is None else campaigns.c.owner == owner
    result = connection.execute(
        sa.update(campaigns)
        .where(campaigns.c.id == campaign_id, campaigns.c.status == "sending", condition)
        .values(owner=me, heartbeat_at=now)
    )
    return None if result.rowcount == 1 else "another process"


def beat(connection: sa.Connection, campaign_id: int, me: str, now: datetime) -> str | None:
    """Renew the heartbeat; returns the campaign's state, or None if ``me`` lost it."""
    result = connection.execute(
        sa.update(campaigns)
        .where(campaigns.c.id == campaign_id, campaigns.c.owner == me)
        .values(heartbeat_at=now)
    )
    if result.rowcount != 1:
        return None
    status = connection.execute(
        sa.select(campaigns.c.status).where(campaigns.c.id == campaign_id)
    ).scalar_one()
    return str(status)


def release(connection: sa.Connection, campaign_id: int, me: str) -> None:
    connection.execute(
        sa.update(campaigns)
        .where(campaigns.c.id == campaign_id, campaigns.c.owner == me)
        .values(owner=None, heartbeat_at=None)
    )
