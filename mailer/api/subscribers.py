"""``/subscribers``: searched and read with any token; added (one, or up to 1,000 at once),
edited, unsubscribed, resubscribed and forgotten with one whose role may manage the audience.

An address in the path is percent-decoded by the server before it gets here; a path segment
without an ``@`` is no address and no route (404, and ``/subscribers/bulk`` stays apart from
the addresses: another method there is a 405), one that is not an address otherwise is a 422
naming ``email``, and one nobody has a 404.
"""

from __future__ import annotations

from collections import Counter
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from pydantic import AfterValidator
from starlette.convertors import Convertor, register_url_convertor

from mailer.actions import subscribers as actions
from mailer.actions.subscribers import NewSubscriber
from mailer.api.auth import AppMailer, AudienceManager, Reader
from mailer.api.paging import DEFAULT_LIMIT, Cursor, Cursors, Limit, Page
from mailer.api.problems import problem_responses
from mailer.api.subscriber_models import (
    BulkIn,
    BulkOut,
    ResubscribeIn,
    RowOutcomeOut,
    Status,
    SubscriberIn,
    SubscriberOut,
    SubscriberPatch,
    SubscriberSummaryOut,
    Unsubscribed,
    UnsubscribeIn,
)
from mailer.api.suppressions import EMAIL_MAX, EmailInPath
from mailer.api.text import LINES, ONE_LINE, lines, one_line
from mailer.audience.segments import SegmentError
from mailer.errors import FieldError, NotFoundError

router = APIRouter(prefix="/subscribers", tags=["subscribers"])


class AddressConvertor(Convertor[str]):
    """A path segment holding an ``@``, as every address does."""

    regex = "[^/]*@[^/]*"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        if "/" in value or "@" not in value:
            raise ValueError(f"not an address for a path: {value!r}")
        return value


register_url_convertor("address", AddressConvertor())

SearchText = Annotated[
    str | None,
    Query(
        max_length=EMAIL_MAX,
        description="Only subscribers whose address or name starts with this (any case).",
        json_schema_extra=ONE_LINE,
    ),
    AfterValidator(lambda value: value if value is None else one_line(value)),
]
ListParam = Annotated[
    str | None,
    Query(
        alias="list",
        max_length=100,
        description="Only members of this list.",
        json_schema_extra=ONE_LINE,
    ),
    AfterValidator(lambda value: value if value is None else one_line(value)),
]
StatusParam = Annotated[
    Status | None, Query(description="Only members with this status on `list` (needs it).")
]
SegmentParam = Annotated[
    str | None,
    Query(
        max_length=2000,
        description='Only those matching this segment: `country = "CN" and "ai" in tags`.',
        json_schema_extra=LINES,
    ),
    AfterValidator(lambda value: value if value is None else lines(value)),
]


def _cursors(mailer: AppMailer) -> Cursors:
    return Cursors(mailer.signing_key, "subscribers")


