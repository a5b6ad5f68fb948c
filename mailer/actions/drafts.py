"""Campaign drafts on behalf of a principal: saved, changed and deleted with ``edit_issues``
(an editor's right); sent or scheduled with ``send``, so a newsletter can let editors draft
what only others send. Each change in the audit log: ``campaign.draft``,
``campaign.draft_edit``, ``campaign.draft_delete``, and ``campaign.send`` or
``campaign.schedule`` (with ``"from": "draft"``) when it goes out.

A draft's refusals name their field as a new campaign's do; a draft that is no longer one
(sent, scheduled or cancelled by someone else meanwhile) is a ConflictError naming its state.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mailer.accounts.roles import Permission, Principal
from mailer.actions.campaigns import (
    ISSUE_MAX,
    Created,
    SendRequest,
    plain,
    plan_request,
    record_campaign,
)
from mailer.app import Mailer
from mailer.audience.segments import SegmentError
from mailer.delivery.campaign_states import EDITOR_MOVES, CampaignStatus, EditorAction, check
from mailer.delivery.campaigns import Campaign, CampaignNotFound
from mailer.delivery.drafts import Draft, DraftValues
from mailer.errors import ConflictError, FieldError, MailerError, NotFoundError
from mailer.services import drafts, sends
from mailer.services.sends import SendTime

# Who may do what to a campaign: a draft's own actions as set here, the rest manage_campaigns.
PERMISSIONS = {
    EditorAction.edit: Permission.EDIT_ISSUES,
    EditorAction.delete: Permission.EDIT_ISSUES,
    EditorAction.send: Permission.SEND,
    EditorAction.schedule: Permission.SEND,
}
TIME_FIELDS = ("at", "timezone", "local_time")


def permission_for(action: EditorAction) -> Permission:
    return PERMISSIONS.get(action, Permission.MANAGE_CAMPAIGNS)


def offered_actions(principal: Principal, campaign: Campaign) -> list[EditorAction]:
    """What the campaign's state allows now that ``principal`` may do."""
    return [action for action in campaign.actions if principal.can(permission_for(action))]


def _when(mailer: Mailer, asked: SendRequest) -> SendTime | None:
    for field in ("list", "segment", *TIME_FIELDS):
        plain(field, getattr(asked, "list_name" if field == "list" else field))
    if asked.timezone and asked.at is None:
        raise FieldError("timezone", "says which zone the time is in; give the time too")
    return sends.send_time(mailer, asked.at, asked.timezone or None, asked.local_time)


def _values(mailer: Mailer, asked: SendRequest, when: SendTime | None) -> DraftValues:
    """What the draft stores, each refusal naming its field."""
    if not 1 <= asked.issue <= ISSUE_MAX:
        raise FieldError("issue", f"give an issue number from 1 to {ISSUE_MAX}", str(asked.issue))
    try:
        return drafts.draft_values(mailer, asked.issue, asked.list_name, asked.segment, when)
    except NotFoundError as exc:
        raise FieldError("list", str(exc), asked.list_name) from None
    except SegmentError as exc:
        raise FieldError("segment", str(exc)) from None
    except MailerError as exc:  # no such issue file, or one that cannot be read
        raise FieldError("issue", str(exc), str(asked.issue)) from None


def create_draft(mailer: Mailer, principal: Principal, asked: SendRequest) -> Campaign:
    """Save a draft of the issue to the list (a segment and a time optional); nothing is
    due and nobody is counted in until it is sent or scheduled."""
    principal.require(Permission.EDIT_ISSUES)
    campaign = drafts.save(mailer, _values(mailer, asked, _when(mailer, asked)))
    record_campaign(mailer, principal, "draft", campaign, _detail(campaign))
    return campaign


def edit_draft(
    mailer: Mailer, principal: Principal, campaign_id: int, asked: SendRequest
) -> Campaign:
    """Replace what the draft holds by ``asked`` (its time too: none given, none kept)."""
    principal.require(Permission.EDIT_ISSUES)
    before = _draft(mailer, campaign_id, EditorAction.edit).campaign
    return _edit(mailer, principal, before, asked, _when(mailer, asked))


def change_draft(
    mailer: Mailer, principal: Principal, campaign_id: int, changes: Mapping[str, Any]
) -> Campaign:
    """Change only the fields ``changes`` names (``issue``, ``list``, ``segment``, and the
    time: when any of ``at``, ``timezone``, ``local_time`` is named, the time is what they
    say, else the draft's is kept)."""
    principal.require(Permission.EDIT_ISSUES)
    before = _draft(mailer, campaign_id, EditorAction.edit).campaign
    asked = SendRequest(
        issue=changes.get("issue", before.issue_number),
        list_name=changes.get("list", before.list_name),
        segment=changes.get("segment", before.segment),
        at=changes.get("at"),
        timezone=changes.get("timezone"),
        local_time=changes.get("local_time"),
    )
    if any(field in changes for field in TIME_FIELDS):
        when = _when(mailer, asked)
    else:
        _when(mailer, asked)  # the other fields' checks; the time is the draft's own
        when = drafts.planned_time(mailer, before)
    return _edit(mailer, principal, before, asked, when)


