"""How each list grew lately, from the consent record (``consent_events``): who joined
(subscribed, or resubscribed after leaving), who confirmed, and who left (unsubscribed) in the
last 7 and 30 days, each counted once per list and window, and the net change (joined less
left).

Why the consent record and not the memberships: a membership keeps only its latest status
and the time of its latest change (``updated_at``), so someone who joined and left within the
window would count only as leaving, a membership restored as unsubscribed when a list is made
again under an earlier name would look like a join, and no index reads memberships by time.
The consent record keeps each action with its time. What writes none is not counted: CSV
imports, adding people from the admin app, the API or the command line (an admin's
unsubscribe and resubscribe are recorded), and the command line's ``subscribers unsubscribe``.

It stays quick however long the record grows: the rows are numbered as they are written, and
each is written with the time of its writing, so the last 30 days are the tail of the primary
key. The last row older than that (less a day's margin: ``LATE``) is found walking the key
backwards from its end (it stops at once), and only the rows after it are read, in one
grouped pass: no index on ``created_at`` is needed. A record of a deleted list does not count
for a list made again under its name: only actions at or after the list's making count.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from mailer.db.tables import consent_events, lists

WINDOWS = (7, 30)
JOINS = ("subscribe", "resubscribe")
# Rows are not quite in the order of their times: each action takes its time before its
# transaction, which may wait for another's. The tail read starts this much earlier.
LATE = timedelta(days=1)


@dataclass(frozen=True)
class Growth:
    """One list's changes over one window of days."""

    days: int
    joined: int
    confirmed: int
    left: int

    @property
    def net(self) -> int:
        return self.joined - self.left


def _start_of_tail(connection: sa.Connection, since: datetime) -> int:
    """The id after which every row may be newer than ``since``: that of the last row older
    than it (0 when there is none). A walk back along the primary key, stopping at the first
    such row."""
    found = connection.execute(
        sa.select(consent_events.c.id)
        .where(consent_events.c.created_at < since)
        .order_by(consent_events.c.id.desc())
        .limit(1)
    ).scalar()
    return 0 if found is None else int(found)


def _made_lately(connection: sa.Connection, since: datetime) -> sa.ColumnElement[bool]:
    """Leaves out the rows of a list made since ``since`` that are older than it (a deleted
    list's of the same name); a condition on each such list (few), not a lookup per row."""
    made = connection.execute(
        sa.select(lists.c.name, lists.c.created_at).where(lists.c.created_at > since)
    ).all()
    return sa.and_(
        sa.true(),
        *(
            sa.not_(
                sa.and_(
                    consent_events.c.list_name == name, consent_events.c.created_at < created_at
                )
            )
            for name, created_at in made
        ),
    )


def list_growth(connection: sa.Connection, now: datetime) -> dict[str, tuple[Growth, ...]]:
    """Every list's growth over each of WINDOWS (days before ``now``), by list name; a list
    without changes has zeros."""
    starts = {days: now - timedelta(days=days) for days in WINDOWS}
    earliest = min(starts.values())
    after = _start_of_tail(connection, earliest - LATE)
    kind = sa.case(
        (consent_events.c.action.in_(JOINS), sa.literal("joined")),
        (consent_events.c.action == "confirm", sa.literal("confirmed")),
        else_=sa.literal("left"),
    )
    person = consent_events.c.subscriber_id
    # Every row read is in the longest window: only the shorter ones need a condition.
    people = [
        sa.func.count(
            sa.distinct(
                person
                if start == earliest
                else sa.case((consent_events.c.created_at >= start, person))
            )
        )
        for start in starts.values()
    ]
    rows = connection.execute(
        sa.select(consent_events.c.list_name, kind, *people)
        .where(
            consent_events.c.id > after,
            consent_events.c.created_at >= earliest,
            consent_events.c.created_at <= now,
            _made_lately(connection, earliest),
        )
        .group_by(consent_events.c.list_name, kind)
    ).all()
    counted: dict[tuple[str, str, int], int] = {}
    for name, what, *figures in rows:
        for days, figure in zip(starts, figures, strict=True):
            counted[(str(name), str(what), days)] = int(figure)
    names = connection.execute(sa.select(lists.c.name)).scalars()
    return {
        str(name): tuple(
            Growth(
                days=days,
                joined=counted.get((name, "joined", days), 0),
                confirmed=counted.get((name, "confirmed", days), 0),
                left=counted.get((name, "left", days), 0),
            )
            for days in WINDOWS
        )
        for name in names
    }


def growth_of(engine: sa.Engine, now: datetime) -> dict[str, tuple[Growth, ...]]:
    with engine.connect() as connection:
        return list_growth(connection, now)
