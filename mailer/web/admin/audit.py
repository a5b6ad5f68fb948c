"""The audit log (owners: ``view_audit``): ``GET /admin/audit``, newest first, 50 a page,
paged by entry id (``?before=ID``: a page does not shift as entries are added), filtered by
the start of the action (``?action=user.`` for every change of users)."""

from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from mailer.accounts import audit
from mailer.accounts.roles import Permission
from mailer.app import Mailer
from mailer.web.admin._guard import PREFIX, requires
from mailer.web.admin._pages import admin_page
from mailer.web.admin._session import principal_of

PAGE_SIZE = 50
MAX_PREFIX = 200


def _before(request: Request) -> int | None:
    value = request.query_params.get("before", "")
    return int(value) if value.isdigit() and len(value) < 19 else None


@requires(Permission.VIEW_AUDIT)
def audit_log(request: Request) -> Response:
    action = request.query_params.get("action", "").strip()[:MAX_PREFIX]
    before = _before(request)
    found = audit.entries(
        request.app.state.mailer,
        limit=PAGE_SIZE + 1,
        before_id=before,
        action_prefix=action or None,
    )
    shown = found[:PAGE_SIZE]
    return admin_page(
        request,
        "admin/audit.html",
        principal_of(request),
        entries=[(entry, _detail(entry.detail)) for entry in shown],
        action=action,
        older=shown[-1].id if len(found) > PAGE_SIZE else None,
        paged=before is not None,
        current="audit",
    )


def _detail(detail: object) -> str:
    """The entry's detail as compact JSON (shown escaped, like everything else)."""
    if detail is None:
        return ""
    return json.dumps(detail, ensure_ascii=False, sort_keys=True, default=str)


def routes(mailer: Mailer) -> list[BaseRoute]:
    return [Route(f"{PREFIX}/audit", audit_log, methods=["GET"], name="admin_audit")]
