"""Campaigns for the admin benchmark's dashboard (bench/admin.py): sent campaigns of the
bench list, each with a ledger of ``recipients`` rows inserted in bulk, and on those rows what
SendGrid's events leave there (the rules in mailer.events: the outcome, the first open and
click, the bits of ``event_kinds``), which is what the dashboard reads of events; the events
table itself is not filled (the dashboard never reads it).

Of each ledger: 99.7% sent, 0.2% failed, 0.1% skipped; 97% delivered, 2% bounced, 1% only
processed; 40% opened (a third of them by machines) and 10% clicked. The newest campaign is
paused half way (half its rows pending) and the one before has five recipients in doubt, so
the dashboard's "needs attention" has something to show.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

LEDGER_COLUMNS = (
    "campaign_id, subscriber_id, status, batch_id, updated_at, outcome, outcome_at, "
    "first_open_at, first_human_open_at, first_click_at, first_human_click_at, event_kinds"
)
START = 1764950400  # 2025-12-05T16:00:00Z
PROCESSED, DELIVERED, BOUNCE = 1, 4, 8
OPEN, HUMAN_OPEN, CLICK, HUMAN_CLICK = 64, 128, 256, 512


def _ledger_rows(
    campaign_id: int, first: int, recipients: int, paused: bool, in_doubt: bool, when: str
) -> Iterator[tuple[Any, ...]]:
    rng = random.Random(campaign_id)
    for number in range(recipients):
        subscriber = first + number
        if paused and number >= recipients // 2:
            yield (campaign_id, subscriber, "pending", None, when, *([None] * 7))
            continue
        draw = rng.random()
        status = "failed" if draw < 0.002 else "skipped" if draw < 0.003 else "sent"
        if in_doubt and number < 5:
            status = "in_doubt"
        if status != "sent":
            yield (campaign_id, subscriber, status, None, when, *([None] * 7))
            continue
        at = START + rng.randrange(3600)
        fate = rng.random()
        outcome, kinds = ("delivered", PROCESSED | DELIVERED)
        if fate > 0.99:
            outcome, kinds = "processed", PROCESSED
        elif fate > 0.97:
            outcome, kinds = "bounced", PROCESSED | BOUNCE
        opened = clicked = human_open = human_click = None
        if kinds & DELIVERED and rng.random() < 0.4:
            opened, kinds = at + 600, kinds | OPEN
            if rng.random() < 0.67:
                human_open, kinds = opened, kinds | HUMAN_OPEN
            if rng.random() < 0.25:
                clicked = human_click = at + 900
                kinds |= CLICK | HUMAN_CLICK
        batch = 1 + number // 1000
        firsts = (opened, human_open, clicked, human_click)
        yield (campaign_id, subscriber, "sent", batch, when, outcome, at, *firsts, kinds)


def build_campaigns(
    engine: Any, list_id: int, list_name: str, subscribers: int, count: int, recipients: int
) -> list[int]:
    """``count`` campaigns of ``recipients`` each (the people from an offset that moves on with
    each campaign); their ids, oldest first."""
    import sqlalchemy as sa

    from mailer.db.tables import campaigns

    recipients = min(recipients, subscribers)
    sqlite = engine.dialect.name == "sqlite"
    ids = []
    with engine.begin() as connection:
        cursor = connection.connection.driver_connection.cursor()
        for number in range(count):
            moment = datetime(2025, 11, 1, 15, tzinfo=UTC) + timedelta(days=3 * number)
            newest = number == count - 1
            campaign_id = connection.execute(
                sa.insert(campaigns)
                .values(
                    issue_number=100 + number,
                    issue_file=f"{100 + number}.md",
                    list_id=list_id,
                    list_name=list_name,
                    transport="sendgrid",
                    status="paused" if newest else "sent",
                    message="the bench paused it" if newest else "",
                    subject=f"Issue {100 + number}",
                    created_at=moment,
                    started_at=moment,
                    finished_at=None if newest else moment + timedelta(hours=1),
                    updated_at=moment,
                )
                .returning(campaigns.c.id)
            ).scalar_one()
            ids.append(int(campaign_id))
            first = 1 + (number * 77_777) % (subscribers - recipients + 1)
            when = moment.strftime("%Y-%m-%d %H:%M:%S")
            rows = _ledger_rows(
                int(campaign_id), first, recipients, newest, number == count - 2, when
            )
            _put(cursor, sqlite, rows)
    return ids


def _put(cursor: Any, sqlite: bool, rows: Iterator[tuple[Any, ...]]) -> None:
    if sqlite:
        marks = ", ".join("?" for _ in LEDGER_COLUMNS.split(","))
        cursor.executemany(f"INSERT INTO deliveries ({LEDGER_COLUMNS}) VALUES ({marks})", rows)
        return
    with cursor.copy(f"COPY deliveries ({LEDGER_COLUMNS}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
