"""The signup form and its JSON twin.

``GET /signup`` shows the form: no script, and other sites may show it in a frame
(``<iframe src=".../signup">``; ``?list=NAME`` ticks a list, ``?form=LABEL`` names the place
in the consent record). ``POST /signup`` takes it; ``POST /api/signup`` takes
``{"email", "name", "lists"}`` as JSON. Every answer is the same whoever the address belongs
to, the confirmation mail goes out after the answer, and too many requests answer 429 with
Retry-After.

The form's POST is exempt from the site's cookie-based CSRF check, which a framed form could
never pass (browsers keep this site's cookies from frames on other sites); it carries a
cookieless token instead (see ``mailer.web.form_tokens``). The JSON endpoint takes only
``application/json``, which no other site's page can make a browser send without a CORS
preflight that this site does not grant.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from mailer.app import Mailer
from mailer.errors import FieldError
from mailer.services.consent import Origin
from mailer.services.signup import SignupOutcome, Throttled
from mailer.web.errors import error_response
from mailer.web.form_tokens import form_token_valid
from mailer.web.pages import render
from mailer.web.rate_limits import client_address
from mailer.web.requests import TooLarge, bounded
from mailer.web.security import csrf_exempt, embeddable
from mailer.web.signup_batches import sign_up
from mailer.web.signup_form import (
    FORM_PURPOSE,
    HONEYPOT_FIELD,
    TOKEN_FIELD,
    Entered,
    ShownError,
    signup_form_context,
)
from mailer.web.strings import STRINGS

SOURCE = "signup form"
API_SOURCE = "signup API"
MAX_BODY_BYTES = 64 * 1024
FORM_LABEL_MAX = 60


def _mailer(request: Request) -> Mailer:
    mailer: Mailer = request.app.state.mailer
    return mailer


def _form_label(text: str) -> str:
    """Where the form is (``?form=``), as kept in the consent record: printable, short."""
    return "".join(ch for ch in text if ch.isprintable()).strip()[:FORM_LABEL_MAX]


def _source(label: str) -> str:
    return f"{SOURCE} ({label})" if label else SOURCE


def _message(problem: str) -> str:
    return problem[:1].upper() + problem[1:]


def _form_page(
    request: Request,
    entered: Entered,
    *,
    status_code: int = 200,
    errors: tuple[ShownError, ...] = (),
    expired: bool = False,
) -> Response:
    return render(
        request,
        "signup.html",
        status_code=status_code,
        expired=expired,
        **signup_form_context(request, entered, errors),
    )


@embeddable
def signup_page(request: Request) -> Response:
    chosen = frozenset(request.query_params.getlist("list"))
    label = _form_label(request.query_params.get("form", ""))
    return _form_page(request, Entered(chosen=chosen, label=label))


def _text(form: FormData, field: str) -> str:
    value = form.get(field)
    return value if isinstance(value, str) else ""


async def _read_form(request: Request) -> FormData:
    try:
        readable = await bounded(request, MAX_BODY_BYTES)
        return await readable.form(max_files=0, max_fields=200)
    except TooLarge:
        raise HTTPException(413) from None
    except (MultiPartException, ValueError, HTTPException):
        raise HTTPException(400) from None


@embeddable
@csrf_exempt
async def signup_post(request: Request) -> Response:
    form = await _read_form(request)
    mailer = _mailer(request)
    client = client_address(request)
    email, name = _text(form, "email"), _text(form, "name")
    chosen = [value for value in form.getlist("list") if isinstance(value, str)]
    label = _form_label(_text(form, "form"))
    entered = Entered(email, name, frozenset(chosen), label)
    token = _text(form, TOKEN_FIELD)
    if not form_token_valid(mailer.signing_key, FORM_PURPOSE, token, client, mailer.clock()):
        return _form_page(request, entered, status_code=403, expired=True)
    try:
        origin = Origin(_source(label), client)
        outcome, later = await sign_up(
            request, email, name, chosen, origin, _text(form, HONEYPOT_FIELD)
        )
    except Throttled as exc:
        return error_response(request, 429, {"Retry-After": str(exc.retry_after)})
    except FieldError as exc:
        shown = ShownError(exc.field, STRINGS.signup.field_name(exc.field), _message(exc.problem))
        return _form_page(request, entered, status_code=400, errors=(shown,))
    response = _thanks(request, outcome)
    response.background = later.tasks()
    return response


def _thanks(request: Request, outcome: SignupOutcome) -> Response:
    waiting = [entry for entry in outcome.lists if entry.name in outcome.to_confirm]
    at_once = [entry for entry in outcome.lists if entry.name not in outcome.to_confirm]
    return render(request, "signup_thanks.html", waiting=waiting, at_once=at_once)


def _json_error(status: int, errors: list[dict[str, str]], **extra: Any) -> JSONResponse:
    headers = {"Retry-After": str(extra["retry_after"])} if "retry_after" in extra else None
    return JSONResponse({"errors": errors, **extra}, status_code=status, headers=headers)


def _field(data: dict[str, Any], name: str, kind: type, default: Any) -> Any:
    value = data.get(name, default)
    if kind is list:
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise FieldError(name, "must be a list of list names")
    elif not isinstance(value, kind):
        raise FieldError(name, "must be a string")
    return value


@csrf_exempt
async def signup_api(request: Request) -> Response:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/json":
        return _json_error(415, [{"pointer": "", "message": "send the signup as application/json"}])
    try:
        body = await (await bounded(request, MAX_BODY_BYTES)).body()
        data = json.loads(body)
    except TooLarge:
        return _json_error(413, [{"pointer": "", "message": "the body is too large"}])
    except (ValueError, UnicodeDecodeError):
        return _json_error(400, [{"pointer": "", "message": "the body is not JSON"}])
    if not isinstance(data, dict):
        return _json_error(400, [{"pointer": "", "message": "send a JSON object"}])
    try:
        email = _field(data, "email", str, "")
        name = _field(data, "name", str, "")
        chosen = _field(data, "lists", list, [])
        honeypot = _field(data, HONEYPOT_FIELD, str, "")
        origin = Origin(API_SOURCE, client_address(request))
        outcome, later = await sign_up(request, email, name, chosen, origin, honeypot)
    except Throttled as exc:
        message = {"pointer": "", "message": "too many signups; try again later"}
        return _json_error(429, [message], retry_after=exc.retry_after)
    except FieldError as exc:
        error = {"field": exc.field, "pointer": f"/{exc.field}", "message": exc.problem}
        return _json_error(422, [error])
    answer = {
        "lists": [{"name": entry.name, "title": entry.title} for entry in outcome.lists],
        "to_confirm": list(outcome.to_confirm),
    }
    return JSONResponse(answer, background=later.tasks())


def routes(mailer: Mailer) -> list[BaseRoute]:
    return [
        Route("/signup", signup_page, methods=["GET"], name="signup"),
        Route("/signup", signup_post, methods=["POST"], name="signup_post"),
        Route("/api/signup", signup_api, methods=["POST"], name="signup_api"),
    ]
