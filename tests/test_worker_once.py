"""``mailer worker --once`` from cron: it fires the one-off and recurring sends that are due
(within the misfire grace) and finishes them, then exits; two runs at once send a campaign
once; a run is recorded as a worker seen, and `mailer campaigns` warns when a scheduled
campaign is past due with no worker seen lately."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from mailer.audience.lists import create_list
from mailer.clock import utc_now
from mailer.config import RecurringSchedule
from mailer.db.tables import workers
from mailer.delivery.campaigns import all_campaigns, show_campaign
from mailer.delivery.ownership import HOST
from mailer.delivery.sending import plan_send
from mailer.delivery.worker import CampaignRunner
from mailer.scheduling import recurring
from mailer.scheduling.catch_up import run_once
from mailer.scheduling.one_off import schedule_campaign
from mailer.scheduling.worker_presence import WorkerPresence
from tests.conftest import CliResult, Project
from tests.sending import API_KEY, fill_list, received, running_emulator, use_emulator

JUNE_2_AT_9 = datetime(2026, 6, 2, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def emulator_url(db_project: Project, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("SENDGRID_API_KEY", API_KEY)  # for the runs made in this process
    with running_emulator() as (_, url):
        use_emulator(db_project, url, batch_size=50)
        yield url


@pytest.fixture
def weekly(db_project: Project, project_engine: sa.Engine) -> list[str]:
    create_list(project_engine, "weekly")
    return fill_list(project_engine, 30)


def schedule(project: Project, engine: sa.Engine, at: datetime) -> int:
    plan = plan_send(engine, project.settings(), project.renderer(), "87", "weekly")
    return schedule_campaign(engine, plan, at, "UTC")


def once(project: Project) -> subprocess.Popen[bytes]:
    env = {**os.environ, "SENDGRID_API_KEY": API_KEY}
    env.pop("MAILER_CONFIG", None)
    command = [sys.executable, "-m", "mailer", "--config", str(project.config), "worker", "--once"]
    return subprocess.Popen(
        command, cwd=project.root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


def copies(url: str) -> Counter[str]:
    return Counter(message["to"] for message in received(url))


def once_rows(engine: sa.Engine) -> list[str]:
    with engine.connect() as connection:
        return list(connection.execute(sa.select(workers.c.name)).scalars())


def test_a_campaign_whose_time_has_passed_is_sent_and_a_future_one_is_not(
    db_project: Project, project_engine: sa.Engine, emulator_url: str, weekly: list[str]
) -> None:
    due = schedule(db_project, project_engine, utc_now() - timedelta(minutes=1))
    later = schedule(db_project, project_engine, utc_now() + timedelta(hours=1))

    process = once(db_project)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    assert show_campaign(project_engine, due).status == "sent"
    assert copies(emulator_url) == Counter(weekly)
    assert show_campaign(project_engine, later).status == "scheduled"
    # The run is recorded as a worker seen, and its row stays after it exits.
    assert once_rows(project_engine) == [f"{HOST}:once"]


def test_two_runs_at_once_send_a_due_campaign_once(
    db_project: Project, project_engine: sa.Engine, emulator_url: str, weekly: list[str]
) -> None:
    due = schedule(db_project, project_engine, utc_now() - timedelta(seconds=5))
    runs = [once(db_project), once(db_project)]
    for process in runs:
        _, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
    assert show_campaign(project_engine, due).status == "sent"
    assert copies(emulator_url) == Counter(weekly)  # each reader exactly once
    assert once_rows(project_engine) == [f"{HOST}:once"]  # both runs share the host's row


def _runner(project: Project, engine: sa.Engine, clock: Clock) -> CampaignRunner:
    return CampaignRunner(engine, project.settings(), b"k" * 32, clock=clock)


def test_a_recurring_tick_due_now_fires_once_and_the_next_run_does_not_fire_it_again(
    db_project: Project, project_engine: sa.Engine, emulator_url: str, weekly: list[str]
) -> None:
    entry = RecurringSchedule(name="daily", cron="0 9 * * *", timezone="UTC", list="weekly")
    added = JUNE_2_AT_9 - timedelta(days=1)
    recurring.add_schedule(project_engine, entry, "UTC", "cli", clock=lambda: added)
    clock = Clock(JUNE_2_AT_9 + timedelta(seconds=30))
    renderer = db_project.renderer()

    fired = run_once(_runner(db_project, project_engine, clock), renderer)
    assert [(item.what, item.outcome) for item in fired] == [("schedule daily", "ticked")]
    [campaign] = all_campaigns(project_engine)
    assert (campaign.status, campaign.scheduled_at) == ("sent", JUNE_2_AT_9)
    assert copies(emulator_url) == Counter(weekly)

    clock.now = JUNE_2_AT_9 + timedelta(minutes=1, seconds=30)  # cron's next minute
    assert run_once(_runner(db_project, project_engine, clock), renderer) == []
    assert len(all_campaigns(project_engine)) == 1
    assert copies(emulator_url) == Counter(weekly)


def test_what_is_found_later_than_the_misfire_grace_is_marked_missed_and_not_sent(
    db_project: Project, project_engine: sa.Engine, emulator_url: str, weekly: list[str]
) -> None:
    entry = RecurringSchedule(name="daily", cron="0 9 * * *", timezone="UTC", list="weekly")
    added = JUNE_2_AT_9 - timedelta(hours=1)
    recurring.add_schedule(project_engine, entry, "UTC", "cli", clock=lambda: added)
    one_off = schedule(db_project, project_engine, JUNE_2_AT_9)
    # The default grace is one hour: two hours late is too late for both.
    clock = Clock(JUNE_2_AT_9 + timedelta(hours=2))

    fired = run_once(_runner(db_project, project_engine, clock), db_project.renderer())
    assert [(item.what, item.outcome) for item in fired] == [
        (f"campaign {one_off}", "missed"),
        ("schedule daily", "missed"),
    ]
    missed = show_campaign(project_engine, one_off)
    assert missed.status == "missed" and "misfire grace" in missed.message
    with project_engine.connect() as connection:
        found = recurring.find_schedule(connection, "daily")
    assert found is not None and "missed" in found.last_result
    assert received(emulator_url) == []


Cli = Callable[..., CliResult]


def test_campaigns_warns_of_a_past_due_campaign_while_no_worker_was_seen_lately(
    db_project: Project, project_engine: sa.Engine, weekly: list[str], cli: Cli
) -> None:
    past = schedule(db_project, project_engine, utc_now() - timedelta(minutes=10))
    future = schedule(db_project, project_engine, utc_now() + timedelta(hours=1))

    listed = cli("campaigns")
    assert listed.code == 0, listed.err
    assert f"campaign {past} (#87 to weekly) was due at" in listed.err
    assert "no worker is running" in listed.err
    assert "`mailer worker --once` every minute from cron" in listed.err
    assert f"campaign {future} " not in listed.err
    as_json = cli("campaigns", "--json")
    warnings = {campaign["id"]: campaign["warning"] for campaign in json.loads(as_json.out)}
    assert warnings[future] is None and "no worker is running" in warnings[past]
    assert "no worker is running" in as_json.err

    # A worker seen an hour ago is not lately: the warning says since when.
    hour_ago = utc_now() - timedelta(hours=1)
    WorkerPresence(project_engine, "cron-host:once", clock=lambda: hour_ago).visit()
    assert "no worker has been seen since" in cli("campaigns").err

    # A --once run a moment ago: a worker is coming, nothing to warn of.
    WorkerPresence(project_engine, "cron-host:once").visit()
    quiet = cli("campaigns", "--json")
    assert quiet.err == ""
    assert {campaign["warning"] for campaign in json.loads(quiet.out)} == {None}
