"""In-doubt batches settled by SendGrid's events, posted signed to a real `mailer serve`: the
recipients with an event become sent and `campaigns show` counts them; the others are resent
once, and only after the quiet period (by an editor, or by the worker when it is set to);
and `campaigns recipients` says who failed and why."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from mailer.app import Mailer
from mailer.clock import utc_now
from mailer.db.tables import subscribers
from mailer.delivery.ledger_listing import recipient_rows
from mailer.delivery.worker import CampaignRunner
from mailer.emulator.server import SendGridEmulator
from mailer.services import campaigns
from tests.conftest import CliResult, Project
from tests.events_helpers import KEY_VARIABLE, event, unique
from tests.sending import (
    API_KEY,
    configure,
    fill_list,
    ledger,
    received,
    running_emulator,
    use_emulator,
)
from tests.service_helpers import MovingClock
from tests.web_server import WebServer, running_server
from tests.webhook_signing import Signer, post_signed

Cli = Callable[..., CliResult]


@dataclass
class InDoubt:
    """A campaign of six whose three requests' answers were all lost, and a `mailer serve`
    on its database taking SendGrid's signed events."""

    campaign_id: int
    emails: list[str]
    ids: dict[str, int]
    emulator: SendGridEmulator
    emulator_url: str
    server: WebServer
    signer: Signer

    def post_events(self, emails: list[str], kind: str = "delivered") -> None:
        posted = [
            event(
                kind,
                unique("ev"),
                email=email,
                sg_message_id=f"{unique('lost')}.filter0001.16648.5515E0B88.0",
                mailer_campaign=str(self.campaign_id),
                mailer_subscriber=str(self.ids[email]),
            )
            for email in emails
        ]
        answer = post_signed(self.server.base_url, self.signer, posted)
        assert answer.status_code == 200, answer.text


