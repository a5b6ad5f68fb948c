"""``/imports`` and ``/exports``: subscriber CSV files in and out, with a token whose role may
manage the audience.

``POST /imports`` takes ``multipart/form-data`` (the one body here that is not JSON): the
file, the list, and the column mapping as a JSON array. The file is streamed to the server's
private folder and refused past ``[admin] max_upload_mib`` (413, nothing kept); the import
then runs in the server and ``GET /imports/{id}`` tells how far it got.
"""

from __future__ import annotations

import builtins
import json
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import FileResponse, StreamingResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from mailer.actions import imports as actions
from mailer.api.auth import AppMailer, AudienceManager
from mailer.api.lists import NAME_PATTERN, NAME_RULE
from mailer.api.problems import FieldProblem, problem_response, problem_responses
from mailer.audience.import_files import UploadWriter
from mailer.audience.import_jobs import REJECTS_HEADER, ImportRecord
from mailer.errors import ConflictError, FieldError
from mailer.web.uploads import UploadRefused, receive_upload

router = APIRouter(tags=["imports and exports"])

MAX_ID = 2**63 - 1
ImportId = Annotated[int, Path(ge=1, le=MAX_ID, description="The import's id.")]
CSV_CONTENT = {"text/csv": {"schema": {"type": "string"}}}
TARGETS = 'each "email", "name", "timezone", "attribute:<name>" or "" (ignored)'


class ImportOut(BaseModel):
    id: int
    status: Literal["uploaded", "queued", "running", "done", "failed", "interrupted"] = Field(
        description="`interrupted`: the server process running it stopped before the end."
    )
    list: str
    file_name: str = Field(description="The uploaded file's name (shown only).")
    size: int = Field(description="Bytes.")
    mapping: builtins.list[str] | None = Field(description=f"One target per column: {TARGETS}.")
    confirmed: bool
    bytes_read: int
    rows_read: int
    added: int
    updated: int
    unchanged: int
    rejected: int = Field(description="Rows refused: their line and reason are in /rejects.")
    suppressed: int = Field(description="Rows of suppressed or unsubscribed people, not added.")
    error: str | None = Field(description="Why a failed import stopped.")
    created_by: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @classmethod
    def of(cls, record: ImportRecord, now: datetime) -> ImportOut:
        return cls.model_validate(record.as_json(now))


UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file", "list", "mapping"],
                    "properties": {
                        "list": {
                            "type": "string",
                            "pattern": NAME_PATTERN,
                            "description": f"The list to import into: {NAME_RULE}.",
                        },
                        "mapping": {
                            "type": "string",
                            "description": "A JSON array with one target per CSV column, "
                            f"{TARGETS}; exactly one is email.",
                            "example": '["email", "name", "attribute:country", ""]',
                        },
                        "confirmed": {
                            "type": "string",
                            "enum": ["true", "false"],
                            "description": "Add them as confirmed (no confirmation email).",
                        },
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "description": "The CSV file (UTF-8, a header row); sent last.",
                        },
                    },
                },
            }
        },
    }
}


def _mapping(text: str | None) -> list[str]:
    if text is None:
        raise FieldError("mapping", f"send a JSON array: {TARGETS}")
    try:
        value = json.loads(text)
    except ValueError:
        raise FieldError("mapping", f"not JSON: send a JSON array, {TARGETS}") from None
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise FieldError("mapping", f"send a JSON array of strings, {TARGETS}")
    return value


def _confirmed(text: str | None) -> bool:
    if text in (None, "false"):
        return False
    if text == "true":
        return True
    raise FieldError("confirmed", "use true or false", text[:20])


def _refused(request: Request, refused: UploadRefused) -> Response:
    errors = [FieldProblem(field=refused.field, message=refused.message)] if refused.field else []
    return problem_response(request.url.path, refused.status, refused.message, errors=errors)


