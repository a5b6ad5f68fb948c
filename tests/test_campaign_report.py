"""`mailer campaigns report`: a campaign sent through the outbox by the real command line, the
events SendGrid would post about it signed and POSTed to a real `mailer serve`, and every
number of the report checked against what was posted."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from mailer.db.migrate import open_database
from mailer.db.tables import campaigns, consent_events, subscribers
from tests.conftest import CliResult, Project
from tests.events_helpers import KEY_VARIABLE, event, unique
from tests.web_server import SIGNING_KEY, WebServer, running_server
from tests.webhook_signing import Signer, post_signed

Cli = Callable[..., CliResult]
READERS = ("ann", "bob", "cat", "dan", "eve")
HOUR = 1764946800  # 2025-12-05T15:00:00Z
HOME = "https://example.com/home"
ARTICLE = "https://example.com/article"


@dataclass
class Sent:
    engine: sa.Engine
    server: WebServer
    signer: Signer
    campaign: int
    ids: dict[str, int]
    """Subscriber id by reader name."""

    def post(self, events: list[dict[str, Any]]) -> None:
        answer = post_signed(self.server.base_url, self.signer, events)
        assert answer.status_code == 200, answer.text

    def event(self, kind: str, reader: str, minute: int, **fields: Any) -> dict[str, Any]:
        """``kind`` for ``reader``, ``minute`` minutes after 15:00 UTC, tied to the campaign."""
        return event(
            kind,
            unique(kind),
            email=f"{reader}@example.com",
            timestamp=HOUR + minute * 60,
            mailer_campaign=str(self.campaign),
            mailer_subscriber=str(self.ids[reader]),
            **fields,
        )


def _send(cli: Cli) -> int:
    assert cli("lists", "create", "weekly").code == 0
    for reader in READERS:
        added = cli("subscribers", "add", f"{reader}@example.com", "-l", "weekly", "--confirmed")
        assert added.code == 0, added.err
    result = cli("send", "87", "--list", "weekly", "--transport", "outbox", "--yes", "--json")
    assert result.code == 0, result.err
    campaign_id: int = json.loads(result.out)["id"]
    return campaign_id


@pytest.fixture
def sent(db_project: Project, cli: Cli, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sent]:
    monkeypatch.setenv("MAILER_SECRET_KEY", SIGNING_KEY)
    campaign_id = _send(cli)
    signer = Signer()
    engine = open_database(db_project.settings().database.url)
    with engine.connect() as connection:
        ids = {
            row.email.split("@")[0]: int(row.id)
            for row in connection.execute(sa.select(subscribers.c.id, subscribers.c.email))
        }
    try:
        with running_server(db_project, {KEY_VARIABLE: signer.public_key}) as server:
            yield Sent(engine, server, signer, campaign_id, ids)
    finally:
        engine.dispose()


def _report(cli: Cli, campaign_id: int) -> dict[str, Any]:
    result = cli("campaigns", "report", str(campaign_id), "--json")
    assert result.code == 0, result.err
    report: dict[str, Any] = json.loads(result.out)
    return report


def _posted(sent: Sent) -> list[dict[str, Any]]:
    """Five readers: four delivered (ann twice deferred first), eve bounced for good; dan
    blocked once then delivered; opens (ann's one by a machine only, bob's both), clicks
    (cat's automated), a spam report and SendGrid unsubscribes."""
    e = sent.event
    return [
        *(e("processed", reader, 0) for reader in READERS),
        e("deferred", "ann", 1, response="421 try later"),
        e("deferred", "ann", 5, response="421 try later"),
        e("delivered", "ann", 30, response="250 OK"),
        e("delivered", "bob", 2, response="250 OK"),
        e("delivered", "cat", 2, response="250 OK"),
        e(
            "bounce",
            "dan",
            3,
            type="blocked",
            reason="421 blocked",
            bounce_classification="Reputation",
        ),
        e("delivered", "dan", 70, response="250 OK"),
        e(
            "bounce",
            "eve",
            3,
            type="bounce",
            reason="550 no user",
            bounce_classification="Invalid Address",
        ),
        e("dropped", "eve", 200, reason="Bounced Address"),
        e("open", "ann", 31, sg_machine_open=True),
        e("open", "ann", 90, sg_machine_open=True),
        e("open", "bob", 10, sg_machine_open=True),
        e("open", "bob", 65, sg_machine_open=False),
        e("open", "cat", 62, sg_machine_open=False),
        e("click", "bob", 66, url=HOME),
        e("click", "bob", 67, url=HOME),
        e("click", "bob", 68, url=ARTICLE),
        e("click", "cat", 63, url=ARTICLE),
        e("spamreport", "cat", 120),
        e("unsubscribe", "bob", 121),
        e("group_unsubscribe", "ann", 122, asm_group_id=7),
    ]


def _mark_automated(sent: Sent, reader: str) -> None:
    """Mark ``reader``'s clicks automated, as the click rules do for a link scanner's."""
    from mailer.db.tables import events

    with sent.engine.begin() as connection:
        connection.execute(
            sa.update(events)
            .where(events.c.subscriber_id == sent.ids[reader], events.c.kind == "click")
            .values(machine=True)
        )


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
    sent.post(_posted(sent))
    sent.post(_posted(sent)[:3])  # other events of the same kinds: new ids, counted again
    _mark_automated(sent, "cat")
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
    sent.post(_posted(sent))
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
    sent.post(_posted(sent))
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
