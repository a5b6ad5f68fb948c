"""Several requests on the wire at once, against the emulator on loopback: at most
``concurrency`` batches in flight, pause and cancel before any further request, a rate limit or
a failure on one request while others are out, and a sender killed with several in flight."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from mailer.db.tables import batches, deliveries, subscribers
from mailer.delivery.campaigns import pause_campaign, show_campaign
from mailer.delivery.dispatcher import Dispatcher, Tally
from mailer.delivery.request_window import Hold
from mailer.delivery.sending import campaign_content, plan_send, resume_campaign, start_campaign
from mailer.delivery.transports.factory import make_transport
from mailer.emulator.server import EmulatorOptions, SendGridEmulator
from tests.conftest import CliResult, Project
from tests.sending import (
    API_KEY,
    configure,
    fill_list,
    once_each,
    received,
    running_emulator,
    summary,
    use_emulator,
)

Cli = Callable[..., CliResult]
ENV = {"SENDGRID_API_KEY": API_KEY}


@pytest.fixture
def emulator() -> Iterator[tuple[SendGridEmulator, str]]:
    # Each request takes a while, so that several are out together.
    with running_emulator(EmulatorOptions(latency_seconds=0.15)) as pair:
        yield pair


@dataclass
class Sending:
    """A project sending through the emulator, with the test's fixtures at hand."""

    project: Project
    cli: Cli
    engine: sa.Engine
    emulator: tuple[SendGridEmulator, str]
    monkeypatch: pytest.MonkeyPatch

    def setup(self, *, concurrency: int, batch_size: int, extra: str = "") -> None:
        use_emulator(
            self.project,
            self.emulator[1],
            batch_size=batch_size,
            sendgrid=f"concurrency = {concurrency}\n",
            extra=extra,
        )
        self.monkeypatch.setenv("SENDGRID_API_KEY", API_KEY)
        assert self.cli("lists", "create", "weekly").code == 0


@pytest.fixture
def sending(
    db_project: Project,
    cli: Cli,
    project_engine: sa.Engine,
    emulator: tuple[SendGridEmulator, str],
    monkeypatch: pytest.MonkeyPatch,
) -> Sending:
    return Sending(db_project, cli, project_engine, emulator, monkeypatch)


def dispatcher_for(project: Project, engine: sa.Engine, campaign_id: int) -> Dispatcher:
    settings = project.settings()
    transport = make_transport("sendgrid", settings, ENV)
    content = campaign_content(engine, settings, campaign_id)
    return Dispatcher(engine, transport, content, b"k" * 32, settings.delivery)


def start(project: Project, engine: sa.Engine) -> tuple[int, Dispatcher]:
    plan = plan_send(engine, project.settings(), project.renderer(), "87", "weekly")
    campaign_id = start_campaign(engine, plan)
    return campaign_id, dispatcher_for(project, engine, campaign_id)


def batches_by_status(engine: sa.Engine, campaign_id: int) -> Counter[str]:
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(batches.c.status).where(batches.c.campaign_id == campaign_id)
        ).scalars()
        return Counter(str(status) for status in rows)


def copies(url: str) -> Counter[str]:
    return Counter(message["to"] for message in received(url))


def test_several_requests_go_out_together_never_more_than_the_concurrency(
    sending: Sending,
) -> None:
    db_project = sending.project
    project_engine = sending.engine
    emulator = sending.emulator
    sending.setup(concurrency=4, batch_size=5)
    emails = fill_list(project_engine, 80)
    campaign_id, dispatcher = start(db_project, project_engine)
    seen: list[int] = []
    dispatcher.on_progress = lambda tally: seen.append(
        batches_by_status(project_engine, campaign_id)["in_flight"]
    )
    assert dispatcher.run() == "sent"
    assert max(seen) <= 4
    assert max(seen) >= 2, "requests went out one at a time"
    once_each(emulator[1], emails)
    assert summary(emulator[1])["accepted"] == 16
    assert show_campaign(project_engine, campaign_id).counts["sent"] == 80


