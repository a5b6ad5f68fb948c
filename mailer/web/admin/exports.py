"""``POST /admin/exports`` (``manage_audience``): a list's members as a CSV download, of one
status and in a segment when the form says so, streamed as it is read from the database.
The form is on the imports page; a wrong list, status or segment shows that page again,
saying which field is wrong."""

from __future__ import annotations

from collections.abc import Iterator

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from mailer.accounts.roles import Permission
from mailer.actions import imports as actions
from mailer.app import Mailer
from mailer.errors import MailerError
from mailer.web.admin._guard import PREFIX, requires
from mailer.web.admin._pages import admin_page
from mailer.web.admin._session import principal_of
from mailer.web.admin.imports import list_names

PATH = f"{PREFIX}/exports"
MAX_SEGMENT = 2000


def _text(form: FormData, name: str, limit: int = 100) -> str:
    value = form.get(name)
    return value[:limit].strip() if isinstance(value, str) else ""


def _refused(request: Request, error: str, form: FormData) -> Response:
    mailer = request.app.state.mailer
    return admin_page(
        request,
        "admin/imports.html",
        principal_of(request),
        status_code=400,
        imports=actions.recent_imports(mailer, principal_of(request)),
        now=mailer.clock(),
        lists=list_names(request),
        export_error=error,
        export_form={key: _text(form, key, MAX_SEGMENT) for key in ("list", "status", "segment")},
        current="imports",
    )


def _export(request: Request, form: FormData) -> Response:
    mailer: Mailer = request.app.state.mailer
    list_name = _text(form, "list")
    status = _text(form, "status") or None
    segment = _text(form, "segment", MAX_SEGMENT) or None
    try:
        chunks: Iterator[bytes] = actions.export(
            mailer, principal_of(request), list_name, status=status, segment=segment
        )
    except MailerError as exc:
        return _refused(request, str(exc), form)
    suffix = f"-{status}" if status else ""
    return StreamingResponse(
        chunks,
        media_type="text/csv; charset=utf-8",
        headers={
            "content-disposition": f'attachment; filename="{list_name}{suffix}.csv"',
            "cache-control": "no-store",
        },
    )


@requires(Permission.MANAGE_AUDIENCE)
async def export(request: Request) -> Response:
    async with request.form() as form:
        return await run_in_threadpool(_export, request, form)


def routes(mailer: Mailer) -> list[BaseRoute]:
    return [Route(PATH, export, methods=["POST"], name="admin_export")]
