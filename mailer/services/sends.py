"""Sending an issue to a list: now, at a time, or at a time of day in each subscriber's zone.

A face plans the send (the issue rendered and checked, the audience counted, the transport's
settings checked), asks the editor to confirm if it does, then sends or schedules. A time
that passed while the editor was confirming is refused, not sent at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from mailer.app import Mailer
from mailer.audience.lists import find_list
from mailer.audience.segment_sql import segment_clause
from mailer.audience.segments import parse_segment
from mailer.delivery.campaign_audience import count_audience
from mailer.delivery.campaigns import Campaign, show_campaign
from mailer.delivery.local_time import parse_clock
from mailer.delivery.send_guards import check_not_draft, check_not_sent
from mailer.delivery.sending import SendPlan, plan_send, start_campaign
from mailer.scheduling.one_off import schedule_campaign, shown
from mailer.scheduling.when import WhenError, parse_when, zone_named
from mailer.services.campaigns import check_transport


@dataclass(frozen=True)
class SendTime:
    """When a scheduled send goes out."""

    at: datetime
    """In UTC: the time asked for, or when it was asked (local-time delivery from now on)."""
    zone: str
    """The zone the time was given in, to show it the way the editor wrote it."""
    local_time: str | None
    """``HH:MM`` in each subscriber's zone, the first time it comes round from ``at``."""
    typed: str | None
    """The text the time was read from (None: from now), to name in a refusal."""

    def shown(self) -> str:
        return shown(self.at, self.zone)


def plan(
    mailer: Mailer,
    issue: str,
    list_name: str,
    *,
    segment: str | None = None,
    transport: str | None = None,
    again: bool = False,
    allow_draft: bool = False,
    draft_id: int | None = None,
) -> SendPlan:
    """The issue (a number or a file) rendered and checked, the list's audience counted, and
    the transport's settings checked, before anything is stored. An issue still a draft is
    refused (DraftIssue) unless ``allow_draft``, and one the list got already (or will: a
    campaign of it is scheduled, sending, paused...) is refused (AlreadySent) unless
    ``again`` (``draft_id``: the draft campaign being sent, which does not count)."""
    found = plan_send(
        mailer.engine,
        mailer.settings,
        mailer.renderer,
        issue,
        list_name,
        segment=segment,
        transport=transport,
    )
    if not allow_draft:
        check_not_draft(found.rendered)
    if not again:
        zone = mailer.settings.newsletter.timezone
        number, chosen = found.rendered.issue.number, found.mailing_list
        check_not_sent(mailer.engine, number, chosen.id, chosen.name, zone, draft_id)
    check_transport(mailer, found.transport)
    return found


def audience_size(mailer: Mailer, list_name: str, segment: str | None = None) -> int:
    """How many a send to the list (only those matching ``segment`` when given) would reach
    now: its confirmed, unsuppressed members. An unknown list (NotFoundError) or a segment
    that cannot be read (SegmentError) is refused before anything is counted."""
    where = segment_clause(parse_segment(segment), mailer.engine.dialect.name) if segment else None
    with mailer.engine.connect() as connection:
        return count_audience(connection, find_list(connection, list_name).id, where)


def send_time(
    mailer: Mailer, at: str | None, timezone: str | None = None, local_time: str | None = None
) -> SendTime | None:
    """When to send: ``at`` read in ``timezone`` (else the newsletter's zone), and with
    ``local_time`` each subscriber at that time of day in their own zone; None: now."""
    if at is None and local_time is None:
        return None
    zone_name = timezone or mailer.settings.newsletter.timezone
    zone = zone_named(zone_name, "timezone" if timezone else "newsletter.timezone")
    now = mailer.clock()
    when = parse_when(at, zone, now) if at is not None else now
    clock_text = f"{parse_clock(local_time):%H:%M}" if local_time is not None else None
    return SendTime(when, zone_name, clock_text, at)


def send_now(mailer: Mailer, plan: SendPlan) -> int:
    """Store the campaign with its content and audience; it is sending, for a sender to run
    (returns its id)."""
    return start_campaign(mailer.engine, plan, mailer.clock)


def schedule(mailer: Mailer, plan: SendPlan, when: SendTime) -> Campaign:
    """Store the campaign for ``mailer worker`` to start at its time; the issue is rendered
    again then, so later edits go out. A time given that has passed by now (the editor took
    longer to confirm than was left) is refused."""
    if when.typed is not None and when.at <= mailer.clock():
        raise WhenError("at", f"{when.shown()} has passed; give a later time", when.typed)
    campaign_id = schedule_campaign(
        mailer.engine, plan, when.at, when.zone, local_clock=when.local_time, clock=mailer.clock
    )
    return show_campaign(mailer.engine, campaign_id)
