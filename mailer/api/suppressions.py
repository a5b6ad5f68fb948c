"""``/suppressions``: addresses never mailed, read with any token, added and lifted with one
whose role may manage the audience."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Response
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from mailer.actions import suppressions as actions
from mailer.api.auth import AppMailer, AudienceManager, Reader
from mailer.api.paging import DEFAULT_LIMIT, Cursor, Cursors, Limit, Page
from mailer.api.problems import problem_responses
from mailer.api.text import LINES, ONE_LINE, lines, one_line
from mailer.audience.suppressions import Suppression

router = APIRouter(prefix="/suppressions", tags=["suppressions"])

Reason = Literal["bounce", "spamreport", "unsubscribe", "manual", "invalid"]
EMAIL_MAX = 320
# The address's syntax is checked by the core (email-validator), and said here as a format.
EMAIL_SCHEMA = {"format": "email", **ONE_LINE}
Email = Annotated[
    str,
    Field(
        min_length=1,
        max_length=EMAIL_MAX,
        description="An email address.",
        json_schema_extra=EMAIL_SCHEMA,
    ),
    AfterValidator(one_line),
]
EmailInPath = Annotated[
    str,
    Path(
        min_length=1,
        max_length=EMAIL_MAX,
        description="The address.",
        json_schema_extra=EMAIL_SCHEMA,
    ),
    AfterValidator(one_line),
]
Prefix = Annotated[
    str,
    Query(
        max_length=EMAIL_MAX,
        description="Only addresses that start with this (any case).",
        json_schema_extra=ONE_LINE,
    ),
    AfterValidator(one_line),
]
LiftReason = Annotated[
    str,
    Query(
        min_length=1,
        max_length=500,
        description="Why the suppression is lifted (kept in the audit log).",
        json_schema_extra=ONE_LINE,
    ),
    AfterValidator(one_line),
]


class SuppressionOut(BaseModel):
    email: str | None = Field(description="Null once the person was erased.")
    reason: Reason
    detail: str
    created_at: datetime

    @classmethod
    def of(cls, suppression: Suppression) -> SuppressionOut:
        return cls.model_validate(suppression.as_json() | {"created_at": suppression.created_at})


class SuppressionIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    email: Email
    reason: Reason = "manual"
    detail: Annotated[
        str,
        Field(max_length=1000, description="A note kept with it.", json_schema_extra=LINES),
        AfterValidator(lines),
    ] = ""


def _cursors(mailer: AppMailer) -> Cursors:
    return Cursors(mailer.signing_key, "suppressions")


@router.get(
    "",
    summary="Suppressions, by address",
    response_model=Page[SuppressionOut],
    responses=problem_responses(400, 401, 403, 422, 429, 500),
)
def get_suppressions(
    mailer: AppMailer,
    principal: Reader,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
    q: Prefix = "",
) -> Page[SuppressionOut]:
    cursors = _cursors(mailer)
    after = None if cursor is None else cursors.decode(cursor, 2)
    page = actions.suppression_page(
        mailer,
        principal,
        after=None if after is None else (after[0], after[1]),
        limit=limit,
        prefix=q,
    )
    next_cursor = None if page.next_after is None else cursors.encode(list(page.next_after))
    items = [SuppressionOut.of(suppression) for _, suppression in page.items]
    return Page[SuppressionOut](items=items, next_cursor=next_cursor)


@router.post(
    "",
    summary="Suppress an address",
    description="201 when suppressed now; 200 with the suppression there was when the "
    "address was suppressed already (its first reason stays).",
    status_code=201,
    response_model=SuppressionOut,
    responses={
        200: {"model": SuppressionOut, "description": "Suppressed already."},
        **problem_responses(400, 401, 403, 413, 415, 422, 429, 500),
    },
)
def post_suppression(
    mailer: AppMailer, principal: AudienceManager, body: SuppressionIn, response: Response
) -> SuppressionOut:
    found, added = actions.suppress(mailer, principal, body.email, body.reason, body.detail)
    if not added:
        response.status_code = 200
    return SuppressionOut.of(found)


@router.delete(
    "/{email}",
    summary="Lift a suppression",
    description="The address can be mailed again; the suppression lifted is returned.",
    response_model=SuppressionOut,
    responses=problem_responses(400, 401, 403, 404, 413, 422, 429, 500),
)
def delete_suppression(
    mailer: AppMailer, principal: AudienceManager, email: EmailInPath, reason: LiftReason
) -> SuppressionOut:
    return SuppressionOut.of(actions.unsuppress(mailer, principal, email, reason))
