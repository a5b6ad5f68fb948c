"""Whether a ``mailer worker`` runs, as the admin dashboard tells it: when any worker was last
seen, whether that is lately (within ``[delivery] worker_silent_minutes``), and how many
campaigns wait for one now (sending, or scheduled for a time already past). Campaigns sent
from the admin app and scheduled ones are only sent by a running worker, so a silent worker
with campaigns waiting is the loudest thing on the dashboard."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from mailer.app import Mailer
from mailer.clock import Clock
from mailer.db.tables import campaigns
from mailer.delivery.campaign_states import CampaignStatus
from mailer.delivery.campaigns import Campaign
from mailer.scheduling.worker_presence import last_seen


@dataclass(frozen=True)
class WorkerHealth:
    last_seen: datetime | None
    """When any worker was last seen; None if none runs (none ever did, or all stopped)."""
    lately: bool
    """Seen within the silence limit: all is well."""
    waiting: int
    """Campaigns that need a worker now: sending, or scheduled for a time already past."""

    @property
    def silent(self) -> bool:
        return not self.lately

    @property
    def urgent(self) -> bool:
        """Silent while campaigns wait for it."""
        return self.silent and self.waiting > 0


def worker_health(mailer: Mailer, *, clock: Clock | None = None) -> WorkerHealth:
    now = (clock or mailer.clock)()
    silence = timedelta(minutes=mailer.settings.delivery.worker_silent_minutes)
    with mailer.engine.connect() as connection:
        seen = last_seen(connection)
        waiting = connection.execute(
            sa.select(sa.func.count()).where(
                sa.or_(
                    campaigns.c.status == CampaignStatus.sending.value,
                    sa.and_(
                        campaigns.c.status == CampaignStatus.scheduled.value,
                        campaigns.c.scheduled_at <= now,
                    ),
                )
            )
        ).scalar_one()
    return WorkerHealth(
        last_seen=seen, lately=seen is not None and now - seen <= silence, waiting=int(waiting)
    )


@dataclass(frozen=True)
class Overdue:
    """Scheduled campaigns past their time while no worker was seen lately: nothing sends
    them until one runs (and past the misfire grace they are marked missed)."""

    campaigns: list[Campaign]
    last_seen: datetime | None


def overdue_without_worker(
    mailer: Mailer, listed: Iterable[Campaign], *, clock: Clock | None = None
) -> Overdue:
    """Of ``listed``, the scheduled campaigns already due, when no worker was seen within
    ``[delivery] worker_silent_minutes``; none while one was."""
    now = (clock or mailer.clock)()
    health = worker_health(mailer, clock=lambda: now)
    if health.lately:
        return Overdue([], health.last_seen)
    due = [
        campaign
        for campaign in listed
        if campaign.status == CampaignStatus.scheduled.value
        and campaign.scheduled_at is not None
        and campaign.scheduled_at <= now
    ]
    return Overdue(due, health.last_seen)
