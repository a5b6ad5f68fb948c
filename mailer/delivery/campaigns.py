"""Campaigns: one issue to one list (optionally a segment) through one transport.

Their states and the moves between them are the table in ``campaign_states``; every change
of state is one atomic ``UPDATE ... WHERE status IN (...)`` made here, so two processes can
never both move a campaign on from the same state.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from mailer.clock import Clock, utc_now
from mailer.db.engine import write_transaction
from mailer.db.tables import DELIVERY_STATUSES, campaigns, deliveries
from mailer.delivery.campaign_states import (
    TRANSITIONS,
    Action,
    CampaignStatus,
    EditorAction,
    NotAllowed,
    allowed_actions,
)
from mailer.delivery.settle import CONFIRMED_BY_EVENTS
from mailer.errors import FieldError


class CampaignNotFound(FieldError):
    def __init__(self, campaign_id: int) -> None:
        super().__init__("campaign", "no such campaign", str(campaign_id))
        self.campaign_id = campaign_id

    def __reduce__(self) -> tuple[type[CampaignNotFound], tuple[int]]:  # type: ignore[override]
        return (type(self), (self.campaign_id,))


def iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class Campaign:
    id: int
    issue_number: int
    issue_file: str
    list_name: str
    segment: str | None
    transport: str
    status: str
    message: str
    subject: str | None
    created_at: datetime
    scheduled_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    zone: str | None = None
    local_time: str | None = None
    schedule_name: str | None = None
    waiting_until: datetime | None = None
    counts: dict[str, int] = field(default_factory=dict)
    confirmed_by_events: int = 0
    """In-doubt recipients that SendGrid's events showed were sent (now counted as sent)."""

    @property
    def actions(self) -> list[EditorAction]:
        """What an editor can do with it now."""
        return allowed_actions(self.status, self.counts.get("in_doubt", 0))

    @property
    def content(self) -> str:
        """Which content goes out: stored at the start, or rendered from the file then."""
        if self.started_at is not None:
            return "stored"
        return "rendered from the issue file when it starts"

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "issue": self.issue_number,
            "issue_file": self.issue_file,
            "list": self.list_name,
            "segment": self.segment,
            "transport": self.transport,
            "status": self.status,
            "message": self.message,
            "subject": self.subject,
            "created_at": iso(self.created_at),
            "scheduled_at": iso(self.scheduled_at),
            "started_at": iso(self.started_at),
            "finished_at": iso(self.finished_at),
            "zone": self.zone,
            "local_time": self.local_time,
            "schedule": self.schedule_name,
            "waiting_until": iso(self.waiting_until),
            "content": self.content,
            "counts": self.counts,
            "in_doubt_confirmed_by_events": self.confirmed_by_events,
            "actions": [str(action) for action in self.actions],
        }


def delivery_counts(
    connection: sa.Connection, campaign_ids: Iterable[int]
) -> dict[int, dict[str, int]]:
    """Per campaign: total, then how many ledger rows are in each state."""
    return {key: counts for key, (counts, _) in _tallies(connection, campaign_ids).items()}


def _tallies(
    connection: sa.Connection, campaign_ids: Iterable[int]
) -> dict[int, tuple[dict[str, int], int]]:
    """Per campaign: its delivery counts, and how many rows SendGrid's events settled (read
    in the same pass over the ledger)."""
    wanted = list(campaign_ids)
    found: dict[int, tuple[dict[str, int], int]] = {
        campaign_id: ({"total": 0} | dict.fromkeys(DELIVERY_STATUSES, 0), 0)
        for campaign_id in wanted
    }
    if not wanted:
        return found
    settled = sa.func.sum(sa.case((deliveries.c.error == CONFIRMED_BY_EVENTS, 1), else_=0))
    query = (
        sa.select(deliveries.c.campaign_id, deliveries.c.status, sa.func.count(), settled)
        .where(deliveries.c.campaign_id.in_(wanted))
        .group_by(deliveries.c.campaign_id, deliveries.c.status)
    )
    for campaign_id, status, count, confirmed in connection.execute(query):
        counts, before = found[campaign_id]
        counts[status] = count
        counts["total"] += count
        found[campaign_id] = (counts, before + int(confirmed or 0))
    return found


