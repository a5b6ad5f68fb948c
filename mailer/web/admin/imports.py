"""Imports (``manage_audience``): ``GET /admin/imports`` lists the recent ones (with the
export form, see ``exports``); ``/admin/imports/new`` takes a CSV upload, streamed to
``[paths] var`` and refused past ``[admin] max_upload_mib``; ``/admin/imports/{id}/columns``
shows its first rows and asks what each column holds, the list, and whether its people are
confirmed, then starts it; ``/admin/imports/{id}`` shows its progress (an htmx fragment
polled every 2 s, or a plain reload) and, once done, the counts and the rejected rows as CSV.

The upload's POST reads its own body (the CSRF check of every other form reads a body of at
most 1 MiB whole): its CSRF token is checked when the file part begins, before anything is
stored, and a POST that is not multipart is refused as any form without its token."""

from __future__ import annotations

import hmac

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from mailer.accounts.roles import Permission
from mailer.actions import imports as actions
from mailer.actions.lists import list_page
from mailer.app import Mailer
from mailer.audience.csv_mapping import ATTRIBUTE_PREFIX, ColumnMapping
from mailer.audience.import_files import UploadWriter
from mailer.errors import FieldError, MailerError, NotFoundError
from mailer.web import csrf
from mailer.web.admin._guard import PREFIX, requires, site_path
from mailer.web.admin._pages import admin_page
from mailer.web.admin._session import principal_of
from mailer.web.errors import error_response
from mailer.web.security import MAX_FORM_BYTES, csrf_exempt
from mailer.web.strings import STRINGS
from mailer.web.uploads import UploadRefused, receive_upload

PATH = f"{PREFIX}/imports"
MAX_LISTS = 500


def _mailer(request: Request) -> Mailer:
    mailer: Mailer = request.app.state.mailer
    return mailer


def list_names(request: Request) -> list[str]:
    page = list_page(_mailer(request), principal_of(request), after=None, limit=MAX_LISTS)
    return [mailing_list.name for mailing_list in page.items]


@requires(Permission.MANAGE_AUDIENCE)
def imports_page(request: Request) -> Response:
    mailer = _mailer(request)
    return admin_page(
        request,
        "admin/imports.html",
        principal_of(request),
        imports=actions.recent_imports(mailer, principal_of(request)),
        now=mailer.clock(),
        lists=list_names(request),
        export_error="",
        export_form={},
        current="imports",
    )


def _upload_page(request: Request, *, error: str = "", status: int = 200) -> Response:
    limit = _mailer(request).settings.admin.max_upload_mib
    return admin_page(
        request,
        "admin/import_new.html",
        principal_of(request),
        status_code=status,
        notice="",
        error=error,
        limit=limit,
        current="imports",
    )


@requires(Permission.MANAGE_AUDIENCE)
def upload_form(request: Request) -> Response:
    return _upload_page(request)


def _genuine(request: Request, token: str) -> bool:
    state = csrf.state_of(request)
    expected = csrf.token_for(_mailer(request).signing_key, state.cookie)
    return (
        state.sent_by_browser
        and bool(token)
        and hmac.compare_digest(token.encode("utf-8", "replace"), expected.encode("ascii"))
    )


async def _refused_form(request: Request) -> Response:
    """A POST that is not multipart: 403 without its token (as every form), else 415."""
    declared = request.headers.get("content-length", "")
    if not declared.isdigit() or int(declared) > MAX_FORM_BYTES:
        return error_response(request, 403)
    if not await csrf.request_is_genuine(request):
        return error_response(request, 403)
    return _upload_page(request, error="Send the file as multipart/form-data.", status=415)


@csrf_exempt
@requires(Permission.MANAGE_AUDIENCE)
async def upload(request: Request) -> Response:
    mailer, principal = _mailer(request), principal_of(request)
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        return await _refused_form(request)

    def start_file(fields: dict[str, str]) -> UploadWriter:
        if not _genuine(request, fields.get(csrf.FORM_FIELD, "")):
            raise UploadRefused(403, "no valid CSRF token before the file")
        return actions.begin_upload(mailer, principal)

    try:
        received = await receive_upload(
            request,
            file_field="file",
            limit_bytes=actions.upload_limit(mailer),
            start_file=start_file,
        )
    except UploadRefused as refused:
        if refused.status == 403:
            return error_response(request, 403)
        return await run_in_threadpool(
            _upload_page, request, error=refused.message, status=refused.status
        )
    if received.file is None:
        if not _genuine(request, received.fields.get(csrf.FORM_FIELD, "")):
            return error_response(request, 403)
        missing = STRINGS.imports.upload_missing
        return await run_in_threadpool(_upload_page, request, error=missing, status=400)
    try:
        import_id = await run_in_threadpool(
            actions.record_upload, mailer, principal, received.file, received.file_name
        )
    except MailerError as exc:
        return await run_in_threadpool(_upload_page, request, error=str(exc), status=400)
    return RedirectResponse(site_path(request, f"{PATH}/{import_id}/columns"), status_code=303)


