"""API tokens (owners only: ``manage_users``). ``GET /admin/tokens`` lists every token, revoked
ones too, with a form to make one; ``POST /admin/tokens/create`` makes it and answers with the
one page that ever shows its secret (never a redirect: the secret must not travel in a URL,
and the page, like every admin page, is ``no-store``); ``GET /admin/tokens/NAME/revoke`` asks
first, and its POST revokes, refused from the next request on."""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from mailer.accounts.roles import Permission, Role, role_named
from mailer.accounts.tokens import ApiToken
from mailer.actions import tokens as actions
from mailer.app import Mailer
from mailer.errors import FieldError, FieldErrors, MailerError, NotFoundError
from mailer.web.admin._guard import PREFIX, requires
from mailer.web.admin._list_forms import form_endpoint, form_text, status_of
from mailer.web.admin._pages import admin_page
from mailer.web.admin._session import principal_of
from mailer.web.strings import STRINGS

PATH = f"{PREFIX}/tokens"
NAME_MAX = 64
# The create form's fields: a refusal of one of these is shown at it.
FIELDS = ("name", "role", "can_send")


def _tokens_page(
    request: Request,
    *,
    notice: str = "",
    error: str = "",
    errors: dict[str, str] | None = None,
    typed: dict[str, object] | None = None,
    status: int = 200,
) -> Response:
    return admin_page(
        request,
        "admin/tokens.html",
        principal_of(request),
        status_code=status,
        tokens=actions.token_listing(request.app.state.mailer, principal_of(request)),
        roles=[role.value for role in Role],
        typed=typed or {"role": Role.VIEWER.value},
        errors=errors or {},
        notice=notice,
        error=error,
        current="tokens",
    )


@requires(Permission.MANAGE_USERS)
def tokens_page(request: Request) -> Response:
    return _tokens_page(request)


def _by_field(exc: MailerError) -> dict[str, str]:
    """The refusal by field, each shown at its field (anything else at the top)."""
    found = exc.errors if isinstance(exc, FieldErrors) else [exc]
    errors: dict[str, str] = {}
    for error in found:
        if isinstance(error, FieldError) and error.field in FIELDS:
            errors[error.field] = error.problem
        else:
            errors["form"] = str(error)
    return errors


def _typed(form: FormData) -> dict[str, object]:
    """What was typed, to show it again with the refusal (escaped, cut to the field's size)."""
    name, role = form.get("name"), form.get("role")
    return {
        "name": name[:NAME_MAX] if isinstance(name, str) else "",
        # A role no option has shows the least one, never the first (owner).
        "role": role if role in tuple(Role) else Role.VIEWER.value,
        "can_send": "can_send" in form,
    }


def _can_send(form: FormData, role: Role) -> bool | None:
    """The checkbox; for an owner (who always sends) or a viewer (who never does) the role
    decides whatever the box says, as on the users page."""
    return None if role in (Role.OWNER, Role.VIEWER) else "can_send" in form


def _create(request: Request, form: FormData) -> Response:
    try:
        name = form_text(form, "name", NAME_MAX)
        if not name:
            raise FieldError("name", STRINGS.tokens.name_missing)
        typed_role = form.get("role")
        role = role_named(typed_role.strip() if isinstance(typed_role, str) else "")
        token, secret = actions.make_token(
            request.app.state.mailer, principal_of(request), name, role, _can_send(form, role)
        )
    except MailerError as exc:
        errors = _by_field(exc)
        return _tokens_page(
            request,
            error=STRINGS.tokens.form_error if "form" not in errors else "",
            errors=errors,
            typed=_typed(form),
            status=status_of(exc),
        )
    return admin_page(
        request,
        "admin/token_created.html",
        principal_of(request),
        token=token,
        secret=secret,
        current="tokens",
    )


def _named(request: Request) -> ApiToken:
    name: str = request.path_params["name"]
    return actions.find_token(request.app.state.mailer, principal_of(request), name)


def _missing(request: Request, exc: MailerError) -> Response:
    return _tokens_page(request, error=str(exc), status=status_of(exc))


@requires(Permission.MANAGE_USERS)
def confirm_revoke(request: Request) -> Response:
    try:
        token = _named(request)
    except NotFoundError as exc:
        return _missing(request, exc)
    if token.revoked_at is not None:
        notice = STRINGS.tokens.revoked_already.format(name=token.name)
        return _tokens_page(request, notice=notice)
    return admin_page(
        request, "admin/token_revoke.html", principal_of(request), token=token, current="tokens"
    )


def _revoke(request: Request, form: FormData) -> Response:
    try:
        token = _named(request)
        if token.revoked_at is not None:
            notice = STRINGS.tokens.revoked_already.format(name=token.name)
            return _tokens_page(request, notice=notice)
        actions.revoke(request.app.state.mailer, principal_of(request), token.name)
    except MailerError as exc:
        return _missing(request, exc)
    return _tokens_page(request, notice=STRINGS.tokens.revoked.format(name=token.name))


def routes(mailer: Mailer) -> list[BaseRoute]:
    manage = Permission.MANAGE_USERS
    return [
        Route(PATH, tokens_page, methods=["GET"], name="admin_tokens"),
        Route(
            f"{PATH}/create",
            form_endpoint(manage, _create),
            methods=["POST"],
            name="admin_tokens_create",
        ),
        Route(
            f"{PATH}/{{name}}/revoke", confirm_revoke, methods=["GET"], name="admin_token_revoke"
        ),
        Route(
            f"{PATH}/{{name}}/revoke",
            form_endpoint(manage, _revoke),
            methods=["POST"],
            name="admin_token_revoke_post",
        ),
    ]
