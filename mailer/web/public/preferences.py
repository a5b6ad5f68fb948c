"""A subscriber's own page, through the signed preferences link in every mail:
``GET/POST /preferences/<token>`` (lists, name, time zone; "leave everything"),
``GET /preferences/<token>/data`` (their data as a JSON file), and
``GET/POST /preferences/<token>/erase`` (erasure, after a confirmation). The forms are this
site's: CSRF-checked."""

from __future__ import annotations

import json
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from mailer.app import Mailer
from mailer.audience.attributes import known_timezones
from mailer.errors import FieldError
from mailer.services import preferences as service
from mailer.services.consent import Origin
from mailer.services.subscriber_links import InvalidLink, LinkFromTestCopy
from mailer.web.pages import render
from mailer.web.rate_limits import client_address
from mailer.web.strings import STRINGS

SOURCE = "preferences page"


def _mailer(request: Request) -> Mailer:
    mailer: Mailer = request.app.state.mailer
    return mailer


def _page(
    request: Request,
    found: service.Preferences,
    *,
    message: str = "",
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "preferences.html",
        status_code=status_code,
        token=request.path_params["token"],
        person=found,
        zones=sorted(known_timezones()),
        message=message,
        errors=errors or {},
    )


def _guarded(action: Any, request: Request, *args: Any) -> Any:
    try:
        return action(_mailer(request), request.path_params["token"], *args)
    except (InvalidLink, LinkFromTestCopy):
        raise HTTPException(404) from None


def show(request: Request) -> Response:
    return _page(request, _guarded(service.load_preferences, request))


async def change(request: Request) -> Response:
    form = await request.form()
    origin = Origin(SOURCE, client_address(request))
    fields = {
        "name": str(form.get("name") or ""),
        "timezone": str(form.get("timezone") or ""),
        "wanted": {str(value) for value in form.getlist("lists")},
    }
    leave = form.get("action") == "leave"
    return await run_in_threadpool(_change, request, origin, fields, leave)


def _change(request: Request, origin: Origin, fields: dict[str, Any], leave: bool) -> Response:
    text = STRINGS.preferences
    if leave:
        found = _guarded(service.leave_everything, request, origin)
        return _page(request, found, message=text.left)
    try:
        found = _guarded(
            lambda mailer, token: service.save_preferences(mailer, token, origin=origin, **fields),
            request,
        )
    except FieldError as error:
        current = _guarded(service.load_preferences, request)
        return _page(request, current, errors={error.field: error.problem}, status_code=400)
    return _page(request, found, message=text.saved)


def data(request: Request) -> Response:
    found = _guarded(service.data_of, request)
    body = json.dumps(found, ensure_ascii=False, indent=2) + "\n"
    return Response(
        body,
        media_type="application/json",
        headers={
            "Content-Disposition": 'attachment; filename="my-data.json"',
            "Cache-Control": "no-store",
        },
    )


def erase_page(request: Request) -> Response:
    _guarded(service.load_preferences, request)  # a link that works, before asking
    return render(request, "erase.html", token=request.path_params["token"], erased=False)


def erase(request: Request) -> Response:
    _guarded(service.erase, request)
    return render(request, "erase.html", token="", erased=True)


def routes(mailer: Mailer) -> list[BaseRoute]:
    return [
        Route("/preferences/{token}", show, methods=["GET"], name="preferences"),
        Route("/preferences/{token}", change, methods=["POST"], name="preferences_change"),
        Route("/preferences/{token}/data", data, methods=["GET"], name="preferences_data"),
        Route("/preferences/{token}/erase", erase_page, methods=["GET"], name="erase_page"),
        Route("/preferences/{token}/erase", erase, methods=["POST"], name="erase"),
    ]