@router.get(
    "",
    summary="Subscribers, by address",
    description="Filters combine with AND. A wrong segment is a 422 naming `segment`, with "
    "the column where it goes wrong; an unknown list a 422 naming `list`.",
    response_model=Page[SubscriberSummaryOut],
    responses=problem_responses(400, 401, 403, 422, 429, 500),
)
def get_subscribers(
    mailer: AppMailer,
    principal: Reader,
    q: SearchText = None,
    list_name: ListParam = None,
    status: StatusParam = None,
    segment: SegmentParam = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[SubscriberSummaryOut]:
    cursors = _cursors(mailer)
    after = None if cursor is None else cursors.decode(cursor, 1)[0]
    try:
        page = actions.search(
            mailer,
            principal,
            query=q,
            list_name=list_name,
            status=status,
            segment=segment,
            after=after,
            limit=limit,
        )
    except SegmentError as exc:
        raise FieldError("segment", str(exc)) from None
    except NotFoundError as exc:
        raise FieldError("list", str(exc)) from None
    next_cursor = None if page.next_after is None else cursors.encode([page.next_after])
    items = [SubscriberSummaryOut.of(found) for found in page.items]
    return Page[SubscriberSummaryOut](items=items, next_cursor=next_cursor)


@router.post(
    "",
    summary="Add a subscriber to lists",
    description="A known address keeps its fields where these are empty. On a double opt-in "
    "list they start unconfirmed unless `confirmed`. An address suppressed, or unsubscribed "
    "from one of the lists, is a 409 and nothing is changed.",
    status_code=201,
    response_model=SubscriberOut,
    responses=problem_responses(400, 401, 403, 409, 413, 415, 422, 429, 500),
)
def post_subscriber(
    mailer: AppMailer,
    principal: AudienceManager,
    body: SubscriberIn,
    request: Request,
    response: Response,
) -> SubscriberOut:
    view = actions.add_subscriber(
        mailer,
        principal,
        body.email,
        lists=body.lists,
        name=body.name,
        timezone=body.timezone,
        attributes=body.attributes,
        confirmed=body.confirmed,
    )
    where = request.app.url_path_for("get_subscriber", email=view.detail.subscriber.email)
    response.headers["Location"] = request.scope.get("root_path", "") + where
    return SubscriberOut.of(view)


@router.post(
    "/bulk",
    summary=f"Add up to {actions.BULK_MAX:,} subscribers to a list",
    description="The rules of an import: each row gets an outcome, in order; a row that "
    "cannot be stored is `rejected` with its `field` and skipped, and the others are added. "
    "A known address keeps its fields where a row's are empty; a suppressed or unsubscribed "
    "one is left off the list.",
    response_model=BulkOut,
    responses=problem_responses(400, 401, 403, 413, 415, 422, 429, 500),
)
def post_subscribers_bulk(mailer: AppMailer, principal: AudienceManager, body: BulkIn) -> BulkOut:
    rows = [NewSubscriber(row.email, row.name, row.timezone, row.attributes) for row in body.rows]
    outcomes = actions.add_subscribers_bulk(
        mailer, principal, rows, list_name=body.list, confirmed=body.confirmed
    )
    counts = Counter(outcome.outcome for outcome in outcomes)
    return BulkOut(
        list=body.list,
        counts=dict(sorted(counts.items())),
        rows=[RowOutcomeOut.of(outcome) for outcome in outcomes],
    )


@router.get(
    "/{email:address}",
    summary="A subscriber",
    description="Fields, lists, suppression, and the latest sends and events.",
    response_model=SubscriberOut,
    responses=problem_responses(400, 401, 403, 404, 422, 429, 500),
)
def get_subscriber(mailer: AppMailer, principal: Reader, email: EmailInPath) -> SubscriberOut:
    return SubscriberOut.of(actions.subscriber_view(mailer, principal, email))


@router.patch(
    "/{email:address}",
    summary="Change a subscriber's name, time zone or attributes",
    response_model=SubscriberOut,
    responses=problem_responses(400, 401, 403, 404, 413, 415, 422, 429, 500),
)
def patch_subscriber(
    mailer: AppMailer, principal: AudienceManager, email: EmailInPath, body: SubscriberPatch
) -> SubscriberOut:
    view = actions.edit_subscriber(
        mailer,
        principal,
        email,
        name=body.name,
        timezone=body.timezone,
        attributes=body.attributes,
    )
    return SubscriberOut.of(view)


@router.post(
    "/{email:address}/unsubscribe",
    summary="Unsubscribe from a list, or from every list",
    description="Without `list`, from every list, and the address is suppressed (reason "
    "`unsubscribe`) so that no list made later mails it. `reason` goes to the audit log.",
    response_model=Unsubscribed,
    responses=problem_responses(400, 401, 403, 404, 413, 415, 422, 429, 500),
)
def post_unsubscribe(
    mailer: AppMailer, principal: AudienceManager, email: EmailInPath, body: UnsubscribeIn
) -> Unsubscribed:
    changed = actions.unsubscribe(mailer, principal, email, list_name=body.list, reason=body.reason)
    shown = actions.subscriber_view(mailer, principal, email).detail.subscriber.email
    return Unsubscribed(email=shown, changed=changed)


@router.post(
    "/{email:address}/resubscribe",
    summary="Bring back a membership they had left",
    description="Only an unsubscribed membership comes back: confirmed, or unconfirmed on a "
    "double opt-in list unless `confirmed`. A suppression for leaving every list is lifted "
    "with it; any other suppression (bounce, complaint...) is a 409 until it is lifted. "
    "`reason` is required and goes to the audit log.",
    response_model=SubscriberOut,
    responses=problem_responses(400, 401, 403, 404, 409, 413, 415, 422, 429, 500),
)
def post_resubscribe(
    mailer: AppMailer, principal: AudienceManager, email: EmailInPath, body: ResubscribeIn
) -> SubscriberOut:
    view = actions.resubscribe(
        mailer,
        principal,
        email,
        list_name=body.list,
        reason=body.reason,
        confirmed=body.confirmed,
    )
    return SubscriberOut.of(view)


@router.delete(
    "/{email:address}",
    summary="Forget a subscriber (erasure)",
    description="Their data, memberships and events go; only a hash of the address stays, "
    "suppressed, and the audit log names only that hash.",
    status_code=204,
    response_class=Response,
    responses=problem_responses(400, 401, 403, 404, 422, 429, 500),
)
def delete_subscriber(mailer: AppMailer, principal: AudienceManager, email: EmailInPath) -> None:
    actions.forget(mailer, principal, email)