def test_a_pause_stops_further_requests_and_those_out_are_recorded(sending: Sending) -> None:
    db_project = sending.project
    project_engine = sending.engine
    emulator = sending.emulator
    sending.setup(concurrency=4, batch_size=3)
    emails = fill_list(project_engine, 36)
    campaign_id, dispatcher = start(db_project, project_engine)
    paused: list[int] = []

    def pause_once(tally: Tally) -> None:
        if not paused:
            paused.append(len(received(emulator[1])))
            pause_campaign(project_engine, campaign_id)

    dispatcher.on_progress = pause_once
    assert dispatcher.run() == "paused"
    arrived = len(received(emulator[1]))
    counts = show_campaign(project_engine, campaign_id).counts
    # Only the requests already out when the pause came went: four batches of three at most.
    assert arrived <= 12
    assert counts["sent"] == arrived and counts["pending"] == 36 - arrived
    assert counts["in_flight"] == 0 and counts["in_doubt"] == 0
    assert batches_by_status(project_engine, campaign_id)["claimed"] == 0
    resume_campaign(project_engine, campaign_id)
    assert dispatcher_for(db_project, project_engine, campaign_id).run() == "sent"
    once_each(emulator[1], emails)


def test_a_rate_limit_on_requests_out_together_loses_and_doubles_no_one(sending: Sending) -> None:
    cli = sending.cli
    project_engine = sending.engine
    emulator = sending.emulator
    sending.setup(concurrency=4, batch_size=2)
    emails = fill_list(project_engine, 16)
    configure(emulator[0], rate_limit=2, latency_seconds=0.0)
    result = cli("send", "87", "--list", "weekly", "--yes", "--json")
    assert result.code == 0, result.err
    assert json.loads(result.out)["status"] == "sent"
    once_each(emulator[1], emails)
    assert summary(emulator[1])["rate_limited"] >= 1


def test_a_failing_request_pauses_and_the_others_out_are_still_recorded(sending: Sending) -> None:
    cli = sending.cli
    project_engine = sending.engine
    emulator = sending.emulator
    sending.setup(
        concurrency=4,
        batch_size=3,
        extra="retry_attempts = 2\n",
    )
    emails = fill_list(project_engine, 60)
    configure(emulator[0], fail_rate=0.5, faults=("500",), seed=5)
    result = cli("send", "87", "--list", "weekly", "--yes", "--json")
    campaign = json.loads(result.out)
    counts = campaign["counts"]
    arrived = copies(emulator[1])
    assert set(arrived.values()) <= {1}
    # What arrived is exactly what the ledger says was sent: nothing in doubt, nothing lost.
    assert counts["sent"] == len(arrived) and counts["in_doubt"] == 0
    assert counts["sent"] + counts["pending"] == 60
    if campaign["status"] == "paused":
        assert "(2 tries)" in campaign["message"]
    configure(emulator[0], fail_rate=0.0)
    while (
        json.loads(cli("campaigns", "show", str(campaign["id"]), "--json").out)["status"] != "sent"
    ):
        assert cli("campaigns", "resume", str(campaign["id"])).code in (0, 1)
    once_each(emulator[1], emails)


def test_refused_recipients_are_found_by_splitting_while_others_are_out(
    sending: Sending,
) -> None:
    cli = sending.cli
    project_engine = sending.engine
    emulator = sending.emulator
    sending.setup(concurrency=3, batch_size=8)
    emails = fill_list(project_engine, 40)
    refused = {"reader3@example.com", "reader21@example.com", "reader22@example.com"}
    configure(emulator[0], refused_addresses=frozenset(refused))
    result = cli("send", "87", "--list", "weekly", "--yes", "--json")
    assert result.code == 0, result.err
    campaign = json.loads(result.out)
    assert (campaign["counts"]["sent"], campaign["counts"]["failed"]) == (37, 3)
    once_each(emulator[1], sorted(set(emails) - refused))


def wait_for_a_full_window(engine: sa.Engine, sender: subprocess.Popen[bytes]) -> int:
    """Until the sender has four requests out and the next batch claimed; the campaign id."""
    deadline = time.monotonic() + 120
    while True:
        with engine.connect() as connection:
            found = connection.execute(sa.select(batches.c.campaign_id).limit(1)).scalar()
        if found is not None:
            statuses = batches_by_status(engine, int(found))
            if statuses["in_flight"] == 4 and statuses["claimed"] == 1:
                return int(found)
        assert time.monotonic() < deadline, "the sender never had four requests out"
        assert sender.poll() is None
        time.sleep(0.05)


