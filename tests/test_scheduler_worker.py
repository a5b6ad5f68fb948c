"""The worker's scheduler, with real worker processes and real short waits: it fires on time,
a schedule survives a restart, two workers send a campaign once, misfires are decided by the
grace, and the job store is reconciled with the campaigns table."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.date import DateTrigger

from mailer.audience.lists import create_list
from mailer.clock import utc_now
from mailer.db.tables import scheduler_jobs
from mailer.delivery.campaigns import cancel_campaign, show_campaign
from mailer.delivery.sending import plan_send
from mailer.emulator.server import SendGridEmulator
from mailer.scheduling.one_off import schedule_campaign
from mailer.scheduling.scheduler import Duties, SharedJobStore, Timekeeper, fire_campaign
from tests.conftest import Project
from tests.sending import API_KEY, fill_list, received, running_emulator, use_emulator


@pytest.fixture
def emulator(db_project: Project) -> Iterator[tuple[SendGridEmulator, str]]:
    with running_emulator() as pair:
        use_emulator(db_project, pair[1], batch_size=50)
        yield pair


@pytest.fixture
def weekly(db_project: Project, project_engine: sa.Engine) -> list[str]:
    create_list(project_engine, "weekly")
    return fill_list(project_engine, 120)


class Worker:
    """``mailer worker`` in a process of its own, its log collected as it comes."""

    def __init__(self, project: Project) -> None:
        env = {**os.environ, "SENDGRID_API_KEY": API_KEY}
        env.pop("MAILER_CONFIG", None)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "mailer", "--config", str(project.config), "worker",
             "--poll", "0.5"],
            cwd=project.root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        self.log: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        wait_for(lambda: any("worker" in line and "started" in line for line in self.log), 60,
                 lambda: "".join(self.log))  # fmt: skip

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.log.append(line)

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=60)
        self._reader.join(timeout=10)
        assert self.process.stderr is not None
        self.process.stderr.close()
        assert code == 0, "".join(self.log)


def wait_for(
    condition: Callable[[], bool], seconds: float, why: Callable[[], str] = lambda: ""
) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, why()
        time.sleep(0.05)


def schedule(project: Project, engine: sa.Engine, at: datetime) -> int:
    plan = plan_send(engine, project.settings(), project.renderer(), "87", "weekly")
    return schedule_campaign(engine, plan, at, "America/New_York")


def jobs_stored(engine: sa.Engine) -> list[str]:
    with engine.connect() as connection:
        return list(connection.execute(sa.select(scheduler_jobs.c.id)).scalars())


def copies(url: str) -> Counter[str]:
    return Counter(message["to"] for message in received(url))


def test_a_scheduled_campaign_goes_out_within_two_seconds_of_its_time(
    db_project: Project,
    project_engine: sa.Engine,
    emulator: tuple[SendGridEmulator, str],
    weekly: list[str],
) -> None:
    worker = Worker(db_project)
    try:
        due = utc_now() + timedelta(seconds=4)
        campaign_id = schedule(db_project, project_engine, due)
        wait_for(lambda: show_campaign(project_engine, campaign_id).status == "sent", 60,
                 lambda: "".join(worker.log))  # fmt: skip
    finally:
        worker.stop()
    campaign = show_campaign(project_engine, campaign_id)
    assert campaign.started_at is not None
    assert timedelta(0) <= campaign.started_at - due < timedelta(seconds=2)
    assert copies(emulator[1]) == Counter(weekly)


def test_a_schedule_survives_a_worker_restart_and_is_sent_exactly_once(
    db_project: Project,
    project_engine: sa.Engine,
    emulator: tuple[SendGridEmulator, str],
    weekly: list[str],
) -> None:
    first = Worker(db_project)
    due = utc_now() + timedelta(seconds=5)
    campaign_id = schedule(db_project, project_engine, due)
    # The running worker puts it in its job store, then is stopped before the time comes.
    job = f"campaign:{campaign_id}"
    wait_for(lambda: job in jobs_stored(project_engine), 10)
    first.stop()
    wait_for(lambda: utc_now() > due + timedelta(seconds=1), 10)
    assert received(emulator[1]) == []
    assert show_campaign(project_engine, campaign_id).status == "scheduled"

    second = Worker(db_project)
    try:
        wait_for(lambda: show_campaign(project_engine, campaign_id).status == "sent", 60,
                 lambda: "".join(second.log))  # fmt: skip
        time.sleep(1.5)  # a second firing, were there one, would have come by now
    finally:
        second.stop()
    assert copies(emulator[1]) == Counter(weekly)
    assert jobs_stored(project_engine) == []


def test_two_workers_at_once_send_a_campaign_once(
    db_project: Project,
    project_engine: sa.Engine,
    emulator: tuple[SendGridEmulator, str],
    weekly: list[str],
) -> None:
    workers = [Worker(db_project), Worker(db_project)]
    try:
        due = utc_now() + timedelta(seconds=4)
        ids = [schedule(db_project, project_engine, due) for _ in range(3)]
        for campaign_id in ids:
            wait_for(lambda c=campaign_id: show_campaign(project_engine, c).status == "sent",
                     90, lambda: "".join(workers[0].log + workers[1].log))  # fmt: skip
        time.sleep(1.5)
    finally:
        for worker in workers:
            worker.stop()
    # Three campaigns of the same issue: each reader three times, never more.
    assert copies(emulator[1]) == Counter({email: 3 for email in weekly})
    # Both fired the jobs; each campaign was started by one of them.
    starts = [line for worker in workers for line in worker.log if ": started" in line]
    assert len(starts) == 3, starts


def test_a_worker_back_late_sends_within_the_grace_and_marks_older_ones_missed(
    db_project: Project,
    project_engine: sa.Engine,
    emulator: tuple[SendGridEmulator, str],
    weekly: list[str],
) -> None:
    now = utc_now()
    recent = schedule(db_project, project_engine, now - timedelta(minutes=20))
    old = schedule(db_project, project_engine, now - timedelta(hours=3))
    worker = Worker(db_project)
    try:
        wait_for(lambda: show_campaign(project_engine, recent).status == "sent", 60,
                 lambda: "".join(worker.log))  # fmt: skip
        wait_for(lambda: show_campaign(project_engine, old).status == "missed", 10)
    finally:
        worker.stop()
    assert "late" in show_campaign(project_engine, recent).message
    assert "misfire grace" in show_campaign(project_engine, old).message
    assert copies(emulator[1]) == Counter(weekly)


def test_reconcile_gives_scheduled_campaigns_jobs_and_drops_jobs_with_nothing_behind(
    db_project: Project, project_engine: sa.Engine, weekly: list[str]
) -> None:
    later = datetime.now(UTC) + timedelta(days=2)
    kept = schedule(db_project, project_engine, later)
    dropped = schedule(db_project, project_engine, later)
    settings = db_project.settings()
    woken: list[bool] = []
    keeper = Timekeeper(
        Duties(project_engine, settings, db_project.renderer(), None, lambda: woken.append(True))
    )
    keeper.start()
    try:
        jobs = {job.id: job.next_run_time for job in keeper.scheduler.get_jobs("default")}
        assert jobs == {f"campaign:{kept}": later, f"campaign:{dropped}": later}
        cancel_campaign(project_engine, dropped)
        keeper.reconcile()
        assert [job.id for job in keeper.scheduler.get_jobs("default")] == [f"campaign:{kept}"]
    finally:
        keeper.shutdown()
    # Jobs left in the store with nothing behind them (this campaign never existed) are
    # removed at the next start, and a scheduled campaign whose job was lost gets one again.
    with project_engine.begin() as connection:
        connection.execute(sa.delete(scheduler_jobs))
    other = BackgroundScheduler(
        jobstores={"default": SharedJobStore(engine=project_engine)}, timezone="UTC"
    )
    other.start(paused=True)
    other.add_job(fire_campaign, DateTrigger(run_date=later), args=[9999], id="campaign:9999")
    other.shutdown()
    keeper = Timekeeper(Duties(project_engine, settings, db_project.renderer(), None, lambda: None))
    keeper.start()
    try:
        assert [job.id for job in keeper.scheduler.get_jobs("default")] == [f"campaign:{kept}"]
    finally:
        keeper.shutdown()
    assert woken == []
