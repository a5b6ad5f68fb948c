"""Campaign drafts on the application: save one (the issue found and read, the list found, the
segment read, the time read), change it, delete it, and send or schedule it once planned as
any send is (``sends.plan``: the issue checked, the audience counted, the transport's
settings checked).

A draft needs no working issue: an editor may save one while the issue still has errors; the
send says what they are.
"""

from __future__ import annotations

from mailer.app import Mailer
from mailer.audience.lists import find_list
from mailer.audience.segments import parse_segment
from mailer.content import find_issue, load_issue
from mailer.delivery import drafts as stored
from mailer.delivery.campaigns import Campaign, show_campaign
from mailer.delivery.drafts import Draft, DraftValues
from mailer.delivery.sending import SendPlan
from mailer.scheduling.when import WhenError
from mailer.services.sends import SendTime


def draft_values(
    mailer: Mailer, issue: int, list_name: str, segment: str | None, when: SendTime | None
) -> DraftValues:
    """What a draft of ``issue`` to ``list_name`` stores. The issue must be found and read
    (MailerError), the list must exist (NotFoundError) and the segment be readable
    (SegmentError); ``when`` is kept as a plan (a time given, else only the zone and the
    time of day)."""
    paths = mailer.settings.paths
    path = find_issue(str(issue), paths.issues)
    meta = load_issue(path, paths.templates).meta
    if segment:
        parse_segment(segment)
    with mailer.engine.connect() as connection:
        mailing_list = find_list(connection, list_name)
    return DraftValues(
        issue_number=meta.number,
        issue_file=str(path),
        list_id=mailing_list.id,
        list_name=mailing_list.name,
        segment=segment or None,
        transport=mailer.settings.transport.default,
        subject=meta.subject,
        scheduled_at=when.at if when is not None and when.typed is not None else None,
        zone=when.zone if when is not None else None,
        local_time=when.local_time if when is not None else None,
    )


def save(mailer: Mailer, values: DraftValues) -> Campaign:
    return show_campaign(mailer.engine, stored.save_draft(mailer.engine, values, mailer.clock))


def edit(mailer: Mailer, campaign_id: int, values: DraftValues) -> Campaign:
    return stored.edit_draft(mailer.engine, campaign_id, values, mailer.clock)


def delete(mailer: Mailer, campaign_id: int) -> None:
    stored.delete_draft(mailer.engine, campaign_id)


def read(mailer: Mailer, campaign_id: int) -> Draft:
    return stored.read_draft(mailer.engine, campaign_id)


def planned_time(mailer: Mailer, campaign: Campaign) -> SendTime | None:
    """When the draft itself says it should go out; None when it says nothing."""
    if campaign.scheduled_at is None and campaign.local_time is None:
        return None
    zone = campaign.zone or mailer.settings.newsletter.timezone
    if campaign.scheduled_at is None:  # each subscriber's time of day, from now on
        return SendTime(mailer.clock(), zone, campaign.local_time, None)
    typed = SendTime(campaign.scheduled_at, zone, campaign.local_time, "").shown()
    return SendTime(campaign.scheduled_at, zone, campaign.local_time, typed)


def send(mailer: Mailer, draft: Draft, plan: SendPlan) -> Campaign:
    """Sending at once, for ``mailer worker`` to send (NotAllowed if someone else sent,
    scheduled or cancelled it first)."""
    stored.send_draft(mailer.engine, draft, plan, mailer.clock)
    return show_campaign(mailer.engine, draft.campaign.id)


def schedule(mailer: Mailer, draft: Draft, plan: SendPlan, when: SendTime) -> Campaign:
    """Due at ``when``, for ``mailer worker`` to start then; a time that has passed is
    refused (a draft's own time may have, since it was saved)."""
    if when.typed is not None and when.at <= mailer.clock():
        raise WhenError("at", f"{when.shown()} has passed; give a later time", when.typed)
    stored.schedule_draft(
        mailer.engine,
        draft,
        plan,
        when.at,
        when.zone,
        local_clock=when.local_time,
        clock=mailer.clock,
    )
    return show_campaign(mailer.engine, draft.campaign.id)
