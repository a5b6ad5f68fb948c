"""Campaign drafts in the REST API (``POST /campaigns`` with ``"draft": true`` saves one):
``PATCH`` and ``DELETE /campaigns/{id}`` (a draft only) with a token that edits issues (editors
and up); ``POST /campaigns/{id}/send`` and ``/schedule`` with one that may send. A campaign
that is no longer a draft is a 409 naming its state."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response
from pydantic import AfterValidator, BaseModel, Field

from mailer.accounts.roles import Permission, Principal
from mailer.actions import drafts as actions
from mailer.actions.campaigns import ISSUE_MAX
from mailer.api.auth import AppMailer, authorized
from mailer.api.campaigns import (
    INPUT,
    Again,
    AllowDraft,
    At,
    CampaignId,
    CampaignOut,
    Timezone,
    again_said,
)
from mailer.api.lists import NAME_PATTERN
from mailer.api.problems import problem_responses
from mailer.api.text import ONE_LINE, one_line
from mailer.errors import FieldError

router = APIRouter(prefix="/campaigns", tags=["campaigns"])
Editor = Annotated[Principal, Depends(authorized(Permission.EDIT_ISSUES))]
Sender = Annotated[Principal, Depends(authorized(Permission.SEND))]
CHANGE_RESPONSES = problem_responses(400, 401, 403, 404, 409, 413, 415, 422, 429, 500)
LocalTime = Annotated[
    str,
    Field(
        pattern=r"^[0-9]{1,2}:[0-9]{2}$",
        description="Each subscriber at this time of day (HH:MM) in their own zone.",
    ),
]


class DraftChange(BaseModel):
    """Only the fields given change. Naming any of `at`, `timezone`, `local_time` sets the
    time to what they say (null or left out: none); naming none keeps the draft's time."""

    model_config = INPUT
    issue: int | None = Field(None, ge=1, le=ISSUE_MAX, description="The issue's number.")
    list: str | None = Field(None, pattern=NAME_PATTERN, description="The list's name.")
    segment: Annotated[
        str | None,
        Field(
            max_length=2000,
            description="Only members matching it; null: the whole list.",
            json_schema_extra=ONE_LINE,
        ),
        AfterValidator(lambda value: None if value is None else one_line(value)),
    ] = None
    at: At | None = None
    timezone: Timezone | None = None
    local_time: LocalTime | None = None


class SendIn(BaseModel):
    """Whether to send it anyway (no body: neither)."""

    model_config = INPUT
    again: Again = False
    allow_draft: AllowDraft = False


class ScheduleIn(SendIn):
    """When to send the draft; nothing given (or no body): at the draft's own time."""

    at: At | None = None
    timezone: Timezone | None = None
    local_time: LocalTime | None = None


@router.patch(
    "/{campaign_id}",
    summary="Change a draft",
    description="A draft only (409 otherwise); a token that edits issues.",
    response_model=CampaignOut,
    responses=CHANGE_RESPONSES,
)
def patch_campaign(
    mailer: AppMailer, principal: Editor, campaign_id: CampaignId, body: DraftChange
) -> CampaignOut:
    changes = body.model_dump(include=body.model_fields_set)
    for field in ("issue", "list"):
        if field in changes and changes[field] is None:
            raise FieldError(field, "cannot be null; leave it out to keep the draft's")
    return CampaignOut.of(actions.change_draft(mailer, principal, campaign_id, changes))


@router.delete(
    "/{campaign_id}",
    summary="Delete a draft",
    description="A draft only (409 otherwise: cancel a campaign that is not one); a token "
    "that edits issues.",
    status_code=204,
    response_class=Response,
    responses=CHANGE_RESPONSES,
)
def delete_campaign(mailer: AppMailer, principal: Editor, campaign_id: CampaignId) -> Response:
    actions.delete_draft(mailer, principal, campaign_id)
    return Response(status_code=204)


@router.post(
    "/{campaign_id}/send",
    summary="Send a draft now",
    description="A draft only (409 otherwise); a token that may send. It is `sending` at "
    "once, its audience taken now, and `mailer worker` sends it.",
    response_model=CampaignOut,
    responses=CHANGE_RESPONSES,
)
def post_campaign_send(
    mailer: AppMailer, principal: Sender, campaign_id: CampaignId, body: SendIn | None = None
) -> CampaignOut:
    asked = body or SendIn()
    with again_said():
        sent = actions.send_draft(
            mailer, principal, campaign_id, again=asked.again, allow_draft=asked.allow_draft
        )
    return CampaignOut.of(sent.campaign)


@router.post(
    "/{campaign_id}/schedule",
    summary="Schedule a draft",
    description="A draft only (409 otherwise); a token that may send. At the time given, else "
    "at the draft's own (a 422 for `at` when it has none or it has passed).",
    response_model=CampaignOut,
    responses=CHANGE_RESPONSES,
)
def post_campaign_schedule(
    mailer: AppMailer,
    principal: Sender,
    campaign_id: CampaignId,
    body: ScheduleIn | None = None,
) -> CampaignOut:
    asked = body or ScheduleIn()
    with again_said():
        done = actions.schedule_draft(
            mailer,
            principal,
            campaign_id,
            at=asked.at,
            timezone=asked.timezone,
            local_time=asked.local_time,
            again=asked.again,
            allow_draft=asked.allow_draft,
        )
    return CampaignOut.of(done.campaign)
