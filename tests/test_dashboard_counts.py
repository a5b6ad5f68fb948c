"""The dashboard's quick counts give the same figures as the reads they replace, on SQLite and
PostgreSQL: the lists (``mailer.services.list_sizes``: the members as a range of the primary
key, the statuses other than confirmed from their partial index) as ``all_lists``; a
campaign's ledger (``mailer.services.ledger_tally``: the rows counted, only those not sent or
with a note grouped) as ``find_campaign``; and the whole dashboard either way
(``reference=True``)."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa

from mailer.audience.lists import all_lists, create_list
from mailer.audience.subscribers import add_subscribers, forget_subscriber, unsubscribe
from mailer.clock import utc_now
from mailer.config import Settings
from mailer.db.engine import write_transaction
from mailer.db.tables import DELIVERY_STATUSES, campaigns, deliveries
from mailer.delivery.campaigns import find_campaign
from mailer.delivery.settle import CONFIRMED_BY_EVENTS
from mailer.services.dashboard import dashboard
from mailer.services.ledger_tally import ledger_tally
from mailer.services.list_sizes import lists_with_sizes

HOSTILE = "<script>alert(1)</script>"


def _people(engine: sa.Engine) -> None:
    create_list(engine, "weekly", title="Weekly", double_opt_in=True)
    create_list(engine, "empty", title=HOSTILE)
    create_list(engine, "news")
    weekly = [f"reader{number}@example.com" for number in range(30)]
    add_subscribers(engine, weekly[:20], "weekly", confirmed=True)
    add_subscribers(engine, weekly[20:], "weekly")  # unconfirmed
    add_subscribers(engine, weekly[:5], "news", confirmed=True)
    for email in weekly[:3]:
        unsubscribe(engine, email, "weekly")
    unsubscribe(engine, weekly[25], "weekly")
    forget_subscriber(engine, weekly[4])  # gone from both lists


def test_the_quick_counts_are_those_of_all_lists(engine: sa.Engine) -> None:
    _people(engine)
    quick = {item.name: item.counts for item in lists_with_sizes(engine)}
    assert quick == {item.name: item.counts for item in all_lists(engine)}
    assert quick["weekly"] == {"confirmed": 16, "unconfirmed": 9, "unsubscribed": 4}
    assert quick["news"] == {"confirmed": 4, "unconfirmed": 0, "unsubscribed": 0}
    assert quick["empty"] == {"confirmed": 0, "unconfirmed": 0, "unsubscribed": 0}
    assert [item.title for item in lists_with_sizes(engine)] == [HOSTILE, "news", "Weekly"]


def test_the_dashboard_reads_the_same_either_way(engine: sa.Engine) -> None:
    _people(engine)
    with write_transaction(engine) as connection:
        _campaigns(connection)
    app: Any = SimpleNamespace(engine=engine, settings=Settings(), clock=utc_now)
    quick, reference = dashboard(app), dashboard(app, reference=True)
    assert quick == reference
    assert [line.campaign.id for line in quick.recent] == [3, 2, 1]
    assert [(line.sent, line.in_doubt) for line in quick.recent] == [(0, 0), (1, 1), (2, 0)]
    assert [line.campaign.id for line in quick.attention] == [3, 2]
    assert [item.counts["confirmed"] for item in quick.lists] == [0, 4, 16]


def _campaigns(connection: sa.Connection) -> None:
    """A sent campaign, one sent with a recipient in doubt, and a paused one."""
    moment = datetime(2026, 1, 5, 9, tzinfo=UTC)
    ids = connection.execute(sa.select(sa.func.min(campaigns.c.id))).scalar()
    assert ids is None
    for number, status in enumerate(["sent", "sent", "paused"], start=1):
        connection.execute(
            sa.insert(campaigns).values(
                id=number,
                issue_number=87,
                issue_file="087.md",
                list_name="weekly",
                transport="sendgrid",
                status=status,
                created_at=moment,
                started_at=moment,
                updated_at=moment,
            )
        )
    people = [1, 2, 3]
    states = {1: ["sent", "sent", "failed"], 2: ["sent", "in_doubt", "pending"], 3: ["pending"]}
    for campaign_id, statuses in states.items():
        for subscriber_id, status in zip(people, statuses, strict=False):
            connection.execute(
                sa.insert(deliveries).values(
                    campaign_id=campaign_id,
                    subscriber_id=subscriber_id,
                    status=status,
                    updated_at=moment,
                    event_kinds=5 if status == "sent" else None,
                )
            )


def test_the_quick_ledger_tally_is_that_of_find_campaign(engine: sa.Engine) -> None:
    create_list(engine, "weekly")
    emails = [f"reader{number}@example.com" for number in range(12)]
    add_subscribers(engine, emails, "weekly", confirmed=True)
    statuses = [*DELIVERY_STATUSES, "sent", "sent", "in_doubt", "pending", "failed"]
    # Two sent rows settled by events, one with another note, one failed with its reason.
    errors = {7: CONFIRMED_BY_EVENTS, 8: CONFIRMED_BY_EVENTS, 9: "a note", 11: "550 no"}
    with write_transaction(engine) as connection:
        _campaigns(connection)
        connection.execute(sa.delete(deliveries).where(deliveries.c.campaign_id == 1))
        for number, status in enumerate(statuses):
            connection.execute(
                sa.insert(deliveries).values(
                    campaign_id=1,
                    subscriber_id=number + 1,
                    status=status,
                    error=errors.get(number),
                    updated_at=datetime(2026, 1, 5, 9, tzinfo=UTC),
                )
            )
    with engine.connect() as connection:
        for campaign_id in (1, 2, 3):
            quick = ledger_tally(connection, campaign_id)
            assert find_campaign(connection, campaign_id, quick) == find_campaign(
                connection, campaign_id
            )
        counts, confirmed = ledger_tally(connection, 1)
    assert counts["total"] == 12 and counts["sent"] == 3 and confirmed == 2
    assert counts["in_doubt"] == 2 and counts["pending"] == 2 and counts["waiting"] == 1
