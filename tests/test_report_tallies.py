"""The report's running tallies (events by kind and hour, each recipient's kinds of delivery
event) against a recount of the stored events themselves (`campaigns report --recount`):
after duplicates, events of unknown campaigns, and clicks found automated only by a later
POST; and after migration 0014 counted the events stored before it."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from alembic import command

from mailer.db.migrate import _alembic_config, migrate
from tests.report_fixtures import ARTICLE, HOME, Cli, Sent, posted_events

OTHER = "https://example.com/other"


def _report(cli: Cli, campaign_id: int, *options: str) -> dict[str, Any]:
    result = cli("campaigns", "report", str(campaign_id), "--json", *options)
    assert result.code == 0, result.err
    report: dict[str, Any] = json.loads(result.out)
    return report


def _burst(sent: Sent) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Three links clicked by dan within a second, posted in two POSTs: the first click
    looks human until the later POST shows the burst."""
    first = sent.event("click", "dan", 80, url=HOME)
    rest = [sent.event("click", "dan", 80, url=url) for url in (ARTICLE, OTHER)]
    return [first], rest


def test_the_tallies_agree_with_a_recount_of_the_events(sent: Sent, cli: Cli) -> None:
    posted = posted_events(sent)
    sent.post(posted)
    sent.post(posted)  # SendGrid posting again: nothing counted twice
    stray = sent.event("open", "ann", 40)
    stray["mailer_campaign"] = "999999"  # a campaign mailer never had
    first, rest = _burst(sent)
    sent.post([stray, *first])
    between = _report(cli, sent.campaign)
    sent.post(rest)

    report = _report(cli, sent.campaign)

    assert report == _report(cli, sent.campaign, "--recount")
    assert report["clicks"]["total"] == between["clicks"]["total"] + 2
    # dan's first click counted as a reader's until the burst showed a scanner.
    assert between["clicks"]["unique_without_automated"] == 2
    assert report["clicks"]["unique_without_automated"] == 1
    human_clicks = between["clicks"]["total_without_automated"]
    assert report["clicks"]["total_without_automated"] == human_clicks - 1
    assert report["opens"]["total"] == between["opens"]["total"] == 5


def test_the_upgrade_counts_the_events_stored_before_it(sent: Sent, cli: Cli) -> None:
    sent.post(posted_events(sent))
    first, rest = _burst(sent)
    sent.post(first)
    sent.post(rest)
    before = _report(cli, sent.campaign)
    with sent.engine.begin() as connection:
        command.downgrade(_alembic_config(connection), "0013")
    with sent.engine.connect() as connection:
        assert "event_tallies" not in sa.inspect(connection).get_table_names()

    migrate(sent.engine)

    assert _report(cli, sent.campaign) == before
    assert _report(cli, sent.campaign, "--recount") == before
    assert before["delivered"] == 4 and before["clicks"]["total"] == 7
