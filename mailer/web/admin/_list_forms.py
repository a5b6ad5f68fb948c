"""What the lists, suppressions and schedules pages share: text read from a form or a query
checked the way the REST API checks it (lengths the database holds, no control characters,
which PostgreSQL would refuse in a NUL), and endpoints that read a form and act."""

from __future__ import annotations

import re
from collections.abc import Callable

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from mailer.accounts.roles import Permission
from mailer.errors import FieldError, MailerError, NotFoundError
from mailer.web.admin._guard import requires
from mailer.web.strings import STRINGS

# C0 and C1 controls, DEL and lone surrogates; the multi-line kind lets line breaks and tabs by.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_CONTROL_BUT_LINES = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")

Handler = Callable[[Request, FormData], Response]


def checked_text(field: str, value: str, limit: int, *, multiline: bool = False) -> str:
    """``value`` stripped, or a FieldError naming ``field``."""
    words = STRINGS.lists
    if len(value) > limit:
        raise FieldError(field, words.field_too_long.format(field=field, limit=limit))
    if (_CONTROL_BUT_LINES if multiline else _CONTROL).search(value):
        raise FieldError(field, words.field_control.format(field=field))
    return value.strip()


def form_text(form: FormData, field: str, limit: int, *, multiline: bool = False) -> str:
    value = form.get(field)
    return checked_text(field, value if isinstance(value, str) else "", limit, multiline=multiline)


def query_text(request: Request, field: str, limit: int) -> str | None:
    """A query parameter, "" when absent, None when no such text could be typed."""
    try:
        return checked_text(field, request.query_params.get(field, ""), limit)
    except FieldError:
        return None


def status_of(error: MailerError) -> int:
    return 404 if isinstance(error, NotFoundError) else 400


def form_endpoint(permission: Permission, handle: Handler) -> Callable[[Request], object]:
    """An endpoint for ``permission`` that reads the form and answers with ``handle``."""

    @requires(permission)
    async def endpoint(request: Request) -> Response:
        async with request.form() as form:
            return await run_in_threadpool(handle, request, form)

    endpoint.__name__ = handle.__name__.lstrip("_")
    return endpoint