def _start(
    mailer: AppMailer,
    principal: AudienceManager,
    upload: UploadWriter,
    fields: dict[str, str],
    file_name: str,
) -> ImportRecord:
    try:
        confirmed = _confirmed(fields.get("confirmed"))
        list_name = fields.get("list", "")
        mapping = actions.check_choice(
            mailer, principal, list_name, _mapping(fields.get("mapping"))
        )
        import_id = actions.record_upload(mailer, principal, upload, file_name, list_name)
    except BaseException:
        upload.discard()
        raise
    return actions.start_import(
        mailer, principal, import_id, list_name=list_name, mapping=mapping, confirmed=confirmed
    )


@router.post(
    "/imports",
    summary="Upload a CSV file and import it into a list",
    status_code=202,
    response_model=ImportOut,
    responses=problem_responses(400, 401, 403, 413, 415, 422, 429, 500),
    openapi_extra=UPLOAD_BODY,
)
async def post_import(
    mailer: AppMailer, principal: AudienceManager, request: Request, response: Response
) -> Any:
    try:
        upload = await receive_upload(
            request,
            file_field="file",
            limit_bytes=actions.upload_limit(mailer),
            start_file=lambda fields: actions.begin_upload(mailer, principal),
        )
    except UploadRefused as refused:
        return _refused(request, refused)
    if upload.file is None:
        raise FieldError("file", "send the CSV file as the form's file field")
    record = await run_in_threadpool(
        _start, mailer, principal, upload.file, upload.fields, upload.file_name
    )
    where = request.app.url_path_for("get_import", import_id=str(record.id))
    response.headers["Location"] = request.scope.get("root_path", "") + where
    return ImportOut.of(record, mailer.clock())


@router.get(
    "/imports/{import_id}",
    summary="An import: its status and counts",
    response_model=ImportOut,
    responses=problem_responses(400, 401, 403, 404, 422, 429, 500),
)
def get_import(mailer: AppMailer, principal: AudienceManager, import_id: ImportId) -> ImportOut:
    return ImportOut.of(actions.show_import(mailer, principal, import_id), mailer.clock())


@router.get(
    "/imports/{import_id}/rejects",
    summary="The rows of a finished import that were not imported, as CSV",
    response_class=Response,
    responses={
        200: {
            "content": CSV_CONTENT,
            "description": "CSV: line, email, outcome (rejected, suppressed, unsubscribed), "
            "reason; only the header row when every row was imported.",
        },
        **problem_responses(400, 401, 403, 404, 409, 422, 429, 500),
    },
)
def get_import_rejects(
    mailer: AppMailer, principal: AudienceManager, import_id: ImportId
) -> Response:
    record = actions.show_import(mailer, principal, import_id)
    if not record.finished:
        raise ConflictError(f"import {import_id} has not finished")
    path = actions.rejects_file(mailer, principal, import_id)
    if path is None:
        header = ",".join(REJECTS_HEADER) + "\r\n"
        return Response(header, media_type="text/csv; charset=utf-8")
    return FileResponse(path, media_type="text/csv; charset=utf-8")


Status = Literal["confirmed", "unconfirmed", "unsubscribed"]


@router.get(
    "/exports",
    summary="A list's members as CSV (streamed)",
    response_class=Response,
    responses={
        200: {
            "content": CSV_CONTENT,
            "description": "CSV that `POST /imports` (or `mailer subscribers import`) reads "
            "back to the same data; cells a spreadsheet would run as formulas start with '.",
        },
        **problem_responses(400, 401, 403, 422, 429, 500),
    },
)
def get_export(
    mailer: AppMailer,
    principal: AudienceManager,
    list_name: Annotated[
        str, Query(alias="list", pattern=NAME_PATTERN, description="The list's name.")
    ],
    status: Annotated[Status | None, Query(description="Only members of this status.")] = None,
    segment: Annotated[
        str | None,
        Query(max_length=2000, description='Only members in it, e.g. `country = "DE"`.'),
    ] = None,
) -> Response:
    chunks = actions.export(mailer, principal, list_name, status=status, segment=segment)
    return StreamingResponse(
        chunks,
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{list_name}.csv"'},
    )