def _edit(
    mailer: Mailer,
    principal: Principal,
    before: Campaign,
    asked: SendRequest,
    when: SendTime | None,
) -> Campaign:
    after = drafts.edit(mailer, before.id, _values(mailer, asked, when))
    record_campaign(
        mailer, principal, "draft_edit", after, {"before": _detail(before)} | _detail(after)
    )
    return after


def delete_draft(mailer: Mailer, principal: Principal, campaign_id: int) -> None:
    principal.require(Permission.EDIT_ISSUES)
    before = _draft(mailer, campaign_id, EditorAction.delete).campaign
    drafts.delete(mailer, campaign_id)
    record_campaign(mailer, principal, "draft_delete", before, _detail(before))


def send_draft(
    mailer: Mailer,
    principal: Principal,
    campaign_id: int,
    *,
    again: bool = False,
    allow_draft: bool = False,
) -> Created:
    """Send the draft now (``mailer worker`` sends it): planned as a new campaign is, its
    audience taken now; ``again`` and ``allow_draft`` as for a new campaign."""
    principal.require(Permission.SEND)
    draft = _draft(mailer, campaign_id, EditorAction.send)
    asked = _request(draft.campaign, again, allow_draft)
    plan = plan_request(mailer, principal, asked, draft_id=campaign_id)
    campaign = drafts.send(mailer, draft, plan)
    detail = _detail(campaign) | {"from": "draft", "recipients": plan.recipients}
    record_campaign(mailer, principal, "send", campaign, detail)
    return Created(campaign, False, plan.recipients)


def schedule_draft(
    mailer: Mailer,
    principal: Principal,
    campaign_id: int,
    *,
    at: str | None = None,
    timezone: str | None = None,
    local_time: str | None = None,
    again: bool = False,
    allow_draft: bool = False,
) -> Created:
    """Schedule the draft: at the time given here, else at its own (a FieldError for ``at``
    when it has none, or when that time has passed); ``again`` and ``allow_draft`` as for a
    new campaign."""
    principal.require(Permission.SEND)
    draft = _draft(mailer, campaign_id, EditorAction.schedule)
    asked = _request(draft.campaign, again, allow_draft)
    if at is not None or timezone is not None or local_time is not None:
        retimed = SendRequest(asked.issue, asked.list_name, None, at, timezone, local_time)
        when = _when(mailer, retimed)
    else:
        when = drafts.planned_time(mailer, draft.campaign)
    if when is None:
        raise FieldError("at", "give the time to send it: the draft has none")
    plan = plan_request(mailer, principal, asked, draft_id=campaign_id)
    campaign = drafts.schedule(mailer, draft, plan, when)
    detail = _detail(campaign) | {"from": "draft", "recipients": plan.recipients}
    record_campaign(mailer, principal, "schedule", campaign, detail)
    return Created(campaign, True, plan.recipients)


def _draft(mailer: Mailer, campaign_id: int, action: EditorAction) -> Draft:
    """The draft asked for by its number (NotFoundError if none), if it is still one (a
    ConflictError naming its state if not)."""
    try:
        found = drafts.read(mailer, campaign_id)
    except CampaignNotFound:
        raise NotFoundError(f"there is no campaign {campaign_id}") from None
    move = EDITOR_MOVES[action]
    assert move is not None
    status = found.campaign.status
    if action is EditorAction.delete and status != CampaignStatus.draft:
        raise ConflictError(
            f"campaign {campaign_id} is {status}; only a draft campaign can be deleted"
        )
    check(campaign_id, status, move)
    return found


def _request(campaign: Campaign, again: bool = False, allow_draft: bool = False) -> SendRequest:
    return SendRequest(
        campaign.issue_number,
        campaign.list_name,
        campaign.segment,
        again=again,
        allow_draft=allow_draft,
    )


def _detail(campaign: Campaign) -> dict[str, Any]:
    return {
        "issue": campaign.issue_number,
        "list": campaign.list_name,
        "segment": campaign.segment,
        "scheduled_at": campaign.scheduled_at.isoformat() if campaign.scheduled_at else None,
        "zone": campaign.zone,
        "local_time": campaign.local_time,
    }
