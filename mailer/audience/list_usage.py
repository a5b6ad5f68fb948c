"""What uses a mailing list: its members by status, the campaigns not yet done with it and
the recurring schedules that send to it; what deleting the list would touch, said before it
is deleted."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

import sqlalchemy as sa

from mailer.audience.lists import MailingList, find_list
from mailer.db.tables import MEMBERSHIP_STATUSES, campaigns, memberships, schedules

# Campaigns that have yet to send (all or part) to their list.
PENDING_STATUSES = ("draft", "scheduled", "sending", "paused")


@dataclass(frozen=True)
class PendingCampaign:
    id: int
    issue_number: int
    status: str
    scheduled_at: datetime | None


@dataclass(frozen=True)
class ListUsage:
    mailing_list: MailingList
    """The list, with its member counts."""
    campaigns: list[PendingCampaign]
    """Campaigns to the list that are not done (draft, scheduled, sending, paused), by id."""
    schedules: list[str]
    """Names of the recurring schedules that send to the list."""


def list_usage(connection: sa.Connection, name: str) -> ListUsage:
    """What uses the list named ``name`` (NotFoundError if there is none)."""
    found = find_list(connection, name)
    counts = dict.fromkeys(MEMBERSHIP_STATUSES, 0)
    by_status = connection.execute(
        sa.select(memberships.c.status, sa.func.count())
        .where(memberships.c.list_id == found.id)
        .group_by(memberships.c.status)
    )
    counts.update({str(status): int(count) for status, count in by_status})
    pending = connection.execute(
        sa.select(
            campaigns.c.id, campaigns.c.issue_number, campaigns.c.status, campaigns.c.scheduled_at
        )
        .where(campaigns.c.list_id == found.id, campaigns.c.status.in_(PENDING_STATUSES))
        .order_by(campaigns.c.id)
    ).all()
    schedule_names = connection.execute(
        sa.select(schedules.c.name).where(schedules.c.list_name == name).order_by(schedules.c.name)
    ).scalars()
    return ListUsage(
        replace(found, counts=counts),
        [
            PendingCampaign(int(row.id), int(row.issue_number), str(row.status), row.scheduled_at)
            for row in pending
        ],
        [str(schedule) for schedule in schedule_names],
    )
