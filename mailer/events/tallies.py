"""Each campaign's events counted by kind and hour as they are stored (``event_tallies``),
so a report's totals and timeline come from a few hundred rows instead of millions of
events.

Machine events are counted apart: opens SendGrid marked ``sg_machine_open`` and clicks
judged automated, including earlier clicks a later burst showed to be automated (they move
from the human count to the machine count of their own hour). Events of no known campaign
are not counted here (they are in no report).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from mailer.db.tables import event_tallies
from mailer.events.automated_clicks import ClickJudgement
from mailer.events.store_types import StoredEvent

HOUR = 3600
Key = tuple[int, str, int]  # campaign, kind, the hour's start


def hour_of(moment: int) -> int:
    return moment - moment % HOUR


def count_events(
    connection: sa.Connection, new_events: Sequence[StoredEvent], judgement: ClickJudgement
) -> None:
    """Add the POST's new events (and re-judged clicks) to their campaigns' tallies."""
    events: Counter[Key] = Counter()
    machine: Counter[Key] = Counter()
    for stored in new_events:
        if stored.campaign_id is None:
            continue
        key = (stored.campaign_id, stored.event.kind, hour_of(stored.event.occurred_at))
        events[key] += 1
        if judgement.machine.get(stored.id, stored.event.kind == "open" and stored.event.machine):
            machine[key] += 1
    for campaign_id, occurred_at in judgement.rejudged_at.values():
        machine[(campaign_id, "click", hour_of(occurred_at))] += 1
    keys = sorted(events.keys() | machine.keys())  # one lock order for every server
    if not keys:
        return
    insert = _insert(connection)
    added = insert.excluded
    connection.execute(
        insert.on_conflict_do_update(
            index_elements=["campaign_id", "kind", "hour"],
            set_={
                "events": event_tallies.c.events + added.events,
                "machine_events": event_tallies.c.machine_events + added.machine_events,
            },
        ),
        [
            {
                "campaign_id": key[0],
                "kind": key[1],
                "hour": key[2],
                "events": events[key],
                "machine_events": machine[key],
            }
            for key in keys
        ],
    )


def _insert(connection: sa.Connection) -> Any:
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    return dialect.insert(event_tallies)
