"""What a resident scheduler would have fired by now, done in one pass: ``mailer worker --once``
from cron or a systemd timer.

It acts through the same calls as the resident worker's jobs (``one_off.start_due`` and
``recurring.run_tick``), so the same atomic claims hold: a campaign is started, and a tick
acted on, by exactly one process, whether the others are resident workers or other ``--once``
runs. The misfire grace is decided there too: a campaign or tick found later than the grace is
recorded as missed and nothing is sent.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from mailer.clock import Clock, utc_now
from mailer.config import Settings
from mailer.db.tables import campaigns
from mailer.delivery.campaign_states import CampaignStatus
from mailer.delivery.ownership import HOST
from mailer.delivery.worker import CampaignRunner
from mailer.render.pipeline import Renderer
from mailer.scheduling import recurring
from mailer.scheduling.one_off import start_due
from mailer.scheduling.worker_presence import WorkerPresence

log = logging.getLogger("mailer.scheduler")


@dataclass(frozen=True)
class Fired:
    """One due thing looked at: ``what`` names it, ``outcome`` is what came of it (the
    ``Start`` outcome of a campaign, or ``ticked`` for a schedule), ``said`` the whole line."""

    what: str
    outcome: str
    said: str


def due_campaigns(engine: sa.Engine, now: datetime) -> list[int]:
    """Scheduled campaigns whose time has come, the earliest first."""
    with engine.connect() as connection:
        return list(
            connection.execute(
                sa.select(campaigns.c.id)
                .where(
                    campaigns.c.status == CampaignStatus.scheduled.value,
                    campaigns.c.scheduled_at <= now,
                )
                .order_by(campaigns.c.scheduled_at, campaigns.c.id)
            ).scalars()
        )


def fire_due(
    engine: sa.Engine,
    settings: Settings,
    renderer: Renderer,
    *,
    owner: str | None,
    clock: Clock = utc_now,
) -> list[Fired]:
    """Start every one-off campaign that is due and act on every recurring schedule's tick that
    is due (or mark it missed); returns what was looked at and what came of each."""
    recurring.sync_config(engine, settings, clock)
    now = clock()
    fired: list[Fired] = []
    for campaign_id in due_campaigns(engine, now):
        start = start_due(engine, settings, renderer, campaign_id, owner=owner, clock=clock)
        what = f"campaign {campaign_id}"
        said = f"{what}: {start.outcome}" + (f" ({start.message})" if start.message else "")
        log.log(logging.WARNING if start.outcome == "missed" else logging.INFO, "%s", said)
        fired.append(Fired(what, start.outcome, said))
    grace = timedelta(seconds=settings.schedule.misfire_grace_seconds)
    for schedule in recurring.all_schedules(engine):
        tick, missed = recurring.due_tick(schedule, now, grace)
        if tick is None:
            continue
        # run_tick logs what came of it, and keeps it as the schedule's last result.
        result = recurring.run_tick(
            engine, settings, renderer, schedule.name, owner=owner, clock=clock
        )
        what = f"schedule {schedule.name}"
        fired.append(Fired(what, "missed" if missed else "ticked", f"{what}: {result}"))
    return fired


def run_once(runner: CampaignRunner, renderer: Renderer) -> list[Fired]:
    """``worker --once``: fire what is due, then finish every unattended campaign (those just
    started included). Recorded as a worker seen, at the start and at the end, in the row
    ``host:once`` that is left behind (see ``worker_presence``)."""
    presence = WorkerPresence(runner.engine, f"{HOST}:once", clock=runner.clock)
    presence.visit()
    fired = fire_due(runner.engine, runner.settings, renderer, owner=runner.me, clock=runner.clock)
    runner.run_once()
    presence.visit()
    return fired