@pytest.fixture
def in_doubt(
    db_project: Project, cli: Cli, project_engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> Iterator[InDoubt]:
    with running_emulator() as (emulator, url):
        use_emulator(db_project, url, batch_size=2, sendgrid="timeout = 0.5\n")
        monkeypatch.setenv("SENDGRID_API_KEY", API_KEY)
        assert cli("lists", "create", "weekly").code == 0
        emails = fill_list(project_engine, 6)
        configure(emulator, fail_rate=1.0, faults=("drop",))
        sent = cli("send", "87", "--list", "weekly", "--yes", "--json")
        assert sent.code == 0, sent.err
        campaign = json.loads(sent.out)
        assert campaign["counts"]["in_doubt"] == 6
        configure(emulator, fail_rate=0.0)
        with project_engine.connect() as connection:
            ids = dict(connection.execute(sa.select(subscribers.c.email, subscribers.c.id)).all())
        signer = Signer()
        with running_server(db_project, {KEY_VARIABLE: signer.public_key}) as server:
            yield InDoubt(campaign["id"], emails, ids, emulator, url, server, signer)


def show(cli: Cli, campaign_id: int) -> dict[str, Any]:
    shown = cli("campaigns", "show", str(campaign_id), "--json")
    assert shown.code == 0, shown.err
    found: dict[str, Any] = json.loads(shown.out)
    return found


def by_email(case: InDoubt, engine: sa.Engine) -> dict[str, str]:
    statuses = ledger(engine, case.campaign_id)
    return {email: statuses[case.ids[email]] for email in case.emails}


def test_events_settle_in_doubt_recipients_and_the_rest_are_resent_once_after_the_quiet_period(
    in_doubt: InDoubt, cli: Cli, db_project: Project, project_engine: sa.Engine
) -> None:
    confirmed, unconfirmed = in_doubt.emails[:3], in_doubt.emails[3:]
    in_doubt.post_events(confirmed[:2], "delivered")
    in_doubt.post_events(confirmed[2:], "processed")
    in_doubt.post_events(confirmed[:1], "open")  # a second event for one of them: no change
    statuses = by_email(in_doubt, project_engine)
    assert [statuses[email] for email in confirmed] == ["sent"] * 3
    assert [statuses[email] for email in unconfirmed] == ["in_doubt"] * 3
    campaign = show(cli, in_doubt.campaign_id)
    assert campaign["in_doubt_confirmed_by_events"] == 3
    assert campaign["counts"]["in_doubt"] == 3 and campaign["counts"]["sent"] == 3
    text = cli("campaigns", "show", str(in_doubt.campaign_id)).out
    assert "confirmed: 3 in-doubt recipients, by SendGrid's events" in text

    early = cli("campaigns", "resolve", str(in_doubt.campaign_id), "--resend-unconfirmed")
    assert early.code == 1
    assert "3 in-doubt recipients are not confirmed by SendGrid's events yet" in early.err
    assert "can be resent from 20" in early.err and "10 minutes after" in early.err
    assert received(in_doubt.emulator_url) == []

    clock = MovingClock(utc_now() + timedelta(minutes=5))
    mailer = Mailer(db_project.settings(), clock=clock)
    try:
        with pytest.raises(campaigns.NotQuietYet):
            campaigns.resolve(mailer, in_doubt.campaign_id, resend=True, unconfirmed=True)
        clock.advance(minutes=6)
        resolved = campaigns.resolve(mailer, in_doubt.campaign_id, resend=True, unconfirmed=True)
        assert (resolved.count, resolved.campaign.status) == (3, "sending")
        runner = CampaignRunner(mailer.engine, mailer.settings, mailer.signing_key, clock=clock)
        assert runner.run_once() == 1
    finally:
        mailer.close()
    copies = Counter(message["to"] for message in received(in_doubt.emulator_url))
    assert copies == dict.fromkeys(unconfirmed, 1)  # nobody twice, nobody lost
    assert set(by_email(in_doubt, project_engine).values()) == {"sent"}

    again = cli("campaigns", "resolve", str(in_doubt.campaign_id), "--resend-unconfirmed")
    assert again.code == 1 and "has no in_doubt recipients" in again.err
    assert len(received(in_doubt.emulator_url)) == 3
    assert show(cli, in_doubt.campaign_id)["in_doubt_confirmed_by_events"] == 3


def test_events_that_came_before_the_batch_was_in_doubt_settle_it_when_resolving(
    in_doubt: InDoubt, cli: Cli, project_engine: sa.Engine
) -> None:
    # Stored while the rows were not in doubt (here: put back in flight), so not settled then.
    with project_engine.begin() as connection:
        connection.execute(sa.text("UPDATE deliveries SET status = 'in_flight'"))
    in_doubt.post_events(in_doubt.emails)
    with project_engine.begin() as connection:
        connection.execute(sa.text("UPDATE deliveries SET status = 'in_doubt'"))
    resolved = cli("campaigns", "resolve", str(in_doubt.campaign_id), "--resend-unconfirmed")
    assert resolved.code == 0, resolved.err
    assert "6 in-doubt recipients confirmed by SendGrid's events" in resolved.out
    assert "nothing to resend" in resolved.out
    assert set(by_email(in_doubt, project_engine).values()) == {"sent"}
    assert received(in_doubt.emulator_url) == []


@pytest.mark.parametrize("setting", [False, True])
def test_the_worker_resends_the_unconfirmed_only_when_set_to_and_after_the_quiet_period(
    in_doubt: InDoubt, db_project: Project, project_engine: sa.Engine, setting: bool
) -> None:
    in_doubt.post_events(in_doubt.emails[:4])
    settings = db_project.settings()
    delivery = settings.delivery.model_copy(update={"resend_unconfirmed_in_doubt": setting})
    settings = settings.model_copy(update={"delivery": delivery})
    clock = MovingClock(utc_now() + timedelta(minutes=9))
    mailer = Mailer(settings, clock=clock)
    try:
        runner = CampaignRunner(mailer.engine, settings, mailer.signing_key, clock=clock)
        runner.run_once()
        assert received(in_doubt.emulator_url) == []  # still within the quiet period
        clock.advance(minutes=2)
        runner.run_once()
        runner.run_once()  # a second look changes nothing
    finally:
        mailer.close()
    copies = Counter(message["to"] for message in received(in_doubt.emulator_url))
    statuses = Counter(by_email(in_doubt, project_engine).values())
    if setting:
        assert copies == dict.fromkeys(in_doubt.emails[4:], 1)
        assert statuses == {"sent": 6}
    else:
        assert copies == {}
        assert statuses == {"sent": 4, "in_doubt": 2}


def test_recipients_says_who_failed_and_why(
    db_project: Project, cli: Cli, project_engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    with running_emulator() as (emulator, url):
        use_emulator(db_project, url)
        monkeypatch.setenv("SENDGRID_API_KEY", API_KEY)
        assert cli("lists", "create", "weekly").code == 0
        fill_list(project_engine, 5)
        configure(emulator, refused_addresses=frozenset({"reader3@example.com"}))
        sent = cli("send", "87", "--list", "weekly", "--yes", "--json")
        assert sent.code == 0, sent.err
    campaign_id = str(json.loads(sent.out)["id"])

    failed = cli("campaigns", "recipients", campaign_id, "--status", "failed")
    assert failed.code == 0, failed.err
    header, *lines = failed.out.splitlines()
    assert header.split("\t") == ["email", "name", "status", "batch", "updated (UTC)", "reason"]
    assert len(lines) == 1
    email, name, status, batch, updated, reason = lines[0].split("\t")
    assert (email, name, status) == ("reader3@example.com", "Reader 3", "failed")
    assert batch.isdigit() and updated.endswith("Z") and "this address is refused" in reason

    everyone = cli("campaigns", "recipients", campaign_id, "--json")
    assert everyone.code == 0, everyone.err
    rows = json.loads(everyone.out)
    assert [row["email"] for row in rows] == [f"reader{n}@example.com" for n in range(5)]
    assert Counter(row["status"] for row in rows) == {"sent": 4, "failed": 1}
    skipped = cli("campaigns", "recipients", campaign_id, "--status", "skipped", "--json")
    assert json.loads(skipped.out) == []


def test_recipients_are_read_a_page_at_a_time_in_order(
    db_project: Project, cli: Cli, project_engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    with running_emulator() as (_, url):
        use_emulator(db_project, url)
        monkeypatch.setenv("SENDGRID_API_KEY", API_KEY)
        assert cli("lists", "create", "weekly").code == 0
        emails = fill_list(project_engine, 7)
        sent = cli("send", "87", "--list", "weekly", "--yes", "--json")
        assert sent.code == 0, sent.err
    rows = list(recipient_rows(project_engine, json.loads(sent.out)["id"], page=2))
    assert [row.email for row in rows] == emails


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("999999",), "no campaign 999999"),
        (("1", "--status", "nonsense"), "--status 'nonsense': must be one of"),
        (("1", "--status", ""), "--status '': must be one of"),
    ],
)
def test_recipients_refuses_what_is_not_there_in_one_line(
    db_project: Project, cli: Cli, args: tuple[str, ...], said: str
) -> None:
    result = cli("campaigns", "recipients", *args)
    assert result.code == 1
    assert said in result.err and len(result.err.strip().splitlines()) == 1, result.err
