"""kill -9 at random points of a send, resume, repeat: the emulator's record shows nobody twice
and nobody lost, except recipients of batches the ledger reports in_doubt."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from mailer.db.migrate import open_database
from mailer.db.tables import deliveries, subscribers
from mailer.emulator.server import EmulatorOptions, SendGridEmulator
from tests.conftest import Project
from tests.sending import API_KEY, fill_list, ledger, received, running_emulator, use_emulator

RECIPIENTS = 3000
KILLS = 5


@pytest.fixture
def emulator() -> Iterator[tuple[SendGridEmulator, str]]:
    # Latency per request, so that kills also land while a request is in flight, and so that
    # with two requests out at a time the send lasts long enough (about 1.5 s) for a kill to
    # land mid-send however fast the machine is.
    with running_emulator(EmulatorOptions(latency_seconds=0.05)) as pair:
        yield pair


def mailer(project: Project, *args: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "SENDGRID_API_KEY": API_KEY}
    env.pop("MAILER_CONFIG", None)
    return subprocess.Popen(
        [sys.executable, "-m", "mailer", "--config", str(project.config), *args],
        cwd=project.root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip


def campaign_ids(project: Project) -> list[int]:
    listing = mailer(project, "campaigns", "--json")
    out, err = listing.communicate(timeout=60)
    assert listing.returncode == 0, err
    return [campaign["id"] for campaign in json.loads(out)]


def status_of(project: Project, campaign_id: int) -> str:
    shown = mailer(project, "campaigns", "show", str(campaign_id), "--json")
    out, err = shown.communicate(timeout=60)
    assert shown.returncode == 0, err
    return str(json.loads(out)["status"])


def sent_so_far(engine: sa.Engine) -> int:
    with engine.connect() as connection:
        count = connection.execute(
            sa.select(sa.func.count()).where(deliveries.c.status == "sent")
        ).scalar_one()
    return int(count)


@pytest.mark.parametrize("seed", [1, 2])
def test_killed_sends_resume_without_duplicates_or_losses(
    db_project: Project, emulator: tuple[SendGridEmulator, str], seed: int
) -> None:
    use_emulator(db_project, emulator[1], batch_size=50, sendgrid="concurrency = 2\n")
    engine = open_database(db_project.settings().database.url)
    try:
        created = mailer(db_project, "lists", "create", "weekly")
        assert created.communicate(timeout=60) and created.returncode == 0
        fill_list(engine, RECIPIENTS)
        dice = random.Random(seed)
        kills = interrupted = 0
        while True:
            ids = campaign_ids(db_project)
            if ids and status_of(db_project, ids[0]) == "sent":
                break
            args = ("campaigns", "resume", str(ids[0])) if ids else (
                "send", "87", "--list", "weekly", "--yes",
            )  # fmt: skip
            before = sent_so_far(engine)
            process = mailer(db_project, *args)
            if kills < KILLS:
                if kills == 0:  # anywhere: start-up, the snapshot, or the first batches
                    time.sleep(dice.uniform(0.2, 2.0))
                else:  # once this run has made progress, at a random point after that
                    deadline = time.monotonic() + 60
                    while sent_so_far(engine) == before and process.poll() is None:
                        assert time.monotonic() < deadline
                        time.sleep(0.01)
                    time.sleep(dice.uniform(0.0, 0.3))
                process.send_signal(signal.SIGKILL)
                process.communicate(timeout=60)
                kills += 1
                ids = campaign_ids(db_project)
                interrupted += bool(ids) and status_of(db_project, ids[0]) != "sent"
                continue
            out, err = process.communicate(timeout=300)
            assert process.returncode == 0, (out, err)
        assert interrupted, "no kill landed while the campaign was sending"
        campaign_id = campaign_ids(db_project)[0]
        statuses = ledger(engine, campaign_id)
        with engine.connect() as connection:
            rows = connection.execute(sa.select(subscribers.c.email, subscribers.c.id))
            ids_by_email = {email: subscriber_id for email, subscriber_id in rows}
    finally:
        engine.dispose()
    copies = Counter(message["to"] for message in received(emulator[1]))
    assert len(statuses) == RECIPIENTS
    assert set(statuses.values()) <= {"sent", "in_doubt"}, Counter(statuses.values())
    assert max(copies.values()) == 1, "someone was sent twice"
    for email, subscriber_id in ids_by_email.items():
        if statuses[subscriber_id] == "sent":
            assert copies[email] == 1, f"{email} is marked sent but never arrived"
        else:  # in doubt: its request may or may not have arrived, but it was not resent
            assert copies[email] <= 1
    lost = [email for email, sid in ids_by_email.items() if not copies[email]]
    assert all(statuses[ids_by_email[email]] == "in_doubt" for email in lost)
