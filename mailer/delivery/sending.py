"""Sending an issue: plan it (render, check, count), start the campaign (store the content,
snapshot the audience), run it, resume it, resolve its in-doubt rows; and test sends."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from mailer.audience.known_readers import NO_KNOWN_READERS, KnownReader
from mailer.audience.lists import MailingList, find_list
from mailer.audience.named_address import NamedAddress
from mailer.audience.segment_sql import segment_clause
from mailer.audience.segments import parse_segment
from mailer.checks.issue_checks import check_issue
from mailer.clock import Clock, utc_now
from mailer.config import Settings
from mailer.content import find_issue, load_issue
from mailer.db.engine import write_transaction
from mailer.db.tables import campaigns
from mailer.delivery import campaign_audience, ledger, settle
from mailer.delivery.campaign_states import Action, CampaignStatus, check, new_status
from mailer.delivery.campaigns import CampaignNotFound, find_campaign, move_campaign
from mailer.delivery.transports.base import (
    BatchContent,
    BatchResult,
    Outgoing,
    Transport,
    send_now,
)
from mailer.delivery.transports.factory import check_transport_name
from mailer.errors import MailerError
from mailer.links import recipient
from mailer.render.pipeline import RenderedEmail, Renderer
from mailer.render.tokens import MergeTemplate

TEST_PREFIX = "[TEST] "


@dataclass(frozen=True)
class SendPlan:
    rendered: RenderedEmail
    issue_file: str
    mailing_list: MailingList
    segment: str | None
    where: sa.ColumnElement[bool] | None
    transport: str
    recipients: int


def render_checked(settings: Settings, renderer: Renderer, reference: str) -> RenderedEmail:
    """The issue rendered, or an error listing what `mailer check` finds wrong with it."""
    path = find_issue(reference, settings.paths.issues)
    report = check_issue(path, settings, renderer)
    if not report.ok:
        errors = "\n".join(
            f"  {finding}" for finding in report.findings if finding.level == "error"
        )
        raise MailerError(f"{path} has errors, so nothing was sent:\n{errors}")
    return renderer.render(load_issue(path, settings.paths.templates))


def plan_send(
    engine: sa.Engine,
    settings: Settings,
    renderer: Renderer,
    reference: str,
    list_name: str,
    *,
    segment: str | None = None,
    transport: str | None = None,
) -> SendPlan:
    transport = check_transport_name(transport or settings.transport.default)
    where = segment_clause(parse_segment(segment), engine.dialect.name) if segment else None
    with engine.connect() as connection:
        mailing_list = find_list(connection, list_name)
        count = campaign_audience.count_audience(connection, mailing_list.id, where)
    if count == 0:
        chosen = f" matching the segment {segment!r}" if segment else ""
        raise MailerError(
            f"the list {list_name!r} has no confirmed, unsuppressed subscribers{chosen}; "
            "nothing to send"
        )
    rendered = render_checked(settings, renderer, reference)
    return SendPlan(
        rendered, str(rendered.issue.path), mailing_list, segment, where, transport, count
    )


def campaign_values(plan: SendPlan, now: datetime) -> dict[str, Any]:
    """The campaigns row for a plan: what is sent, to whom, how."""
    return {
        "issue_number": plan.rendered.issue.number,
        "issue_file": plan.issue_file,
        "list_id": plan.mailing_list.id,
        "list_name": plan.mailing_list.name,
        "segment": plan.segment,
        "transport": plan.transport,
        "subject": plan.rendered.subject,
        "created_at": now,
        "updated_at": now,
    }


def content_values(rendered: RenderedEmail) -> dict[str, Any]:
    """The content a campaign stores when it starts: what its sends and resumes use, and what
    the public archive shows (with whether the issue may be shown there at all)."""
    return {
        "subject": rendered.subject,
        "html": rendered.html,
        "text": rendered.text,
        "title": rendered.issue.meta.title,
        "preheader": rendered.preheader,
        "archived": rendered.issue.meta.archive,
    }


def start_campaign(engine: sa.Engine, plan: SendPlan, clock: Clock = utc_now) -> int:
    """Store the campaign with its content and snapshot its audience, in one transaction."""
    now = clock()
    with write_transaction(engine) as connection:
        result = connection.execute(
            sa.insert(campaigns).values(
                {
                    **campaign_values(plan, now),
                    **content_values(plan.rendered),
                    "status": new_status(Action.send).value,
                    "started_at": now,
                }
            )
        )
        key = result.inserted_primary_key
        assert key is not None
        campaign_id = int(key[0])
        campaign_audience.snapshot(connection, campaign_id, plan.mailing_list.id, plan.where, now)
    return campaign_id


def campaign_content(engine: sa.Engine, settings: Settings, campaign_id: int) -> BatchContent:
    """The content stored when the campaign started: exactly what went out so far."""
    with engine.connect() as connection:
        row = connection.execute(
            sa.select(
                campaigns.c.subject, campaigns.c.html, campaigns.c.text, campaigns.c.list_name
            ).where(campaigns.c.id == campaign_id)
        ).first()
    if row is None:
        raise CampaignNotFound(campaign_id)
    if row.html is None:
        raise MailerError(f"campaign {campaign_id} has not started: it has no content yet")
    return BatchContent(
        subject=row.subject,
        html=MergeTemplate(row.html),
        text=MergeTemplate(row.text),
        newsletter=settings.newsletter,
        list_name=row.list_name,
        campaign_id=campaign_id,
    )


def resume_campaign(engine: sa.Engine, campaign_id: int, clock: Clock = utc_now) -> str:
    """Make a paused (or crashed) campaign sendable again; returns its transport."""
    with write_transaction(engine) as connection:
        campaign = find_campaign(connection, campaign_id)
        check(campaign_id, campaign.status, Action.resume)
        # One still sending was interrupted: whoever sends it now takes it over as it is.
        if campaign.status != CampaignStatus.sending:
            move_campaign(connection, campaign_id, Action.resume, clock(), message="")
    return campaign.transport


class NothingInDoubt(MailerError):
    """Resolving a campaign none of whose recipients is in doubt."""


@dataclass(frozen=True)
class Resolution:
    """What resolving a campaign's in-doubt rows did."""

    confirmed: int
    """Rows SendGrid's events showed were sent, marked sent first."""
    count: int
    """Rows then decided (resent or marked sent)."""
    transport: str
    not_before: datetime | None = None
    """Set when the unconfirmed rows could not be resent yet: when they can."""


