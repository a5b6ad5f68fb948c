"""One-off scheduled campaigns: schedule, reschedule, and start when due.

A scheduled campaign stores where its content comes from (the issue file) and the subject it
had when it was checked; it is rendered again when it starts, so late edits go out, and its
audience is taken then. Starting is one conditional ``UPDATE ... WHERE status = 'scheduled'
AND scheduled_at = <the time that came due>``, so of two workers (or a worker and an editor
rescheduling or cancelling at that moment) exactly one wins.

Messages stored for the editor say what happened; what to do about it is each face's to say
(the command line names its commands, a page offers the actions the campaign allows).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from mailer.clock import Clock, utc_now
from mailer.config import Settings
from mailer.db.engine import write_transaction
from mailer.db.tables import campaigns
from mailer.delivery import campaign_audience, local_time
from mailer.delivery.campaign_states import Action, CampaignStatus, NotAllowed, new_status
from mailer.delivery.campaigns import Campaign, find_campaign, move_campaign
from mailer.delivery.sending import SendPlan, campaign_values, content_values, plan_send
from mailer.errors import MailerError
from mailer.render.pipeline import Renderer


@dataclass(frozen=True)
class Start:
    """What came of a due campaign: ``started``, ``missed`` (too late), ``paused`` (could not
    be rendered or has nobody to send to), ``early`` (rescheduled later), or ``gone``
    (cancelled, or started by another worker)."""

    outcome: str
    message: str = ""


def local_and_utc(moment: datetime, zone: str | None) -> tuple[str, str]:
    """``("2026-11-24 09:00 CST", "2026-11-24T01:00Z")``; no local part for UTC itself."""
    utc = f"{moment.astimezone(UTC):%Y-%m-%dT%H:%MZ}"
    if not zone or zone == "UTC":
        return "", utc
    local = moment.astimezone(ZoneInfo(zone))
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()}", utc


def shown(moment: datetime, zone: str | None) -> str:
    """``2026-11-24 09:00 CST (2026-11-24T01:00Z)``: local first, UTC after."""
    local, utc = local_and_utc(moment, zone)
    return f"{local} ({utc})" if local else utc


def insert_scheduled(
    connection: sa.Connection,
    plan: SendPlan,
    at: datetime,
    zone: str,
    now: datetime,
    action: Action = Action.schedule,
    **values: Any,
) -> int:
    """The campaign row, due ``at`` (UTC); ``values``: local_time, schedule_name, and the
    message when ``action`` makes it missed (a recurring tick found too late)."""
    key = connection.execute(
        sa.insert(campaigns).values(
            **(campaign_values(plan, now) | values | {"status": new_status(action).value}),
            scheduled_at=at,
            zone=zone,
        )
    ).inserted_primary_key
    assert key is not None
    return int(key[0])


def schedule_campaign(
    engine: sa.Engine,
    plan: SendPlan,
    at: datetime,
    zone: str,
    *,
    local_clock: str | None = None,
    clock: Clock = utc_now,
) -> int:
    """Store a campaign due ``at`` (UTC); its content is rendered again when it starts."""
    with write_transaction(engine) as connection:
        return insert_scheduled(connection, plan, at, zone, clock(), local_time=local_clock)


def reschedule_campaign(
    engine: sa.Engine, campaign_id: int, at: datetime, zone: str, clock: Clock = utc_now
) -> Campaign:
    """Move a scheduled (or missed) campaign to ``at``; refused once it has started."""
    with write_transaction(engine) as connection:
        campaign = find_campaign(connection, campaign_id)
        # Whatever a miss said of it is past.
        moved = move_campaign(
            connection,
            campaign_id,
            Action.reschedule,
            clock(),
            scheduled_at=at,
            zone=zone,
            message="",
            finished_at=None,
        )
        if not moved:
            started = (
                f" (it started at {shown(campaign.started_at, campaign.zone)})"
                if campaign.started_at
                else ""
            )
            raise NotAllowed(campaign_id, campaign.status, Action.reschedule, started)
        return find_campaign(connection, campaign_id)


def _plan_again(
    engine: sa.Engine, settings: Settings, renderer: Renderer, campaign: Campaign
) -> SendPlan:
    return plan_send(
        engine, settings, renderer, campaign.issue_file, campaign.list_name,
        segment=campaign.segment, transport=campaign.transport,
    )  # fmt: skip


def begin_sending(
    engine: sa.Engine,
    settings: Settings,
    renderer: Renderer,
    campaign_id: int,
    *,
    owner: str | None,
    clock: Clock = utc_now,
    from_state: CampaignStatus = CampaignStatus.scheduled,
    due: datetime | None = None,
    note: str = "",
) -> Start:
    """Render the issue as it is now, and in one transaction: move the campaign from
    ``from_state`` (still due at ``due``) to sending, store the content, take the audience
    (waiting for each recipient's local time if so scheduled). Another process that moved
    the campaign first wins; the render here is then thrown away."""
    with engine.connect() as connection:
        campaign = find_campaign(connection, campaign_id)
    if campaign.status != from_state:
        return Start("gone", f"campaign {campaign_id} is {campaign.status}")
    still_due = campaigns.c.scheduled_at == due if due is not None else None
    try:
        plan = _plan_again(engine, settings, renderer, campaign)
    except Exception as exc:  # any reason it cannot start is the editor's to see, not a log's
        reason = str(exc) if isinstance(exc, MailerError) else f"{type(exc).__name__}: {exc}"
        message = f"could not start: {reason}"
        with write_transaction(engine) as connection:
            held = move_campaign(
                connection,
                campaign_id,
                Action.hold,
                clock(),
                only_from=from_state,
                only_if=still_due,
                message=message,
            )
        return Start("paused" if held else "gone", message)
    now = clock()
    started: dict[str, Any] = {
        "issue_number": plan.rendered.issue.number,
        **content_values(plan.rendered),
        "list_id": plan.mailing_list.id,
        "started_at": now,
        "owner": owner,
        "heartbeat_at": now if owner else None,
        "message": note,
    }
    with write_transaction(engine) as connection:
        moved = move_campaign(
            connection,
            campaign_id,
            Action.start,
            now,
            only_from=from_state,
            only_if=still_due,
            **started,
        )
        if not moved:
            return Start("gone", f"campaign {campaign_id} was changed meanwhile")
        campaign_audience.snapshot(connection, campaign_id, plan.mailing_list.id, plan.where, now)
        if campaign.local_time:
            # Counted from the due time, so a start a little late (within the grace) still
            # sends today to those whose moment fell in the delay.
            local_time.assign_due_times(
                connection, campaign_id, local_time.parse_clock(campaign.local_time),
                settings.newsletter.timezone, due or now,
            )  # fmt: skip
    return Start("started", note)


def start_due(
    engine: sa.Engine,
    settings: Settings,
    renderer: Renderer,
    campaign_id: int,
    *,
    owner: str | None,
    clock: Clock = utc_now,
) -> Start:
    """What the worker does when a scheduled campaign's time comes: start it, or, when the
    worker comes back later than the misfire grace, mark it missed and send nothing."""
    now = clock()
    with engine.connect() as connection:
        campaign = find_campaign(connection, campaign_id)
    due = campaign.scheduled_at
    if campaign.status != CampaignStatus.scheduled or due is None:
        return Start("gone", f"campaign {campaign_id} is {campaign.status}")
    if due > now:
        return Start("early", f"campaign {campaign_id} is due at {shown(due, campaign.zone)}")
    late = now - due
    grace = timedelta(seconds=settings.schedule.misfire_grace_seconds)
    if late > grace:
        message = (
            f"missed: nothing was running to send it at {shown(due, campaign.zone)}, and "
            f"{_span(late)} later is past the misfire grace ({settings.schedule.misfire_grace});"
            " nothing was sent"
        )
        with write_transaction(engine) as connection:
            still_due = campaigns.c.scheduled_at == due
            missed = move_campaign(
                connection,
                campaign_id,
                Action.miss,
                now,
                only_if=still_due,
                message=message,
                finished_at=now,
            )
        return Start("missed" if missed else "gone", message)
    note = ""
    if late >= timedelta(minutes=1):
        note = (
            f"started {_span(late)} late (nothing was running at {shown(due, campaign.zone)}; "
            f"within the misfire grace of {settings.schedule.misfire_grace})"
        )
    return begin_sending(
        engine, settings, renderer, campaign_id, owner=owner, clock=clock, due=due, note=note
    )


def _span(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 120:
        return f"{minutes} min"
    hours = minutes // 60
    return f"{hours} h" if hours < 48 else f"{hours // 24} days"
