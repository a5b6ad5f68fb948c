"""`mailer campaigns report`: a campaign sent through the outbox by the real command line, the
events SendGrid would post about it signed and POSTed to a real `mailer serve`, and every
number of the report checked against what was posted."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from mailer.db.tables import campaigns, consent_events
from tests.conftest import Project
from tests.report_fixtures import ARTICLE, HOME, Cli, Sent, posted_events


def _report(cli: Cli, campaign_id: int) -> dict[str, Any]:
    result = cli("campaigns", "report", str(campaign_id), "--json")
    assert result.code == 0, result.err
    report: dict[str, Any] = json.loads(result.out)
    return report


def _unsubscribed(sent: Sent, reader: str, source: str, when: datetime) -> None:
    with sent.engine.begin() as connection:
        connection.execute(
            sa.insert(consent_events).values(
                subscriber_id=sent.ids[reader],
                list_name="weekly",
                action="unsubscribe",
                source=source,
                created_at=when,
            )
        )


def test_the_report_counts_what_the_events_said(sent: Sent, cli: Cli) -> None:
    sent.post(posted_events(sent))
    sent.post(posted_events(sent)[:3])  # other events of the same kinds: new ids, counted again
    with sent.engine.connect() as connection:
        started = connection.execute(
            sa.select(campaigns.c.started_at).where(campaigns.c.id == sent.campaign)
        ).scalar_one()
    _unsubscribed(sent, "dan", "one-click", started)
    _unsubscribed(sent, "eve", "unsubscribe page", started)
    _unsubscribed(sent, "ann", "one-click", datetime(2020, 1, 1, tzinfo=UTC))  # before it

    report = _report(cli, sent.campaign)

    assert report["campaign"]["id"] == sent.campaign
    assert report["campaign"]["list"] == "weekly"
    assert report["sent"] == 5
    assert report["ledger"]["sent"] == 5
    assert report["processed"] == 5
    assert report["delivered"] == 4
    assert report["deferred"] == {"recipients": 1, "events": 2}
    assert report["bounced"] == {
        "permanent": 1,
        "temporary": 1,
        "by_classification": [
            {"type": "blocked", "classification": "Reputation", "recipients": 1, "events": 1},
            {"type": "bounce", "classification": "Invalid Address", "recipients": 1, "events": 1},
        ],
    }
    assert report["dropped"] == {
        "recipients": 1,
        "by_reason": [{"reason": "Bounced Address", "recipients": 1, "events": 1}],
    }
    assert report["spam_reports"] == 1
    unsubscribes = report["unsubscribes"]
    assert (unsubscribes["one_click"], unsubscribes["page"], unsubscribes["sendgrid"]) == (1, 1, 2)
    assert unsubscribes["counted_until"] is None  # no later campaign to the list
    assert report["opens"] == {
        "unique": 3,
        "unique_without_machine": 2,  # ann's opens were all Apple's
        "total": 5,
        "total_without_machine": 2,
    }
    assert report["clicks"] == {
        "unique": 2,
        "unique_without_automated": 1,  # cat's click was a scanner's
        "total": 4,
        "total_without_automated": 3,
    }
    assert report["click_through_rate"] == 0.5
    assert report["click_through_rate_without_automated"] == 0.25
    assert report["links"] == [
        {
            "url": ARTICLE,
            "unique": 2,
            "total": 2,
            "unique_without_automated": 1,
            "total_without_automated": 1,
        },
        {
            "url": HOME,
            "unique": 1,
            "total": 2,
            "unique_without_automated": 1,
            "total_without_automated": 2,
        },
    ]
    assert report["timeline"] == [
        {
            "hour": "2025-12-05T15:00:00Z",
            "events": {
                "bounce": 2,
                "deferred": 2,
                "delivered": 3,
                "open": 2,
                "processed": 8,
            },
        },
        {
            "hour": "2025-12-05T16:00:00Z",
            "events": {"click": 4, "delivered": 1, "open": 3},
        },
        {
            "hour": "2025-12-05T17:00:00Z",
            "events": {"group_unsubscribe": 1, "spamreport": 1, "unsubscribe": 1},
        },
        {"hour": "2025-12-05T18:00:00Z", "events": {"dropped": 1}},
    ]


def test_the_readable_report_names_each_number(sent: Sent, cli: Cli) -> None:
    sent.post(posted_events(sent))
    result = cli("campaigns", "report", str(sent.campaign))
    assert result.code == 0, result.err
    lines = {
        line.split("\u2502")[1].strip(): line
        for line in result.out.splitlines()
        if line.count("\u2502") > 3
    }
    assert "4" in lines["delivered"]
    assert HOME in result.out and ARTICLE in result.out
    assert "2025-12-05T15:00:00Z" in result.out
    assert "Invalid Address" in result.out and "Bounced Address" in result.out


def test_a_campaign_without_events_reports_none(sent: Sent, cli: Cli) -> None:
    report = _report(cli, sent.campaign)
    assert (report["sent"], report["delivered"], report["timeline"]) == (5, 0, [])
    assert report["click_through_rate"] is None
    result = cli("campaigns", "report", str(sent.campaign))
    assert "No events from SendGrid for this campaign yet." in result.out


def test_an_unknown_campaign_is_one_line_of_error(db_project: Project, cli: Cli) -> None:
    result = cli("campaigns", "report", "999", "--json")
    assert result.code != 0
    assert result.out == ""
    assert result.err.strip().splitlines() == [
        "error: no campaign 999; `mailer campaigns` lists them"
    ]


def test_subscribers_show_gives_their_deliveries_and_events_only(sent: Sent, cli: Cli) -> None:
    sent.post(posted_events(sent))
    result = cli("subscribers", "show", "bob@example.com", "--json")
    assert result.code == 0, result.err
    shown = json.loads(result.out)
    assert shown["email"] == "bob@example.com"  # the keys it had are still there
    assert "lists" in shown and "suppression" in shown
    assert [(d["campaign"], d["issue"], d["status"]) for d in shown["deliveries"]] == [
        (sent.campaign, 87, "sent")
    ]
    kinds = [(e["kind"], e["at"], e["campaign"], e["url"]) for e in shown["events"]]
    assert kinds == [
        ("unsubscribe", "2025-12-05T17:01:00Z", sent.campaign, None),
        ("click", "2025-12-05T16:08:00Z", sent.campaign, ARTICLE),
        ("click", "2025-12-05T16:07:00Z", sent.campaign, HOME),
        ("click", "2025-12-05T16:06:00Z", sent.campaign, HOME),
        ("open", "2025-12-05T16:05:00Z", sent.campaign, None),
        ("open", "2025-12-05T15:10:00Z", sent.campaign, None),
        ("delivered", "2025-12-05T15:02:00Z", sent.campaign, None),
        ("processed", "2025-12-05T15:00:00Z", sent.campaign, None),
    ]
    readable = cli("subscribers", "show", "bob@example.com")
    assert f"campaign {sent.campaign} (#87): sent" in readable.out
    assert f"2025-12-05T16:08:00Z click campaign {sent.campaign} {ARTICLE}" in readable.out
    for other in ("ann", "cat", "dan", "eve"):
        assert f"{other}@example.com" not in result.out + readable.out
