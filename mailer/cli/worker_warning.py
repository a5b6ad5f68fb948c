"""The command line's warning that scheduled campaigns are past their time with no worker seen
lately to send them, and how to run one."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mailer.app import Mailer
    from mailer.delivery.campaigns import Campaign

HOW_TO_RUN = (
    "run `mailer worker` (a service), or `mailer worker --once` every minute from cron or a "
    "systemd timer"
)


def overdue_warnings(mailer: Mailer, listed: list[Campaign]) -> dict[int, str]:
    """A warning for each listed campaign that is due and waits for a worker, by id."""
    from mailer.scheduling.one_off import shown
    from mailer.services.worker_health import overdue_without_worker

    overdue = overdue_without_worker(mailer, listed)
    if not overdue.campaigns:
        return {}
    if overdue.last_seen is None:
        nobody = "no worker is running"
    else:
        nobody = f"no worker has been seen since {shown(overdue.last_seen, None)}"
    grace = mailer.settings.schedule.misfire_grace
    warnings = {}
    for campaign in overdue.campaigns:
        assert campaign.scheduled_at is not None  # a due scheduled campaign has its time
        warnings[campaign.id] = (
            f"campaign {campaign.id} (#{campaign.issue_number} to {campaign.list_name}) was due "
            f"at {shown(campaign.scheduled_at, campaign.zone)} and {nobody}: nothing sends it "
            f"until one runs (later than the misfire grace of {grace} it is marked missed); "
            f"{HOW_TO_RUN}"
        )
    return warnings
