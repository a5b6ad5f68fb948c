"""What a page needs to show the signup form (``templates/web/_signup_form.html``): the
public lists, what was entered, the problems found, and a fresh cookieless form token. The
form is on /signup and on the home page, and both post to /signup."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

from mailer.app import Mailer
from mailer.services.signup import offered_lists
from mailer.web.form_tokens import form_token
from mailer.web.rate_limits import client_address

FORM_PURPOSE = "signup"
TOKEN_FIELD = "csrf_token"
HONEYPOT_FIELD = "website"


@dataclass(frozen=True)
class ShownError:
    field: str
    label: str
    message: str


@dataclass(frozen=True)
class Entered:
    """What the form held, shown again with a problem."""

    email: str = ""
    name: str = ""
    chosen: frozenset[str] = frozenset()
    label: str = ""


def signup_form_context(
    request: Request, entered: Entered = Entered(), errors: tuple[ShownError, ...] = ()
) -> dict[str, Any]:
    """The template values the signup form is made from. With a single public list it is
    ticked already: there is nothing else to choose."""
    mailer: Mailer = request.app.state.mailer
    offers = offered_lists(mailer)
    chosen = entered.chosen
    if not chosen and len(offers) == 1:
        chosen = frozenset({offers[0].name})
    token = form_token(mailer.signing_key, FORM_PURPOSE, client_address(request), mailer.clock())
    return {
        "offers": offers,
        "chosen": chosen,
        "entered": entered,
        "token": token,
        "token_field": TOKEN_FIELD,
        "honeypot_field": HONEYPOT_FIELD,
        "errors": errors,
        "error_for": {
            "email": "",
            "name": "",
            "lists": "",
            **{error.field: error.message for error in errors},
        },
    }
