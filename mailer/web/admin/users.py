"""Users (owners only: ``manage_users``): ``GET /admin/users`` lists them with a form to add
one; ``POST /admin/users/add``, ``/role`` (role and can-send), ``/remove`` and ``/logout``
(ends their sessions) act on the user the form names by email, and answer with the page
again, saying what changed or why not. Removing a user or changing their password ends their
sessions at once; the last owner can be neither removed nor demoted."""

from __future__ import annotations

from collections.abc import Callable

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from mailer.accounts.roles import Permission, Principal, Role, role_named
from mailer.accounts.users import add_user, change_role, list_users, log_out_everywhere, remove_user
from mailer.app import Mailer
from mailer.errors import MailerError
from mailer.web.admin._guard import PREFIX, requires
from mailer.web.admin._pages import admin_page
from mailer.web.admin._session import principal_of
from mailer.web.admin.login import MAX_FIELD
from mailer.web.strings import STRINGS

PATH = f"{PREFIX}/users"
Action = Callable[[Mailer, Principal, FormData], str]


def _page(request: Request, *, notice: str = "", error: str = "", status: int = 200) -> Response:
    return admin_page(
        request,
        "admin/users.html",
        principal_of(request),
        status_code=status,
        users=list_users(request.app.state.mailer),
        roles=[role.value for role in Role],
        notice=notice,
        error=error,
        current="users",
    )


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value[:MAX_FIELD].strip() if isinstance(value, str) else ""


def _role(form: FormData) -> Role:
    return role_named(_text(form, "role"))


def _can_send(form: FormData, role: Role) -> bool | None:
    """The checkbox; for an owner (who always sends) or a viewer (who never does), the role
    decides whatever the box says."""
    return None if role in (Role.OWNER, Role.VIEWER) else "can_send" in form


def _add(mailer: Mailer, principal: Principal, form: FormData) -> str:
    email, password, role = _text(form, "email"), form.get("password"), _role(form)
    add_user(
        mailer,
        email,
        role,
        password[:MAX_FIELD] if isinstance(password, str) else "",
        can_send=_can_send(form, role),
        actor=principal.actor,
    )
    return STRINGS.admin.user_added.format(email=email)


def _change_role(mailer: Mailer, principal: Principal, form: FormData) -> str:
    email, role = _text(form, "email"), _role(form)
    change_role(mailer, email, role, _can_send(form, role), actor=principal.actor)
    return STRINGS.admin.user_changed.format(email=email, role=role.value)


def _remove(mailer: Mailer, principal: Principal, form: FormData) -> str:
    email = _text(form, "email")
    remove_user(mailer, email, actor=principal.actor)
    return STRINGS.admin.user_removed.format(email=email)


def _end_sessions(mailer: Mailer, principal: Principal, form: FormData) -> str:
    email = _text(form, "email")
    log_out_everywhere(mailer, email, actor=principal.actor)
    return STRINGS.admin.user_logged_out.format(email=email)


def _acting(action: Action) -> Callable[[Request], object]:
    @requires(Permission.MANAGE_USERS)
    async def endpoint(request: Request) -> Response:
        async with request.form() as form:
            mailer: Mailer = request.app.state.mailer
            try:
                notice = await run_in_threadpool(action, mailer, principal_of(request), form)
            except MailerError as exc:
                return await run_in_threadpool(_failed, request, str(exc))
        return await run_in_threadpool(_done, request, notice)

    return endpoint


def _failed(request: Request, error: str) -> Response:
    return _page(request, error=error, status=400)


def _done(request: Request, notice: str) -> Response:
    return _page(request, notice=notice)


@requires(Permission.MANAGE_USERS)
def users(request: Request) -> Response:
    return _page(request)


def routes(mailer: Mailer) -> list[BaseRoute]:
    return [
        Route(PATH, users, methods=["GET"], name="admin_users"),
        Route(f"{PATH}/add", _acting(_add), methods=["POST"], name="admin_users_add"),
        Route(f"{PATH}/role", _acting(_change_role), methods=["POST"], name="admin_users_role"),
        Route(f"{PATH}/remove", _acting(_remove), methods=["POST"], name="admin_users_remove"),
        Route(
            f"{PATH}/logout", _acting(_end_sessions), methods=["POST"], name="admin_users_logout"
        ),
    ]