def resolve_campaign(
    engine: sa.Engine,
    campaign_id: int,
    *,
    resend: bool,
    clock: Clock = utc_now,
    quiet: timedelta | None = None,
) -> Resolution:
    """Decide the in_doubt rows: first those SendGrid's events confirmed are marked sent,
    then the rest are resent (or marked sent). With ``quiet``, only resent once that long
    has passed since their last batch was found in doubt (else ``not_before`` says when, and
    only the confirmed ones changed)."""
    now = clock()
    with write_transaction(engine) as connection:
        find_campaign(connection, campaign_id)  # CampaignNotFound before anything else
        confirmed = settle.settle_campaign(connection, campaign_id, now)
        campaign = find_campaign(connection, campaign_id)
        if not campaign.counts.get("in_doubt"):
            if confirmed:  # the events decided every one of them
                return Resolution(confirmed, 0, campaign.transport)
            raise NothingInDoubt(f"campaign {campaign_id} has no in_doubt recipients")
        if resend and campaign.status == CampaignStatus.cancelled:
            raise MailerError(f"campaign {campaign_id} was cancelled; nothing is resent")
        if resend:
            check(campaign_id, campaign.status, Action.resend)
        if quiet is not None:
            until = settle.in_doubt(connection, campaign_id).quiet_until(quiet)
            if until is not None and now < until:
                return Resolution(confirmed, 0, campaign.transport, not_before=until)
            count = settle.resend_unconfirmed(connection, campaign_id, now)
        else:
            count = ledger.resolve_in_doubt(connection, campaign_id, resend=resend, now=now)
        if resend:
            move_campaign(connection, campaign_id, Action.resend, now)
    return Resolution(confirmed, count, campaign.transport)


def send_test_copies(
    settings: Settings,
    rendered: RenderedEmail,
    readers: Sequence[NamedAddress],
    transport: Transport,
    link_key: bytes,
    known: Mapping[str, KnownReader] = NO_KNOWN_READERS,
) -> BatchResult:
    """Send the issue to readers that need not be subscribers (their addresses checked as an
    import checks them, see named_address), the subject marked [TEST]. A reader ``known`` as a
    subscriber (by address key) gets their stored attributes, and their name unless one is
    given."""
    base_url = settings.newsletter.base_url
    outgoing = []
    for index, reader in enumerate(readers):
        email = reader.address.email
        stored = known.get(reader.address.key)
        name = reader.name or (stored.name if stored else "")
        attributes = stored.attributes if stored else None
        copy_for = recipient(base_url, link_key, email, name, attributes, list_name="test")
        outgoing.append(Outgoing(index, copy_for))
    content = BatchContent(
        subject=TEST_PREFIX + rendered.subject,
        html=rendered.html_merge,
        text=rendered.text_merge,
        newsletter=settings.newsletter,
        list_name="test",
    )
    try:
        return send_now(transport, content, outgoing)
    finally:
        transport.close()
