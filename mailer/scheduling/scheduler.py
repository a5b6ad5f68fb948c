"""The worker's timekeeper: APScheduler 3 with its job store in the project's own database.

The campaigns and schedules tables are the source of truth; the job store only says when to
look at them. ``reconcile`` (at start, then every second) gives each scheduled campaign and
each recurring schedule a job and removes jobs that have nothing behind them, so an editor's
``send --at``, ``reschedule`` or ``cancel`` reaches a running worker within a second. A job
that fires only calls into ``one_off`` or ``recurring``, whose atomic claims make several
workers sharing one database (and one job table) safe: each due campaign is started once.

Jobs run late rather than never (APScheduler's own misfire limit is off): whether a late
campaign still goes out is the misfire grace's decision, taken and recorded by ``start_due``.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.date import DateTrigger
from sqlalchemy.exc import SQLAlchemyError

from mailer.clock import Clock, utc_now
from mailer.config import Settings
from mailer.db.tables import campaigns, scheduler_jobs
from mailer.render.pipeline import Renderer
from mailer.scheduling import recurring
from mailer.scheduling.cron import days_are_either
from mailer.scheduling.one_off import start_due

log = logging.getLogger("mailer.scheduler")

RECONCILE_SECONDS = 1.0


class SharedJobStore(SQLAlchemyJobStore):  # type: ignore[misc]
    """APScheduler's SQL job store, for several workers on one table: a job that another
    worker already ran and removed is not an error, and the engine is the application's.

    A database error (a lock held too long, a dropped connection) is logged, not raised:
    raised from these calls it would end APScheduler's thread, and nothing would fire again
    while the worker went on looking alive. The reconcile puts the table right after."""

    def update_job(self, job: object) -> None:
        with contextlib.suppress(JobLookupError), _logged("update a job"):
            super().update_job(job)

    def remove_job(self, job_id: str) -> None:
        with contextlib.suppress(JobLookupError), _logged("remove a job"):
            super().remove_job(job_id)

    def get_next_run_time(self) -> datetime | None:
        with _logged("read the next run time"):
            found: datetime | None = super().get_next_run_time()
            return found
        # Look again soon rather than never.
        return datetime.now(UTC) + timedelta(seconds=RECONCILE_SECONDS)

    def shutdown(self) -> None:
        pass  # the engine is disposed of by its owner


@contextlib.contextmanager
def _logged(doing: str) -> Iterator[None]:
    try:
        yield
    except SQLAlchemyError as exc:
        log.warning("job store: could not %s: %s", doing, exc)


@dataclass
class Duties:
    """What fired jobs act with; set once per process by ``Timekeeper.start``."""

    engine: sa.Engine
    settings: Settings
    renderer: Renderer
    owner: str | None
    wake: Callable[[], None]
    clock: Clock = utc_now


_duties: Duties | None = None


def _current() -> Duties:
    if _duties is None:
        raise RuntimeError("a scheduled job ran outside a started worker")
    return _duties


# The job functions are named by their import path in the job store (it pickles references,
# not objects), so they live at module level and find the worker's duties here.


def fire_campaign(campaign_id: int) -> None:
    duties = _current()
    start = start_due(
        duties.engine, duties.settings, duties.renderer, campaign_id,
        owner=duties.owner, clock=duties.clock,
    )  # fmt: skip
    log.info("campaign %s: %s%s", campaign_id, start.outcome,
             f" ({start.message})" if start.message else "")  # fmt: skip
    if start.outcome == "started":
        duties.wake()


def fire_schedule(name: str) -> None:
    duties = _current()
    recurring.run_tick(
        duties.engine, duties.settings, duties.renderer, name,
        owner=duties.owner, clock=duties.clock,
    )  # fmt: skip
    duties.wake()


class Timekeeper:
    def __init__(self, duties: Duties) -> None:
        self.duties = duties
        # Its writes are single statements, so SQLite's deferred BEGIN takes the write lock
        # at the statement; its reads (several a second) need not queue for that lock.
        store = SharedJobStore(engine=duties.engine, tablename=scheduler_jobs.name)
        self.scheduler = BackgroundScheduler(
            jobstores={"default": store, "local": MemoryJobStore()},
            executors={"default": ThreadPoolExecutor(4)},
            job_defaults={"coalesce": True, "misfire_grace_time": None, "max_instances": 1},
            timezone="UTC",
        )

    def start(self) -> None:
        global _duties
        _duties = self.duties
        recurring.sync_config(self.duties.engine, self.duties.settings, self.duties.clock)
        self.scheduler.start()
        self.reconcile()
        self.scheduler.add_job(
            self.reconcile, "interval", seconds=RECONCILE_SECONDS, id="reconcile",
            jobstore="local", replace_existing=True,
        )  # fmt: skip

    def shutdown(self) -> None:
        """Wait for a job that is starting a campaign to finish, then stop."""
        self.scheduler.shutdown(wait=True)

    def reconcile(self) -> None:
        """Make the job store match the campaigns and schedules tables."""
        engine = self.duties.engine
        with engine.connect() as connection:
            due = connection.execute(
                sa.select(campaigns.c.id, campaigns.c.scheduled_at).where(
                    campaigns.c.status == "scheduled", campaigns.c.scheduled_at.is_not(None)
                )
            ).all()
        wanted: dict[str, tuple[str, Callable[..., None], object, int | str]] = {}
        for campaign_id, scheduled_at in due:
            wanted[f"campaign:{campaign_id}"] = (
                f"campaign {campaign_id} due {scheduled_at.isoformat()}", fire_campaign,
                DateTrigger(run_date=scheduled_at),
                campaign_id,
            )  # fmt: skip
        for schedule in recurring.all_schedules(engine):
            # "days: either" is part of the name so that jobs stored before cron's day rule
            # was followed are replaced.
            days = " (days: either)" if days_are_either(schedule.cron) else ""
            wanted[f"schedule:{schedule.name}"] = (
                f"schedule {schedule.name}: {schedule.cron} in {schedule.zone}{days}",
                fire_schedule,
                schedule.trigger(),
                schedule.name,
            )  # fmt: skip
        # A job's name carries what it was made from, so a changed campaign or schedule is
        # seen without comparing triggers.
        existing = {job.id: job.name for job in self.scheduler.get_jobs(jobstore="default")}
        for job_id, (signature, function, trigger, key) in wanted.items():
            if existing.get(job_id) != signature:
                self.scheduler.add_job(
                    function, trigger, args=[key], id=job_id, name=signature,
                    jobstore="default", replace_existing=True,
                )  # fmt: skip
        for job_id in existing.keys() - wanted.keys():
            # The shared store ignores a job another worker removed meanwhile.
            self.scheduler.remove_job(job_id, jobstore="default")
