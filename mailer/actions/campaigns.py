"""Campaigns on behalf of a principal: read with ``read``; sent or scheduled with ``send``;
paused, resumed, rescheduled, cancelled and resolved with ``manage_campaigns``, and only by
the actions the campaign's state allows now (``Campaign.actions``); each change in the audit
log.

Drafts (saved by editors, sent or scheduled later by those who may send) are
``mailer.actions.drafts``. Nothing here sends: a campaign sent now is stored as sending with
no sender, and ``mailer worker`` takes it up (as it does a scheduled one when its time
comes), so a send outlives the web request and the web process. The core's services commit
their own transactions; each audit entry is written just after the change it records.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import islice
from typing import Any

from mailer.accounts import audit
from mailer.accounts.roles import Permission, Principal
from mailer.actions.paging import Page, check_limit, page_of
from mailer.app import Mailer
from mailer.audience.segments import SegmentError
from mailer.catalog import catalog
from mailer.content import find_issue
from mailer.db.engine import write_transaction
from mailer.delivery.campaign_states import (
    DRAFT_ACTIONS,
    EDITOR_MOVES,
    IN_DOUBT_ONLY,
    EditorAction,
    NotAllowed,
)
from mailer.delivery.campaigns import Campaign, CampaignNotFound
from mailer.delivery.ledger_listing import RecipientRow
from mailer.delivery.send_guards import AlreadySent, DraftIssue
from mailer.delivery.sending import SendPlan
from mailer.errors import ConflictError, FieldError, MailerError, NotFoundError
from mailer.events import report
from mailer.events.report import CampaignReport
from mailer.services import campaign_recipients, sends
from mailer.services import campaigns as service

ISSUE_MAX = 999_999
# Control characters have no place in a list's name, a segment, a time or a zone (and a NUL
# would fail in PostgreSQL rather than be refused).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def plain(field: str, value: str | None) -> None:
    if value is not None and _CONTROL.search(value):
        raise FieldError(field, "must not hold control characters (line breaks, tabs, NUL...)")


@dataclass(frozen=True)
class SendRequest:
    """What an editor asks for: an issue (by number) to a list, optionally a segment of it;
    now, or ``at`` (read in ``timezone``, else the newsletter's zone), and with
    ``local_time`` each subscriber at that time of day in their own zone."""

    issue: int
    list_name: str
    segment: str | None = None
    at: str | None = None
    timezone: str | None = None
    local_time: str | None = None
    again: bool = False
    """Send even though the list got the issue already (or will: see ``send_guards``)."""
    allow_draft: bool = False
    """Send even though the issue's front matter marks it a draft."""


@dataclass(frozen=True)
class Created:
    campaign: Campaign
    scheduled: bool
    """False: sending now (for ``mailer worker``); True: waiting for its time."""
    recipients: int
    """The audience counted when it was made."""


def campaigns_page(
    mailer: Mailer, principal: Principal, *, after: int | None, limit: int
) -> Page[Campaign, int]:
    """Upcoming sends first (soonest first), then the rest, newest first; the page after the
    campaign ``after`` (from the first when None, or when that campaign is gone)."""
    principal.require(Permission.READ)
    found = service.all_campaigns(mailer)
    if after is not None:
        ids = [campaign.id for campaign in found]
        found = found[ids.index(after) + 1 :] if after in ids else []
    return page_of(found, check_limit(limit), lambda campaign: campaign.id)


def show_campaign(mailer: Mailer, principal: Principal, campaign_id: int) -> Campaign:
    principal.require(Permission.READ)
    return _found(mailer, campaign_id)


def _found(mailer: Mailer, campaign_id: int) -> Campaign:
    """The campaign asked for by its number (in a path, not a field): NotFoundError if none."""
    try:
        return service.show(mailer, campaign_id)
    except CampaignNotFound:
        raise NotFoundError(f"there is no campaign {campaign_id}") from None


def audience_count(
    mailer: Mailer, principal: Principal, list_name: str, segment: str | None = None
) -> int:
    """How many a send to the list (and segment) would reach now; an unknown list or a
    segment that cannot be read is refused naming its field."""
    principal.require(Permission.READ)
    plain("list", list_name)
    plain("segment", segment)
    try:
        return sends.audience_size(mailer, list_name, segment or None)
    except NotFoundError as exc:
        raise FieldError("list", str(exc), list_name) from None
    except SegmentError as exc:
        raise FieldError("segment", str(exc)) from None


def create_campaign(mailer: Mailer, principal: Principal, asked: SendRequest) -> Created:
    """Send the issue now (for the worker to send) or schedule it; needs ``send``."""
    principal.require(Permission.SEND)
    for field in ("list", "segment", "at", "timezone", "local_time"):
        plain(field, getattr(asked, "list_name" if field == "list" else field))
    if asked.timezone and asked.at is None:
        raise FieldError("timezone", "says which zone the time is in; give the time too")
    when = sends.send_time(mailer, asked.at, asked.timezone or None, asked.local_time)
    plan = plan_request(mailer, principal, asked)
    if when is None:
        campaign = service.show(mailer, sends.send_now(mailer, plan))
    else:
        campaign = sends.schedule(mailer, plan, when)
    detail = {
        "issue": campaign.issue_number,
        "list": campaign.list_name,
        "segment": campaign.segment,
        "recipients": plan.recipients,
        "scheduled_at": None if when is None else when.shown(),
        "local_time": None if when is None else when.local_time,
    }
    record_campaign(mailer, principal, "schedule" if when else "send", campaign, detail)
    return Created(campaign, when is not None, plan.recipients)


def plan_request(
    mailer: Mailer, principal: Principal, asked: SendRequest, draft_id: int | None = None
) -> SendPlan:
    """The send planned by the core, each refusal naming the field it is about (the time
    aside: ``asked``'s issue, list and segment); ``draft_id``: the draft being sent."""
    if not 1 <= asked.issue <= ISSUE_MAX:
        raise FieldError("issue", f"give an issue number from 1 to {ISSUE_MAX}", str(asked.issue))
    try:  # a number only: a path would let a request read any file on the server
        issue_file = find_issue(str(asked.issue), mailer.settings.paths.issues)
    except MailerError as exc:
        raise FieldError("issue", str(exc), str(asked.issue)) from None
    recipients = audience_count(mailer, principal, asked.list_name, asked.segment)
    if recipients == 0:
        chosen = " matching the segment" if asked.segment else ""
        raise FieldError(
            "segment" if asked.segment else "list",
            f"nobody{chosen} is a confirmed, unsuppressed subscriber; nothing to send",
        )
    service.check_transport(mailer, mailer.settings.transport.default)
    try:
        return sends.plan(
            mailer,
            str(issue_file),
            asked.list_name,
            segment=asked.segment or None,
            again=asked.again,
            allow_draft=asked.allow_draft,
            draft_id=draft_id,
        )
    except (FieldError, AlreadySent):  # AlreadySent: a conflict the face words (``again``)
        raise
    except DraftIssue as exc:  # sent anyway with ``allow_draft``
        raise FieldError("allow_draft", str(exc)) from None
    except MailerError as exc:  # the issue has errors (what `mailer check` finds)
        raise FieldError("issue", str(exc), str(asked.issue)) from None


def act(
    mailer: Mailer,
    principal: Principal,
    campaign_id: int,
    action: EditorAction,
    *,
    at: str | None = None,
    timezone: str | None = None,
) -> Campaign:
    """Do ``action`` to the campaign if its state allows it now (a ConflictError naming the
    state if not); ``at`` and ``timezone`` are the new time of a reschedule."""
    principal.require(Permission.MANAGE_CAMPAIGNS)
    if action in DRAFT_ACTIONS:
        raise ValueError(f"{action} is a draft's: see mailer.actions.drafts")
    plain("at", at)
    plain("timezone", timezone)
    before = _found(mailer, campaign_id)
    if action not in before.actions:
        _refuse(before, action)
    detail: dict[str, Any] = {"from": before.status}
    if action is EditorAction.pause:
        after = service.pause(mailer, campaign_id)
    elif action is EditorAction.cancel:
        after = service.cancel(mailer, campaign_id)
    elif action is EditorAction.resume:
        resumed = service.resume(mailer, campaign_id)
        after = resumed.campaign
        detail["outcome"] = str(resumed.outcome)
    elif action is EditorAction.reschedule:
        if not at:
            raise FieldError("at", "give the new time")
        after = service.reschedule(mailer, campaign_id, at, timezone or None)
        detail["scheduled_at"] = after.scheduled_at.isoformat() if after.scheduled_at else None
        detail["zone"] = after.zone
    else:
        resolved = service.resolve(mailer, campaign_id, resend=action is EditorAction.resend)
        after = resolved.campaign
        detail |= {"decided": resolved.count, "confirmed_by_events": resolved.confirmed}
    detail["to"] = after.status
    record_campaign(mailer, principal, str(action), after, detail)
    return after


def _refuse(campaign: Campaign, action: EditorAction) -> None:
    """Why ``action`` is not allowed now: the state, or no recipients in doubt to resolve."""
    move = EDITOR_MOVES[action]
    if action in IN_DOUBT_ONLY and not campaign.counts.get("in_doubt", 0):
        raise ConflictError(
            f"campaign {campaign.id} is {campaign.status} and has no recipients in doubt; "
            "there is nothing to resolve"
        )
    assert move is not None  # mark_sent is refused above or allowed in every state
    raise NotAllowed(campaign.id, campaign.status, move)


def recipients_page(
    mailer: Mailer,
    principal: Principal,
    campaign_id: int,
    *,
    status: str | None,
    after: int | None,
    limit: int,
) -> Page[RecipientRow, int]:
    """The campaign's recipients by subscriber id after ``after``, those in ``status`` only
    when given."""
    principal.require(Permission.READ)
    _found(mailer, campaign_id)
    wanted = check_limit(limit) + 1
    rows = campaign_recipients.recipients(mailer, campaign_id, status, after=after or 0)
    return page_of(list(islice(rows, wanted)), limit, lambda row: row.subscriber_id)


def record_campaign(
    mailer: Mailer, principal: Principal, verb: str, campaign: Campaign, detail: dict[str, Any]
) -> None:
    """The audit entry ``campaign.<verb>`` of a change the core has made (and committed)."""
    with write_transaction(mailer.engine) as connection:
        audit.record(
            connection,
            principal.actor,
            f"campaign.{verb}",
            f"campaign {campaign.id}",
            detail,
            mailer.clock(),
        )


def campaign_report(mailer: Mailer, principal: Principal, campaign_id: int) -> CampaignReport:
    """What happened to the campaign's mail: the ledger and, once events came, delivered,
    bounced, opened, clicked."""
    principal.require(Permission.READ)
    _found(mailer, campaign_id)
    return report.campaign_report(mailer.engine, campaign_id)


@dataclass(frozen=True)
class IssueChoice:
    number: int
    title: str


def issue_choices(mailer: Mailer, principal: Principal) -> list[IssueChoice]:
    """The issues that can be sent, newest first: each readable issue file by its number (one
    that cannot be read is left out; ``mailer check`` says why)."""
    principal.require(Permission.READ)
    paths = mailer.settings.paths
    found = [
        IssueChoice(entry.issue.meta.number, entry.issue.meta.title)
        for entry in catalog(paths.issues, paths.templates)
        if entry.issue is not None
    ]
    return sorted(found, key=lambda choice: -choice.number)
