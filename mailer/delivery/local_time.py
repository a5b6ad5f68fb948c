"""Local-time delivery: each recipient gets the campaign at the same wall-clock time in their
own zone (the subscriber's ``timezone``; the newsletter's when unknown).

When the campaign starts, every ledger row is made ``waiting`` with the moment it is due: the
next ``HH:MM`` in the recipient's zone after the start. Senders turn due rows into ``pending``
(``release_due``) and send them like any other; between waves the campaign needs no sender,
and ``campaigns.waiting_until`` says when the next wave is due.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from time import monotonic
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa

from mailer.db.engine import write_transaction
from mailer.db.tables import campaigns, deliveries, subscribers
from mailer.errors import FieldError

CLOCK = re.compile(r"(\d{1,2}):(\d{2})")
BUSY_RELEASE_SECONDS = 30.0


def parse_clock(text: str) -> time:
    """``09:00`` -> 09:00: a local-time delivery's time of day (the field ``local_time``)."""
    found = CLOCK.fullmatch(text.strip())
    if found is None or int(found.group(1)) > 23 or int(found.group(2)) > 59:
        raise FieldError("local_time", "give a time of day as HH:MM, e.g. 09:00", text)
    return time(int(found.group(1)), int(found.group(2)))


def next_local(clock: time, zone: ZoneInfo, after: datetime) -> datetime:
    """The first moment after ``after`` when it is ``clock`` in ``zone`` (UTC). On a night the
    clocks skip that time, the moment they jump; on a night they pass it twice, the first."""
    day = after.astimezone(zone).date()
    for offset in (0, 1, 2):
        naive = datetime.combine(day + timedelta(days=offset), clock)
        moment = naive.replace(tzinfo=zone).astimezone(UTC)
        if moment.astimezone(zone).replace(tzinfo=None) != naive:  # skipped that night
            moment = _jump(naive, zone)
        if moment > after:
            return moment
    raise AssertionError("a time of day comes round within two days")  # pragma: no cover


def _jump(naive: datetime, zone: ZoneInfo) -> datetime:
    """The moment the clocks jump over the skipped wall-clock time ``naive``."""
    # fold=1 reads it with the offset after the jump: a moment just before the gap. Gaps
    # are whole minutes (an hour, or Lord Howe's half hour), so a minute at a time finds it.
    moment = naive.replace(tzinfo=zone, fold=1).astimezone(UTC)
    while moment.astimezone(zone).replace(tzinfo=None) < naive:
        moment += timedelta(minutes=1)
    return moment


def _zone(name: str | None) -> ZoneInfo | None:
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def assign_due_times(
    connection: sa.Connection, campaign_id: int, clock: time, default_zone: str, now: datetime
) -> datetime | None:
    """Make the campaign's pending rows wait for their recipient's local ``clock``; returns
    the earliest moment due (None when the campaign has no rows)."""
    fallback = next_local(clock, ZoneInfo(default_zone), now)
    mine = deliveries.c.campaign_id == campaign_id
    connection.execute(
        sa.update(deliveries)
        .where(mine, deliveries.c.status == "pending")
        .values(status="waiting", due_at=fallback)
    )
    # One update per zone the recipients name (a few hundred at most), not one per row.
    named = connection.execute(
        sa.select(subscribers.c.timezone)
        .distinct()
        .join(deliveries, deliveries.c.subscriber_id == subscribers.c.id)
        .where(mine, subscribers.c.timezone.is_not(None))
    ).scalars()
    for name in list(named):
        zone = _zone(name)
        if zone is None or name == default_zone:
            continue
        in_zone = sa.select(subscribers.c.id).where(subscribers.c.timezone == name)
        connection.execute(
            sa.update(deliveries)
            .where(mine, deliveries.c.status == "waiting", deliveries.c.subscriber_id.in_(in_zone))
            .values(due_at=next_local(clock, zone, now))
        )
    return _next_due(connection, campaign_id)


def _next_due(connection: sa.Connection, campaign_id: int) -> datetime | None:
    earliest = connection.execute(
        sa.select(sa.func.min(deliveries.c.due_at)).where(
            deliveries.c.campaign_id == campaign_id, deliveries.c.status == "waiting"
        )
    ).scalar()
    connection.execute(
        sa.update(campaigns).where(campaigns.c.id == campaign_id).values(waiting_until=earliest)
    )
    return earliest


def release_due(
    connection: sa.Connection, campaign_id: int, now: datetime, grace_seconds: float
) -> tuple[int, datetime | None]:
    """Turn due rows into pending ones; returns how many, and when the next are due.

    A row whose moment passed longer ago than the misfire grace (no sender ran then: the
    worker was down, the campaign paused) is skipped with the reason, not sent a day late.
    """
    mine = deliveries.c.campaign_id == campaign_id
    waiting = deliveries.c.status == "waiting"
    late = now - timedelta(seconds=grace_seconds)
    connection.execute(
        sa.update(deliveries)
        .where(mine, waiting, deliveries.c.due_at < late)
        .values(
            status="skipped",
            updated_at=now,
            error="its local delivery time passed while nothing was sending "
            "(longer ago than the misfire grace)",
        )
    )
    released = connection.execute(
        sa.update(deliveries)
        .where(mine, waiting, deliveries.c.due_at <= now)
        .values(status="pending", updated_at=now)
    ).rowcount
    return int(released), _next_due(connection, campaign_id)


class Waves:
    """A sender's view of a local-time campaign: rows come due while it runs."""

    def __init__(
        self,
        engine: sa.Engine,
        campaign_id: int,
        grace_seconds: float,
        clock: Callable[[], datetime],
    ) -> None:
        self.engine = engine
        self.campaign_id = campaign_id
        self.grace_seconds = grace_seconds
        self.clock = clock
        self._released_at = monotonic()

    def release(self, connection: sa.Connection | None = None, *, busy: bool = False) -> bool:
        """Whether rows came due (and are pending now). ``busy``: the sender has batches in
        hand; rows are released every half minute even so, so that a long wave never keeps
        the next one waiting past the misfire grace (which would skip it)."""
        if busy and monotonic() - self._released_at < BUSY_RELEASE_SECONDS:
            return False
        self._released_at = monotonic()
        if connection is not None:
            released, _ = release_due(
                connection, self.campaign_id, self.clock(), self.grace_seconds
            )
            return released > 0
        with write_transaction(self.engine) as own:
            return self.release(own)

    def still_waiting(self, connection: sa.Connection) -> bool:
        return (
            connection.execute(
                sa.select(campaigns.c.waiting_until).where(campaigns.c.id == self.campaign_id)
            ).scalar()
            is not None
        )
