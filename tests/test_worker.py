"""``mailer worker``: it finishes campaigns whose sender stopped, leaves alone those that are
paused or have a live sender, and stops cleanly on SIGTERM after the batch on the wire."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa

from mailer.audience.lists import create_list
from mailer.clock import utc_now
from mailer.db.tables import campaigns
from mailer.delivery.campaigns import pause_campaign, show_campaign
from mailer.delivery.ownership import this_process
from mailer.delivery.sending import plan_send, start_campaign
from mailer.delivery.worker import CampaignRunner
from mailer.emulator.server import EmulatorOptions, SendGridEmulator
from tests.conftest import Project
from tests.sending import API_KEY, fill_list, ledger, received, running_emulator, use_emulator


@pytest.fixture
def emulator() -> Iterator[tuple[SendGridEmulator, str]]:
    # Slow answers, so a worker is surely mid-send when it is told to stop.
    with running_emulator(EmulatorOptions(latency_seconds=0.1)) as pair:
        yield pair


def start_unattended(project: Project, engine: sa.Engine, recipients: int) -> int:
    """A campaign in state sending that no process is sending (as after a crash)."""
    create_list(engine, "weekly")
    fill_list(engine, recipients)
    settings = project.settings()
    plan = plan_send(engine, settings, project.renderer(), "87", "weekly", transport="sendgrid")
    return start_campaign(engine, plan)


def worker(project: Project, *args: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "SENDGRID_API_KEY": API_KEY}
    env.pop("MAILER_CONFIG", None)
    return subprocess.Popen(
        [sys.executable, "-m", "mailer", "--config", str(project.config), "worker", *args],
        cwd=project.root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip


def test_sigterm_stops_after_the_batch_in_flight_and_the_next_start_finishes(
    db_project: Project, project_engine: sa.Engine, emulator: tuple[SendGridEmulator, str]
) -> None:
    # Four requests out at a time: far fewer than the twenty batches, so some are left.
    use_emulator(db_project, emulator[1], batch_size=20, sendgrid="concurrency = 4\n")
    campaign_id = start_unattended(db_project, project_engine, 400)

    process = worker(db_project, "--poll", "0.2")
    deadline = time.monotonic() + 60
    while not received(emulator[1]):
        assert process.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert b"SIGTERM" in err

    statuses = Counter(ledger(project_engine, campaign_id).values())
    delivered = len(received(emulator[1]))
    # Stopped between batches: nothing in flight or in doubt, and the ledger agrees with the
    # emulator about who got it; the campaign waits, unowned, for the next worker.
    assert set(statuses) == {"sent", "pending"}, statuses
    assert statuses["sent"] == delivered < 400
    with project_engine.connect() as connection:
        row = connection.execute(
            sa.select(campaigns.c.status, campaigns.c.owner).where(campaigns.c.id == campaign_id)
        ).one()
    assert (row.status, row.owner) == ("sending", None)

    again = worker(db_project, "--once")
    _, err = again.communicate(timeout=120)
    assert again.returncode == 0, err
    assert show_campaign(project_engine, campaign_id).status == "sent"
    copies = Counter(message["to"] for message in received(emulator[1]))
    assert len(copies) == 400 and set(copies.values()) == {1}


def test_a_killed_senders_campaign_is_taken_over(
    db_project: Project, project_engine: sa.Engine, emulator: tuple[SendGridEmulator, str]
) -> None:
    use_emulator(db_project, emulator[1], batch_size=20)
    campaign_id = start_unattended(db_project, project_engine, 200)
    sender = worker(db_project)
    deadline = time.monotonic() + 60
    while not received(emulator[1]):
        assert time.monotonic() < deadline
        time.sleep(0.02)
    sender.send_signal(signal.SIGKILL)
    sender.communicate(timeout=30)

    again = worker(db_project, "--once")
    _, err = again.communicate(timeout=120)
    assert again.returncode == 0, err
    assert show_campaign(project_engine, campaign_id).status == "sent"
    statuses = ledger(project_engine, campaign_id)
    assert set(statuses.values()) <= {"sent", "in_doubt"}
    copies = Counter(message["to"] for message in received(emulator[1]))
    assert max(copies.values()) == 1, "someone was sent twice"
    assert sum(status == "sent" for status in statuses.values()) <= len(copies)


def test_paused_campaigns_and_live_senders_are_left_alone(
    db_project: Project, project_engine: sa.Engine, emulator: tuple[SendGridEmulator, str]
) -> None:
    use_emulator(db_project, emulator[1])
    settings = db_project.settings()
    runner = CampaignRunner(project_engine, settings, b"k" * 32)
    campaign_id = start_unattended(db_project, project_engine, 3)
    assert runner.unattended() == [campaign_id]

    # Another live process on this host holds it, with a fresh heartbeat.
    live = f"{this_process().rpartition(':')[0]}:{os.getppid()}"
    with project_engine.begin() as connection:
        connection.execute(sa.update(campaigns).values(owner=live, heartbeat_at=utc_now()))
    assert runner.unattended() == []
    # A process on another host whose heartbeat went stale is presumed gone.
    stale = utc_now() - timedelta(seconds=settings.delivery.stale_after_seconds + 1)
    with project_engine.begin() as connection:
        connection.execute(sa.update(campaigns).values(owner="elsewhere:1", heartbeat_at=stale))
    assert runner.unattended() == [campaign_id]

    pause_campaign(project_engine, campaign_id)
    assert runner.unattended() == []
    assert runner.run_once() == 0
    assert received(emulator[1]) == []
