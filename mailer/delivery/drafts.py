"""Campaign drafts: a campaign saved to be sent later, by someone who may not send it.

A draft holds what a new campaign would (the issue, the list, a segment, and when it should
go out) and nothing more: no content, no audience and no due time. The worker and the
scheduler take up only scheduled and sending campaigns, so a draft's time is a plan, never a
trigger; its audience is counted when it is looked at and taken only when it is sent (the
ledger written then) or, scheduled, when it starts.

Every change is one conditional ``UPDATE`` (``move_campaign``) or ``DELETE`` on ``status =
'draft'``: of two people sending the same draft at once exactly one moves it, and the other is
told what it became. A send or schedule also requires the draft to hold what it held when
it was read, so an edit made meanwhile is never sent unseen.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from mailer.clock import Clock, utc_now
from mailer.db.engine import write_transaction
from mailer.db.tables import campaigns
from mailer.delivery import campaign_audience
from mailer.delivery.campaign_states import Action, CampaignStatus, NotAllowed, new_status
from mailer.delivery.campaigns import Campaign, find_campaign, move_campaign
from mailer.delivery.sending import SendPlan, campaign_values, content_values
from mailer.errors import ConflictError


@dataclass(frozen=True)
class DraftValues:
    """The campaign row a draft stores: what it sends, to whom, and when it should go out."""

    issue_number: int
    issue_file: str
    list_id: int
    list_name: str
    segment: str | None
    transport: str
    subject: str | None
    """The issue's subject when the draft was saved (the send takes it from the issue then)."""
    scheduled_at: datetime | None
    """The time it should go out (UTC), when one was given; None: now, or from now on."""
    zone: str | None
    local_time: str | None


# What a send or schedule is planned from: they act only while the draft still holds it.
_PLANNED_FROM = ("issue_number", "list_name", "segment", "scheduled_at", "zone", "local_time")


@dataclass(frozen=True)
class Draft:
    campaign: Campaign
    """As it was read: a send or schedule acts only on the draft while it is still so."""

    def unchanged(self) -> sa.ColumnElement[bool]:
        return sa.and_(
            *(
                campaigns.c[name].is_not_distinct_from(getattr(self.campaign, name))
                for name in _PLANNED_FROM
            )
        )


def save_draft(engine: sa.Engine, values: DraftValues, clock: Clock = utc_now) -> int:
    """Store a new draft; its id."""
    now = clock()
    with write_transaction(engine) as connection:
        key = connection.execute(
            sa.insert(campaigns).values(
                **asdict(values),
                status=new_status(Action.draft).value,
                created_at=now,
                updated_at=now,
            )
        ).inserted_primary_key
    assert key is not None
    return int(key[0])


def read_draft(engine: sa.Engine, campaign_id: int) -> Draft:
    """The campaign as it is now (CampaignNotFound if there is none)."""
    with engine.connect() as connection:
        return Draft(find_campaign(connection, campaign_id))


def _refusal(connection: sa.Connection, campaign_id: int, action: Action) -> ConflictError:
    """Why a draft's move found nothing to move: gone, no longer a draft, or changed since
    it was read."""
    now = find_campaign(connection, campaign_id)  # CampaignNotFound when deleted meanwhile
    if now.status != CampaignStatus.draft:
        return NotAllowed(campaign_id, now.status, action)
    return ConflictError(
        f"campaign {campaign_id} was edited while it was being {TRANSITION_WORDS[action]}; "
        "look at it again"
    )


TRANSITION_WORDS = {Action.send: "sent", Action.schedule: "scheduled", Action.edit: "edited"}


def edit_draft(
    engine: sa.Engine, campaign_id: int, values: DraftValues, clock: Clock = utc_now
) -> Campaign:
    """Replace what the draft holds; refused (NotAllowed) once it is no longer a draft."""
    with write_transaction(engine) as connection:
        if not move_campaign(connection, campaign_id, Action.edit, clock(), **asdict(values)):
            raise _refusal(connection, campaign_id, Action.edit)
        return find_campaign(connection, campaign_id)


def delete_draft(engine: sa.Engine, campaign_id: int) -> None:
    """Delete a draft (it has no ledger, no content, nothing that points at it)."""
    with write_transaction(engine) as connection:
        gone = connection.execute(
            sa.delete(campaigns).where(
                campaigns.c.id == campaign_id,
                campaigns.c.status == CampaignStatus.draft.value,
            )
        )
        if gone.rowcount != 1:
            now = find_campaign(connection, campaign_id)
            raise ConflictError(
                f"campaign {campaign_id} is {now.status}; only a draft campaign can be deleted "
                "(cancel it instead, where its state allows)"
            )


def _planned(plan: SendPlan, now: datetime) -> dict[str, Any]:
    """The row as the send planned it (the issue and list as found now), keeping when the
    draft was made."""
    values = campaign_values(plan, now)
    del values["created_at"], values["updated_at"]  # the move sets updated_at
    return values


def send_draft(engine: sa.Engine, draft: Draft, plan: SendPlan, clock: Clock = utc_now) -> None:
    """Send the draft now: in one transaction, move it to sending (only if it is still the
    draft that was read), store its content and take its audience (the ledger), as a
    campaign sent now is made. The worker sends it."""
    campaign_id = draft.campaign.id
    now = clock()
    started = _planned(plan, now) | content_values(plan.rendered)
    started |= {"started_at": now, "scheduled_at": None, "message": ""}
    with write_transaction(engine) as connection:
        as_read = draft.unchanged()
        if not move_campaign(connection, campaign_id, Action.send, now, only_if=as_read, **started):
            raise _refusal(connection, campaign_id, Action.send)
        campaign_audience.snapshot(connection, campaign_id, plan.mailing_list.id, plan.where, now)


def schedule_draft(
    engine: sa.Engine,
    draft: Draft,
    plan: SendPlan,
    at: datetime,
    zone: str,
    *,
    local_clock: str | None,
    clock: Clock = utc_now,
) -> None:
    """Make the draft due ``at`` (UTC), as a campaign scheduled anew is: its content is
    rendered again and its audience taken when it starts."""
    campaign_id = draft.campaign.id
    now = clock()
    due = _planned(plan, now) | {"scheduled_at": at, "zone": zone, "local_time": local_clock}
    with write_transaction(engine) as connection:
        as_read = draft.unchanged()
        moved = move_campaign(
            connection, campaign_id, Action.schedule, now, only_if=as_read, message="", **due
        )
        if not moved:
            raise _refusal(connection, campaign_id, Action.schedule)