def _columns_page(
    request: Request,
    import_id: int,
    *,
    error: str = "",
    chosen: ColumnMapping | None = None,
    status: int = 200,
) -> Response:
    mailer, principal = _mailer(request), principal_of(request)
    try:
        upload_preview = actions.upload_preview(mailer, principal, import_id)
    except NotFoundError:
        return error_response(request, 404)
    except MailerError as exc:  # the stored file went away
        return _upload_page(request, error=str(exc), status=400)
    mapping = chosen or upload_preview.guessed
    return admin_page(
        request,
        "admin/import_columns.html",
        principal,
        status_code=status,
        upload=upload_preview,
        targets=[_split_target(target) for target in mapping],
        lists=list_names(request),
        chosen_list=upload_preview.record.list_name,
        notice="",
        error=error,
        current="imports",
    )


def _split_target(target: str) -> tuple[str, str]:
    """("attribute", key) for an attribute, (target, "") for the others."""
    if target.startswith(ATTRIBUTE_PREFIX):
        return "attribute", target[len(ATTRIBUTE_PREFIX) :]
    return target, ""


@requires(Permission.MANAGE_AUDIENCE)
def columns_form(request: Request) -> Response:
    return _columns_page(request, request.path_params["import_id"])


def _chosen_mapping(form: FormData, columns: int) -> ColumnMapping:
    mapping = []
    for index in range(columns):
        target = form.get(f"target-{index}")
        target = target[:20] if isinstance(target, str) else ""
        if target == "attribute":
            key = form.get(f"key-{index}")
            target = ATTRIBUTE_PREFIX + (key[:100] if isinstance(key, str) else "")
        mapping.append(target)
    return tuple(mapping)


def _start(request: Request, import_id: int, form: FormData) -> Response:
    mailer, principal = _mailer(request), principal_of(request)
    try:
        upload_preview = actions.upload_preview(mailer, principal, import_id)
    except NotFoundError:
        return error_response(request, 404)
    mapping = _chosen_mapping(form, len(upload_preview.header))
    list_name = form.get("list")
    try:
        actions.start_import(
            mailer,
            principal,
            import_id,
            list_name=list_name[:100] if isinstance(list_name, str) else "",
            mapping=mapping,
            confirmed="confirmed" in form,
        )
    except FieldError as exc:
        return _columns_page(request, import_id, error=str(exc), chosen=mapping, status=400)
    except MailerError as exc:
        return _columns_page(request, import_id, error=str(exc), status=409)
    return RedirectResponse(site_path(request, f"{PATH}/{import_id}"), status_code=303)


@requires(Permission.MANAGE_AUDIENCE)
async def start(request: Request) -> Response:
    async with request.form(max_fields=2 * MAX_LISTS) as form:
        return await run_in_threadpool(_start, request, request.path_params["import_id"], form)


@requires(Permission.MANAGE_AUDIENCE)
def progress(request: Request) -> Response:
    """The import's page; to an htmx poll, only its progress fragment."""
    mailer = _mailer(request)
    try:
        record = actions.show_import(
            mailer, principal_of(request), request.path_params["import_id"]
        )
    except NotFoundError:
        return error_response(request, 404)
    fragment = request.headers.get("hx-request") == "true"
    return admin_page(
        request,
        "admin/_import_progress.html" if fragment else "admin/import.html",
        principal_of(request),
        record=record,
        shown_status=record.shown_status(mailer.clock()),
        current="imports",
    )


@requires(Permission.MANAGE_AUDIENCE)
def rejects(request: Request) -> Response:
    import_id = request.path_params["import_id"]
    try:
        path = actions.rejects_file(_mailer(request), principal_of(request), import_id)
    except NotFoundError:
        return error_response(request, 404)
    if path is None:
        return error_response(request, 404)
    return FileResponse(
        path,
        media_type="text/csv; charset=utf-8",
        filename=f"import-{import_id}-rejected.csv",
        headers={"cache-control": "no-store"},
    )


def routes(mailer: Mailer) -> list[BaseRoute]:
    one = f"{PATH}/{{import_id:int}}"
    return [
        Route(PATH, imports_page, methods=["GET"], name="admin_imports"),
        Route(f"{PATH}/new", upload_form, methods=["GET"], name="admin_imports_new"),
        Route(f"{PATH}/new", upload, methods=["POST"], name="admin_imports_upload"),
        Route(one, progress, methods=["GET"], name="admin_import"),
        Route(f"{one}/columns", columns_form, methods=["GET"], name="admin_import_columns"),
        Route(f"{one}/columns", start, methods=["POST"], name="admin_import_start"),
        Route(f"{one}/rejects.csv", rejects, methods=["GET"], name="admin_import_rejects"),
    ]
