"""What an editor does with a campaign once it exists: look at it, pause, resume, reschedule,
cancel, and decide about recipients whose request's answer was lost.

Each action takes the application object and plain values and returns the campaign as it is
after it; every change of state goes through the table in ``campaign_states``. Running a
campaign's sender is the face's choice: the command line sends in the foreground, and a
campaign left sending with no sender is taken over by ``mailer worker``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from mailer.app import Mailer
from mailer.db.engine import write_transaction
from mailer.db.tables import campaigns
from mailer.delivery import campaigns as stored
from mailer.delivery.campaign_states import Action, CampaignStatus, NotAllowed
from mailer.delivery.campaigns import Campaign, iso, move_campaign
from mailer.delivery.sending import resolve_campaign, resume_campaign
from mailer.errors import MailerError
from mailer.scheduling.one_off import begin_sending, reschedule_campaign
from mailer.scheduling.when import parse_when, zone_named


class NotStarted(MailerError):
    """A paused campaign that never started could not start now either (the issue still has
    errors, the list has nobody to send to); it stays paused, saying why."""

    def __init__(self, campaign_id: int, message: str) -> None:
        self.campaign_id = campaign_id
        super().__init__(message)

    def __reduce__(self) -> tuple[type[NotStarted], tuple[int, str]]:
        return (type(self), (self.campaign_id, str(self)))


class Resumed(StrEnum):
    """What resuming led to."""

    waiting = "waiting"  # paused before its time: scheduled for that time again
    sending = "sending"  # a sender is needed now (the face runs one, or the worker does)
    waves = "waves"  # local-time delivery: the worker sends each wave when it is due


@dataclass(frozen=True)
class Resume:
    campaign: Campaign
    outcome: Resumed


@dataclass(frozen=True)
class Resolved:
    campaign: Campaign
    count: int
    """How many in-doubt recipients were decided (resent or marked sent)."""
    confirmed: int = 0
    """How many SendGrid's events had confirmed, marked sent before the decision."""


class NotQuietYet(MailerError):
    """Unconfirmed in-doubt recipients asked to be resent before the quiet period is over:
    SendGrid's events for them may still be on their way."""

    def __init__(self, campaign_id: int, count: int, when: datetime, minutes: float) -> None:
        self.campaign_id = campaign_id
        self.count = count
        self.when = when
        self.minutes = minutes
        super().__init__(
            f"campaign {campaign_id}: {count} in-doubt recipients are not confirmed by "
            f"SendGrid's events yet, and their events may still arrive; they can be resent "
            f"from {iso(when)} ({minutes:g} minutes after their batch was found in doubt)"
        )

    def __reduce__(self) -> tuple[type[NotQuietYet], tuple[int, int, datetime, float]]:
        return (type(self), (self.campaign_id, self.count, self.when, self.minutes))


def all_campaigns(mailer: Mailer) -> list[Campaign]:
    """Upcoming sends first (soonest first), then the rest, newest first."""
    return stored.all_campaigns(mailer.engine)


def show(mailer: Mailer, campaign_id: int) -> Campaign:
    return stored.show_campaign(mailer.engine, campaign_id)


def check_transport(mailer: Mailer, name: str) -> None:
    """Set the transport up and put it away: a missing key or password is refused now, before
    anything changes, rather than when the first batch goes out."""
    mailer.transport(name).close()


def pause(mailer: Mailer, campaign_id: int) -> Campaign:
    """Takes effect before the next batch: the sender checks the state between batches."""
    return stored.pause_campaign(mailer.engine, campaign_id, mailer.clock)


def cancel(mailer: Mailer, campaign_id: int) -> Campaign:
    """Stops it for good before the next batch; what was sent stays sent."""
    return stored.cancel_campaign(mailer.engine, campaign_id, mailer.clock)


def resume(mailer: Mailer, campaign_id: int) -> Resume:
    """Continue a paused, failed or interrupted campaign. One that was paused before it ever
    started waits for its time again if that is still ahead, and is rendered and started now
    if it is not (NotStarted when it still cannot start)."""
    campaign = show(mailer, campaign_id)
    check_transport(mailer, campaign.transport)
    never_started = campaign.status == CampaignStatus.paused and campaign.started_at is None
    due = campaign.scheduled_at
    if never_started and due is not None and due > mailer.clock():
        return Resume(_wait_again(mailer, campaign), Resumed.waiting)
    if never_started:
        start = begin_sending(
            mailer.engine,
            mailer.settings,
            mailer.renderer,
            campaign_id,
            owner=None,
            clock=mailer.clock,
            from_state=CampaignStatus.paused,
        )
        if start.outcome == "paused":
            raise NotStarted(campaign_id, start.message)
        if start.outcome != "started":  # cancelled or resumed elsewhere meanwhile
            raise MailerError(start.message)
    else:
        resume_campaign(mailer.engine, campaign_id, mailer.clock)
    campaign = show(mailer, campaign_id)
    return Resume(campaign, Resumed.waves if campaign.local_time else Resumed.sending)


def _wait_again(mailer: Mailer, campaign: Campaign) -> Campaign:
    with write_transaction(mailer.engine) as connection:
        moved = move_campaign(
            connection,
            campaign.id,
            Action.wait,
            mailer.clock(),
            only_if=campaigns.c.started_at.is_(None),
            message="",
        )
        if not moved:  # started, cancelled or resumed by someone else meanwhile
            now = stored.find_campaign(connection, campaign.id)
            raise NotAllowed(campaign.id, now.status, Action.wait)
        return stored.find_campaign(connection, campaign.id)


def reschedule(mailer: Mailer, campaign_id: int, at: str, timezone: str | None = None) -> Campaign:
    """Move a scheduled (or missed) campaign to the time ``at`` names, read in ``timezone``
    (else the zone it was scheduled in, else the newsletter's)."""
    current = show(mailer, campaign_id)
    zone_name = timezone or current.zone or mailer.settings.newsletter.timezone
    zone = zone_named(zone_name, "timezone" if timezone else "the campaign's zone")
    when = parse_when(at, zone, mailer.clock())
    return reschedule_campaign(mailer.engine, campaign_id, when, zone_name, mailer.clock)


def resolve(
    mailer: Mailer, campaign_id: int, *, resend: bool, unconfirmed: bool = False
) -> Resolved:
    """Decide the in-doubt recipients. Those SendGrid's events confirmed are marked sent
    first; the rest are sent to again (``resend``: the campaign is sending again, for a sender
    to take up) or counted as sent. ``unconfirmed`` (with ``resend``): resend them only once
    ``[delivery] in_doubt_quiet_minutes`` have passed since their batch was found in doubt
    (NotQuietYet before that, with the confirmed ones still marked sent)."""
    if resend:
        check_transport(mailer, show(mailer, campaign_id).transport)
    minutes = mailer.settings.delivery.in_doubt_quiet_minutes
    quiet = timedelta(minutes=minutes) if resend and unconfirmed else None
    done = resolve_campaign(
        mailer.engine, campaign_id, resend=resend, clock=mailer.clock, quiet=quiet
    )
    campaign = show(mailer, campaign_id)
    if done.not_before is not None:
        raise NotQuietYet(campaign_id, campaign.counts["in_doubt"], done.not_before, minutes)
    return Resolved(campaign, done.count, done.confirmed)
