"""Suppressions (``/admin/suppressions``): addresses never mailed, 100 a page by address
(``?after=`` and ``?after_hash=``: the last one shown, so a page does not shift as others are
added), only those starting with ``?q=``. Whoever may manage the audience suppresses an
address and lifts a suppression, saying why (the reason goes into the audit log)."""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from mailer.accounts.roles import Permission
from mailer.actions import suppressions as actions
from mailer.app import Mailer
from mailer.audience.suppressions import SuppressionKey
from mailer.db.tables import SUPPRESSION_REASONS
from mailer.errors import FieldError, MailerError
from mailer.web.admin._guard import PREFIX, requires
from mailer.web.admin._list_forms import form_endpoint, form_text, query_text, status_of
from mailer.web.admin._pages import admin_page
from mailer.web.admin._session import principal_of
from mailer.web.strings import STRINGS

PATH = f"{PREFIX}/suppressions"
PAGE_SIZE = 100
EMAIL_MAX = 320
HASH_MAX = 128
DETAIL_MAX = 1000
LIFT_REASON_MAX = 500


def _after(request: Request) -> SuppressionKey | None:
    email_key = query_text(request, "after", EMAIL_MAX)
    address_hash = query_text(request, "after_hash", HASH_MAX)
    if email_key is None or not address_hash:
        return None
    return (email_key, address_hash)


def _page(request: Request, *, notice: str = "", error: str = "", status: int = 200) -> Response:
    prefix = query_text(request, "q", EMAIL_MAX) or ""
    after = _after(request)
    page = actions.suppression_page(
        request.app.state.mailer, principal_of(request), after=after, limit=PAGE_SIZE, prefix=prefix
    )
    return admin_page(
        request,
        "admin/suppressions.html",
        principal_of(request),
        status_code=status,
        suppressions=[suppression for _, suppression in page.items],
        next_after=page.next_after,
        paged=after is not None,
        prefix=prefix,
        reasons=SUPPRESSION_REASONS,
        manage=principal_of(request).can(Permission.MANAGE_AUDIENCE),
        notice=notice,
        error=error,
        current="suppressions",
    )


@requires(Permission.READ)
def suppressions_page(request: Request) -> Response:
    return _page(request)


def _add(request: Request, form: FormData) -> Response:
    words = STRINGS.lists
    try:
        found, added = actions.suppress(
            request.app.state.mailer,
            principal_of(request),
            form_text(form, "email", EMAIL_MAX),
            form_text(form, "reason", EMAIL_MAX) or "manual",
            form_text(form, "detail", DETAIL_MAX, multiline=True),
        )
    except MailerError as exc:
        return _page(request, error=str(exc), status=status_of(exc))
    email = found.email or ""
    if added:
        return _page(request, notice=words.suppressed.format(email=email))
    return _page(request, notice=words.suppressed_already.format(email=email, reason=found.reason))


def _lift(request: Request, form: FormData) -> Response:
    try:
        reason = form_text(form, "reason", LIFT_REASON_MAX)
        if not reason:
            raise FieldError("reason", STRINGS.lists.lift_reason_missing)
        lifted = actions.unsuppress(
            request.app.state.mailer,
            principal_of(request),
            form_text(form, "email", EMAIL_MAX),
            reason,
        )
    except MailerError as exc:
        return _page(request, error=str(exc), status=status_of(exc))
    return _page(request, notice=STRINGS.lists.lifted.format(email=lifted.email or ""))


def routes(mailer: Mailer) -> list[BaseRoute]:
    manage = Permission.MANAGE_AUDIENCE
    return [
        Route(PATH, suppressions_page, methods=["GET"], name="admin_suppressions"),
        Route(
            f"{PATH}/add",
            form_endpoint(manage, _add),
            methods=["POST"],
            name="admin_suppressions_add",
        ),
        Route(
            f"{PATH}/lift",
            form_endpoint(manage, _lift),
            methods=["POST"],
            name="admin_suppressions_lift",
        ),
    ]