def test_the_hold_of_a_rate_limit_only_grows_and_runs_out_with_the_clock() -> None:
    now = [datetime(2026, 12, 7, 9, 0, tzinfo=UTC)]
    hold = Hold(lambda: now[0])
    assert hold.remaining() == 0.0
    hold.extend(5.0)
    hold.extend(2.0)  # a shorter wait from another request does not cut the first short
    assert hold.remaining() == 5.0
    now[0] += timedelta(seconds=4)
    assert hold.remaining() == 1.0
    now[0] += timedelta(seconds=2)
    assert hold.remaining() == 0.0


def test_a_sender_killed_with_requests_out_leaves_only_those_batches_in_doubt(
    db_project: Project, project_engine: sa.Engine, emulator: tuple[SendGridEmulator, str]
) -> None:
    use_emulator(db_project, emulator[1], batch_size=20, sendgrid="concurrency = 4\n")
    env = {**os.environ, "SENDGRID_API_KEY": API_KEY}
    env.pop("MAILER_CONFIG", None)
    command = [sys.executable, "-m", "mailer", "--config", str(db_project.config)]
    subprocess.run([*command, "lists", "create", "weekly"], env=env, check=True)
    emails = fill_list(project_engine, 200)
    # Every request hangs long enough for the sender to fill its window and claim one more.
    configure(emulator[0], latency_seconds=5.0)
    sender = subprocess.Popen(
        [*command, "send", "87", "--list", "weekly", "--yes"],
        env=env,
        cwd=db_project.root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        campaign_id = wait_for_a_full_window(project_engine, sender)
    finally:
        sender.send_signal(signal.SIGKILL)
        sender.wait(timeout=60)
    assert batches_by_status(project_engine, campaign_id)["in_flight"] == 4
    configure(emulator[0], latency_seconds=0.0)
    resumed = subprocess.run(
        [*command, "campaigns", "resume", str(campaign_id), "--json"],
        env=env,
        cwd=db_project.root,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert resumed.returncode == 0, resumed.stderr
    counts = json.loads(resumed.stdout)["counts"]
    # The four batches on the wire (80 recipients) are in doubt; the claimed one and the rest
    # were sent, each once.
    assert (counts["in_doubt"], counts["sent"]) == (80, 120)
    got = copies(emulator[1])
    assert set(got.values()) == {1}
    with project_engine.connect() as connection:
        doubtful = set(
            connection.execute(
                sa.select(subscribers.c.email)
                .join(deliveries, deliveries.c.subscriber_id == subscribers.c.id)
                .where(deliveries.c.campaign_id == campaign_id, deliveries.c.status == "in_doubt")
            ).scalars()
        )
    assert len(doubtful) == 80
    assert sorted(email for email in got if email not in doubtful) == sorted(
        email for email in emails if email not in doubtful
    )


def test_ctrl_c_with_requests_out_leaves_them_in_doubt_and_pauses(
    db_project: Project, project_engine: sa.Engine, emulator: tuple[SendGridEmulator, str]
) -> None:
    use_emulator(db_project, emulator[1], batch_size=20, sendgrid="concurrency = 4\n")
    env = {**os.environ, "SENDGRID_API_KEY": API_KEY}
    env.pop("MAILER_CONFIG", None)
    command = [sys.executable, "-m", "mailer", "--config", str(db_project.config)]
    subprocess.run([*command, "lists", "create", "weekly"], env=env, check=True)
    fill_list(project_engine, 200)
    configure(emulator[0], latency_seconds=3.0)
    sender = subprocess.Popen(
        [*command, "send", "87", "--list", "weekly", "--yes"],
        env=env,
        cwd=db_project.root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    campaign_id = wait_for_a_full_window(project_engine, sender)
    sender.send_signal(signal.SIGINT)
    _, err = sender.communicate(timeout=120)
    assert sender.returncode != 0, err
    shown = show_campaign(project_engine, campaign_id)
    assert shown.status == "paused"
    assert "interrupted while sending" in (shown.message or "")
    # The four requests out may have arrived: in doubt; the batch claimed ahead went back.
    assert (shown.counts["in_doubt"], shown.counts["in_flight"]) == (80, 0)
    assert shown.counts["pending"] == 120
    assert batches_by_status(project_engine, campaign_id)["claimed"] == 0
