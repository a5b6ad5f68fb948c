"""Every error of the API as an RFC 9457 problem (``application/problem+json``): ``type``,
``title``, ``status``, ``detail`` (what went wrong, in words a client can show) and
``instance`` (the request's path); a refused input adds ``errors``, each naming the parameter
or body field and what is wrong with it.

``type`` is ``about:blank`` throughout: the status says what kind of problem it is, and
``title`` is the status's phrase, as RFC 9457 asks of that type.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.routing import Match

from mailer.accounts.errors import Forbidden
from mailer.errors import ConflictError, FieldError, FieldErrors, MailerError, NotFoundError

log = logging.getLogger("mailer.api")
PROBLEM_MEDIA_TYPE = "application/problem+json"


class FieldProblem(BaseModel):
    field: str = Field(description="The parameter or body field, e.g. `limit` or `title`.")
    message: str = Field(description="What is wrong with it.")


class Problem(BaseModel):
    """An error (RFC 9457)."""

    type: str = Field("about:blank", description="The kind of problem; `about:blank` here.")
    title: str = Field(description="The HTTP status's phrase.")
    status: int = Field(description="The HTTP status code.")
    detail: str = Field(description="What went wrong.")
    instance: str = Field(description="The path of the request.")
    errors: list[FieldProblem] | None = Field(
        None, description="The inputs that were refused (400 and 422 only)."
    )


class InputProblem(HTTPException):
    """A refused input found by the API's own code (a cursor it did not give): 400 naming
    the field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(400, f"{field}: {message}")
        self.errors = [FieldProblem(field=field, message=message)]


class ProblemResponse(JSONResponse):
    media_type = PROBLEM_MEDIA_TYPE


def problem_response(
    request_path: str,
    status: int,
    detail: str,
    headers: Mapping[str, str] | None = None,
    errors: Sequence[FieldProblem] = (),
) -> Response:
    problem = Problem(
        title=HTTPStatus(status).phrase,
        status=status,
        detail=detail,
        instance=request_path,
        errors=list(errors) or None,
    )
    return ProblemResponse(
        problem.model_dump(exclude_none=True), status_code=status, headers=dict(headers or {})
    )


async def http_problem(request: Request, exc: Exception) -> Response:
    """HTTPException: no route (404), a method the route lacks (405), a refusal raised by
    the API's own code (401, 429, a bad cursor's 400)."""
    assert isinstance(exc, HTTPException)
    detail = exc.detail
    headers = dict(exc.headers or {})
    if exc.status_code == 404 and detail == HTTPStatus.NOT_FOUND.phrase:
        detail = f"There is nothing at {request.url.path}."
    elif exc.status_code == 405 and detail == HTTPStatus.METHOD_NOT_ALLOWED.phrase:
        headers["Allow"] = _allowed_methods(request)
        detail = f"{request.method} is not allowed here (allowed: {headers['Allow']})."
    errors = exc.errors if isinstance(exc, InputProblem) else ()
    return problem_response(request.url.path, exc.status_code, detail, headers, errors)


def _allowed_methods(request: Request) -> str:
    """Every method the path takes (the router's 405 names only the first route's)."""
    methods: set[str] = set()
    for route in request.app.state.api_routes:
        match, _ = route.matches(request.scope)
        if match is not Match.NONE:
            methods |= getattr(route, "methods", None) or set()
    return ", ".join(sorted(methods))


def _field_name(location: Sequence[int | str]) -> str:
    """``("body", "title")`` → ``title``; ``("query", "limit")`` → ``limit``; the body as a
    whole is ``body``."""
    inside = [str(part) for part in location[1:]]
    return ".".join(inside) if inside else str(location[0]) if location else "body"


async def validation_problem(request: Request, exc: Exception) -> Response:
    """Refused parameters or body: 422 naming each field, or 400 when the body is not JSON."""
    assert isinstance(exc, RequestValidationError)
    errors: list[FieldProblem] = []
    status = 422
    for error in exc.errors():
        if error.get("type") == "json_invalid":
            status = 400
            reason = (error.get("ctx") or {}).get("error", "")
            errors.append(FieldProblem(field="body", message=f"not valid JSON: {reason}"))
            continue
        message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
        errors.append(FieldProblem(field=_field_name(error.get("loc", ())), message=message))
    detail = "; ".join(f"{error.field}: {error.message}" for error in errors)
    return problem_response(request.url.path, status, detail, errors=errors)


async def mailer_problem(request: Request, exc: Exception) -> Response:
    """The core's errors, with the core's message: 403 for a permission, 404 for something
    that is not there, 409 for a clash, 422 for named fields, 400 for the rest."""
    assert isinstance(exc, MailerError)
    path = request.url.path
    if isinstance(exc, FieldError | FieldErrors):
        fields = exc.errors if isinstance(exc, FieldErrors) else [exc]
        errors = [FieldProblem(field=error.field, message=error.problem) for error in fields]
        return problem_response(path, 422, str(exc), errors=errors)
    status = 400
    if isinstance(exc, Forbidden):
        status = 403
    elif isinstance(exc, NotFoundError):
        status = 404
    elif isinstance(exc, ConflictError):
        status = 409
    return problem_response(path, status, str(exc))


async def server_problem(request: Request, exc: Exception) -> Response:
    """Anything else: 500 without the details, which go to the server's log (the exception
    is raised again after this answer)."""
    return problem_response(
        request.url.path, 500, "The server failed to answer; the failure is in its log."
    )


def install_problem_handlers(app: FastAPI) -> None:
    handlers: dict[Any, Any] = {
        HTTPException: http_problem,
        RequestValidationError: validation_problem,
        MailerError: mailer_problem,
        Exception: server_problem,
    }
    for kind, handler in handlers.items():
        app.add_exception_handler(kind, handler)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses`` a route declares for ``statuses``: each a Problem, with the headers
    a 401 and a 429 carry."""
    declared: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        response: dict[str, Any] = {"model": Problem, "description": _WHEN[status]}
        if status in _HEADERS:
            response["headers"] = _HEADERS[status]
        declared[status] = response
    return declared


_WHEN = {
    400: "The body is not JSON, a cursor is not one this API gave, or the request is "
    "otherwise wrong.",
    401: "No API token, or one that is unknown or revoked.",
    403: "The token's role does not allow this.",
    404: "There is no such thing.",
    409: "It clashes with what is there already.",
    413: "The body is too large.",
    415: "The body is not JSON (Content-Type: application/json).",
    422: "A parameter or body field is refused; `errors` names each.",
    429: "Too many requests with this token; try again after Retry-After seconds.",
    500: "The server failed.",
}
_HEADERS = {
    401: {
        "WWW-Authenticate": {
            "description": '`Bearer realm="mailer"`, with `error="invalid_token"` for a '
            "token that is unknown or revoked.",
            "schema": {"type": "string"},
        },
    },
    429: {
        "Retry-After": {"description": "Seconds to wait.", "schema": {"type": "integer"}},
    },
}