def _campaign(row: Any, tally: tuple[dict[str, int], int]) -> Campaign:
    counts, confirmed = tally
    return Campaign(
        id=row.id,
        issue_number=row.issue_number,
        issue_file=row.issue_file,
        list_name=row.list_name,
        segment=row.segment,
        transport=row.transport,
        status=row.status,
        message=row.message,
        subject=row.subject,
        created_at=row.created_at,
        scheduled_at=row.scheduled_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
        zone=row.zone,
        local_time=row.local_time,
        schedule_name=row.schedule_name,
        waiting_until=row.waiting_until,
        counts=counts,
        confirmed_by_events=confirmed,
    )


_SUMMARY_COLUMNS = [column for column in campaigns.c if column.name not in ("html", "text")]


def find_campaign(
    connection: sa.Connection,
    campaign_id: int,
    tally: tuple[dict[str, int], int] | None = None,
) -> Campaign:
    """The campaign with its delivery counts: counted here, or ``tally`` (the counts and the
    rows settled by events, as ``delivery_counts`` gives them) when the caller counted them
    in a pass of its own over the ledger."""
    row = connection.execute(
        sa.select(*_SUMMARY_COLUMNS).where(campaigns.c.id == campaign_id)
    ).first()
    if row is None:
        raise CampaignNotFound(campaign_id)
    return _campaign(row, tally or _tallies(connection, [campaign_id])[campaign_id])


def all_campaigns(engine: sa.Engine) -> list[Campaign]:
    """Upcoming sends first (soonest first), then the rest, newest first."""
    upcoming = campaigns.c.status == CampaignStatus.scheduled.value
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(*_SUMMARY_COLUMNS).order_by(
                sa.case((upcoming, 0), else_=1),
                sa.case((upcoming, campaigns.c.scheduled_at), else_=None),
                campaigns.c.id.desc(),
            )
        )
        found = list(rows)
        tallies = _tallies(connection, [row.id for row in found])
    return [_campaign(row, tallies[row.id]) for row in found]


def show_campaign(engine: sa.Engine, campaign_id: int) -> Campaign:
    with engine.connect() as connection:
        return find_campaign(connection, campaign_id)


def move_campaign(
    connection: sa.Connection,
    campaign_id: int,
    action: Action,
    now: datetime,
    *,
    only_from: CampaignStatus | None = None,
    only_if: sa.ColumnElement[bool] | None = None,
    **values: Any,
) -> bool:
    """The atomic state change ``action`` makes, from the states the table allows it in (or
    only from ``only_from``, one of them; and only while ``only_if`` holds): True if this call
    made it."""
    transition = TRANSITIONS[action]
    sources = [state for state in CampaignStatus if state in transition]
    if only_from is not None:
        if only_from not in sources:
            raise ValueError(f"{action} never moves a campaign that is {only_from}")
        sources = [only_from]
    if not sources:
        raise ValueError(f"{action} makes a campaign; it moves none")
    result = connection.execute(
        sa.update(campaigns)
        .where(
            campaigns.c.id == campaign_id,
            campaigns.c.status.in_([state.value for state in sources]),
            sa.true() if only_if is None else only_if,
        )
        .values(status=transition.target.value, updated_at=now, **values)
    )
    return result.rowcount == 1


def _change(
    engine: sa.Engine, campaign_id: int, action: Action, clock: Clock, **values: Any
) -> Campaign:
    with write_transaction(engine) as connection:
        campaign = find_campaign(connection, campaign_id)
        if not move_campaign(connection, campaign_id, action, clock(), **values):
            raise NotAllowed(campaign_id, campaign.status, action)
        return find_campaign(connection, campaign_id)


def pause_campaign(engine: sa.Engine, campaign_id: int, clock: Clock = utc_now) -> Campaign:
    """Takes effect before the next batch: the sender checks the state between batches."""
    return _change(engine, campaign_id, Action.pause, clock, message="paused by an editor")


def cancel_campaign(engine: sa.Engine, campaign_id: int, clock: Clock = utc_now) -> Campaign:
    now = clock()
    done = {"message": "cancelled by an editor", "finished_at": now}
    return _change(engine, campaign_id, Action.cancel, lambda: now, **done)
