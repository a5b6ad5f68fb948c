"""The subscribers pages as rendered: the search (``/admin/subscribers``) from its query, and
one subscriber's page (``/admin/subscribers/<address>``), each with the notice or the
refusals of a form just sent. Shared by the route module and the forms' handlers.

An address may hold ``/``, ``?``, ``#`` or ``%``: its links quote every character but ``@``
(``/`` too, so no browser reads ``/./`` in an address as a path step), and the route takes the
rest of the path as the address."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response

from mailer.accounts.roles import Permission
from mailer.actions import subscribers as actions
from mailer.actions.list_choices import list_choices
from mailer.app import Mailer
from mailer.audience.list_names import ListName
from mailer.audience.segments import SegmentError
from mailer.audience.subscriber_history import LATEST
from mailer.db.tables import MEMBERSHIP_STATUSES, SUPPRESSION_REASONS
from mailer.errors import FieldError, FieldErrors, MailerError, NotFoundError
from mailer.web.admin._guard import PREFIX
from mailer.web.admin._pages import admin_page
from mailer.web.admin._session import principal_of
from mailer.web.strings import STRINGS

PATH = f"{PREFIX}/subscribers"
PAGE_SIZE = 50
EMAIL_MAX = 320
QUERY_MAX = 1000
LIST_MAX = 100
SEGMENT_MAX = 10_000
"""Longer than a segment may be, so that the segment's own check says how long it is."""
LIST_CHOICES = 500
SEARCH_FIELDS = ("q", "list", "status", "segment")


def address_path(email: str) -> str:
    """The address as a path segment of the subscriber's page."""
    return quote(email, safe="@")


def mailer_of(request: Request) -> Mailer:
    mailer: Mailer = request.app.state.mailer
    return mailer


def may_manage(request: Request) -> bool:
    return principal_of(request).can(Permission.MANAGE_AUDIENCE)


@dataclass
class Refusal:
    """Why a form was refused: messages by field (``form`` for the rest), and which form."""

    form: str = ""
    errors: dict[str, str] = field(default_factory=dict)
    segment: SegmentError | None = None
    status: int = 400


def refusal_of(form: str, error: MailerError, fields: tuple[str, ...]) -> Refusal:
    """``error`` laid out by field: a field of the form gets its message beside it."""
    refusal = Refusal(form, status=404 if isinstance(error, NotFoundError) else 400)
    found = error.errors if isinstance(error, FieldErrors) else [error]
    for each in found:
        if isinstance(each, SegmentError):
            refusal.segment = each
            refusal.errors["segment"] = STRINGS.subscribers.segment_error.format(
                column=each.column, message=each.message
            )
        elif isinstance(each, FieldError) and each.field in fields:
            refusal.errors[each.field] = each.problem
        else:
            refusal.errors["form"] = str(each)
    return refusal


def _query(request: Request, name: str, limit: int) -> str:
    value = request.query_params.get(name, "")
    return value[:limit]


def search_values(request: Request) -> dict[str, str]:
    """The search as asked in the query string (each cut to a length it could have)."""
    return {
        "q": _query(request, "q", QUERY_MAX),
        "list": _query(request, "list", LIST_MAX),
        "status": _query(request, "status", LIST_MAX),
        "segment": _query(request, "segment", SEGMENT_MAX),
        "after": _query(request, "after", EMAIL_MAX + 1),
    }


def _list_choices(mailer: Mailer, request: Request) -> list[ListName]:
    # Names and titles only: the member counts would cost a pass over every membership.
    return list_choices(mailer, principal_of(request), limit=LIST_CHOICES)


def search_page(
    request: Request,
    *,
    values: Mapping[str, str] | None = None,
    notice: str = "",
    refusal: Refusal | None = None,
    typed: Mapping[str, object] | None = None,
) -> Response:
    """The search page for ``values`` (the query string's when None), 50 a page."""
    mailer, principal = mailer_of(request), principal_of(request)
    asked = dict(values if values is not None else search_values(request))
    shown = refusal or Refusal()
    items: tuple[object, ...] = ()
    next_after: str | None = None
    search_refusal = Refusal()
    try:
        page = actions.search(
            mailer,
            principal,
            query=asked["q"] or None,
            list_name=asked["list"] or None,
            status=asked["status"] or None,
            segment=asked["segment"] if asked["segment"].strip() else None,
            after=asked["after"] or None,
            limit=PAGE_SIZE,
        )
        items, next_after = page.items, page.next_after
    except NotFoundError as exc:
        search_refusal = Refusal("search", {"list": str(exc)}, status=404)
    except MailerError as exc:
        search_refusal = refusal_of("search", exc, SEARCH_FIELDS)
    failed = shown if shown.errors else search_refusal
    return admin_page(
        request,
        "admin/subscribers.html",
        principal,
        status_code=failed.status if failed.errors else 200,
        subscribers=items,
        next_after=next_after,
        values=asked,
        search_errors=search_refusal.errors,
        segment_error=search_refusal.segment,
        refusal=shown,
        lists=_list_choices(mailer, request),
        statuses=MEMBERSHIP_STATUSES,
        manage=may_manage(request),
        typed=typed or {},
        notice=notice,
        error="",
        address_path=address_path,
        current="subscribers",
    )


def attributes_text(attributes: Mapping[str, object]) -> str:
    """The attributes as the form shows them: the inverse of :func:`parse_attributes`."""
    lines = []
    for key, value in sorted(attributes.items()):
        shown = ";".join(str(item) for item in value) if isinstance(value, list) else value
        lines.append(f"{key}={'' if shown is None else shown}")
    return "\n".join(lines)


def epoch_text(seconds: int) -> str:
    """An event's moment (seconds since 1970) as the pages show times: UTC, to the second."""
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%S")


def path_address(request: Request) -> str:
    """The address in the path; one no subscriber can have is not looked for."""
    email: str = request.path_params["email"]
    if not email or len(email) > EMAIL_MAX or any(ord(char) < 32 for char in email):
        raise NotFoundError(STRINGS.subscribers.not_found)
    return email


def missing_page(request: Request) -> Response:
    """404: no subscriber at this address (forgotten, or never added)."""
    return admin_page(
        request,
        "admin/subscriber_missing.html",
        principal_of(request),
        status_code=404,
        current="subscribers",
    )


def subscriber_page(
    request: Request,
    *,
    notice: str = "",
    refusal: Refusal | None = None,
    typed: Mapping[str, object] | None = None,
) -> Response:
    """The page of the subscriber in the path, or the 404 page when there is none."""
    mailer, principal = mailer_of(request), principal_of(request)
    try:
        view = actions.subscriber_view(mailer, principal, path_address(request))
    except MailerError:
        return missing_page(request)
    shown = refusal or Refusal()
    memberships = view.detail.memberships
    return admin_page(
        request,
        "admin/subscriber.html",
        principal,
        status_code=shown.status if shown.errors else 200,
        detail=view.detail,
        subscriber=view.detail.subscriber,
        history=view.history,
        latest=LATEST,
        attributes_text=attributes_text(view.detail.subscriber.attributes),
        epoch=epoch_text,
        subscribed=[m.list_name for m in memberships if m.status != "unsubscribed"],
        left=[m.list_name for m in memberships if m.status == "unsubscribed"],
        reasons=SUPPRESSION_REASONS,
        manage=may_manage(request),
        refusal=shown,
        typed=typed or {},
        notice=notice,
        error="",
        address_path=address_path,
        current="subscribers",
    )
