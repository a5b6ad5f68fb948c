"""Lists (``/admin/lists``): every list with its members by status, visibility and opt-in,
100 a page by name; a list's own page. Whoever may manage the audience also creates lists,
changes their title, description, opt-in and visibility, and deletes them after a page that
says what deleting touches (members, campaigns not done, schedules). Others only look: no
form is shown them, and the guard refuses their posts."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from mailer.accounts.roles import Permission
from mailer.actions import lists as actions
from mailer.app import Mailer
from mailer.audience.lists import LIST_NAME, ListChanges
from mailer.errors import MailerError, NotFoundError
from mailer.web.admin._guard import PREFIX, requires
from mailer.web.admin._list_forms import form_endpoint, form_text, query_text, status_of
from mailer.web.admin._pages import admin_page
from mailer.web.admin._session import principal_of
from mailer.web.strings import STRINGS

PATH = f"{PREFIX}/lists"
PAGE_SIZE = 100
NAME_MAX = 100
TITLE_MAX = 200
DESCRIPTION_MAX = 5000


def _may_manage(request: Request) -> bool:
    return principal_of(request).can(Permission.MANAGE_AUDIENCE)


def _lists_page(
    request: Request,
    *,
    notice: str = "",
    error: str = "",
    status: int = 200,
    typed: dict[str, Any] | None = None,
) -> Response:
    after = query_text(request, "after", NAME_MAX) or None
    page = actions.list_page(
        request.app.state.mailer, principal_of(request), after=after, limit=PAGE_SIZE
    )
    return admin_page(
        request,
        "admin/lists.html",
        principal_of(request),
        status_code=status,
        lists=page.items,
        next_after=page.next_after,
        paged=after is not None,
        manage=_may_manage(request),
        typed=typed or {},
        notice=notice,
        error=error,
        current="lists",
    )


def _list_name(request: Request) -> str:
    """The list named in the path; a name no list can have is not looked for."""
    name: str = request.path_params["name"]
    if not LIST_NAME.fullmatch(name):
        raise NotFoundError(f"no list named {name[:NAME_MAX]!r}")
    return name


def _list_page(
    request: Request, *, notice: str = "", error: str = "", status: int = 200
) -> Response:
    name = _list_name(request)
    return admin_page(
        request,
        "admin/list.html",
        principal_of(request),
        status_code=status,
        mailing_list=actions.show_list(request.app.state.mailer, principal_of(request), name),
        manage=_may_manage(request),
        notice=notice,
        error=error,
        current="lists",
    )


def _missing(request: Request, error: MailerError) -> Response:
    return _lists_page(request, error=str(error), status=status_of(error))


@requires(Permission.READ)
def lists_page(request: Request) -> Response:
    return _lists_page(request)


@requires(Permission.READ)
def list_page(request: Request) -> Response:
    try:
        return _list_page(request)
    except NotFoundError as exc:
        return _missing(request, exc)


def _typed(form: FormData) -> dict[str, Any]:
    """What was typed into the create form, to show it again when refused."""

    def raw(field: str) -> str:
        value = form.get(field)
        return value[:DESCRIPTION_MAX] if isinstance(value, str) else ""

    return {
        "name": raw("name")[:NAME_MAX],
        "title": raw("title")[:TITLE_MAX],
        "description": raw("description"),
        "double_opt_in": "double_opt_in" in form,
        "public": "public" in form,
    }


def _create(request: Request, form: FormData) -> Response:
    try:
        created = actions.create_list(
            request.app.state.mailer,
            principal_of(request),
            form_text(form, "name", NAME_MAX),
            title=form_text(form, "title", TITLE_MAX),
            description=form_text(form, "description", DESCRIPTION_MAX, multiline=True),
            double_opt_in="double_opt_in" in form,
            public="public" in form,
        )
    except MailerError as exc:
        typed = _typed(form)
        return _lists_page(request, error=str(exc), status=status_of(exc), typed=typed)
    return _lists_page(request, notice=STRINGS.lists.created.format(name=created.name))


def _edit(request: Request, form: FormData) -> Response:
    try:
        name = _list_name(request)
        changes = ListChanges(
            title=form_text(form, "title", TITLE_MAX),
            description=form_text(form, "description", DESCRIPTION_MAX, multiline=True),
            double_opt_in="double_opt_in" in form,
            public="public" in form,
        )
        before = actions.show_list(request.app.state.mailer, principal_of(request), name)
        after = actions.change_list(request.app.state.mailer, principal_of(request), name, changes)
    except NotFoundError as exc:
        return _missing(request, exc)
    except MailerError as exc:
        return _list_page(request, error=str(exc), status=status_of(exc))
    words = STRINGS.lists
    same = before.as_json() == after.as_json()
    return _list_page(request, notice=words.unchanged if same else words.saved.format(name=name))


@requires(Permission.MANAGE_AUDIENCE)
def confirm_delete(request: Request) -> Response:
    try:
        usage = actions.list_usage(
            request.app.state.mailer, principal_of(request), _list_name(request)
        )
    except NotFoundError as exc:
        return _missing(request, exc)
    counts = usage.mailing_list.counts
    return admin_page(
        request,
        "admin/list_delete.html",
        principal_of(request),
        usage=usage,
        total=sum(counts.values()),
        current="lists",
    )


def _delete(request: Request, form: FormData) -> Response:
    try:
        name = _list_name(request)
        deleted = actions.delete_list(request.app.state.mailer, principal_of(request), name)
    except MailerError as exc:
        return _missing(request, exc)
    notice = STRINGS.lists.deleted.format(name=name, memberships=deleted.memberships)
    return _lists_page(request, notice=notice)


def routes(mailer: Mailer) -> list[BaseRoute]:
    manage = Permission.MANAGE_AUDIENCE
    return [
        Route(PATH, lists_page, methods=["GET"], name="admin_lists"),
        Route(
            f"{PATH}/create",
            form_endpoint(manage, _create),
            methods=["POST"],
            name="admin_lists_create",
        ),
        Route(f"{PATH}/{{name}}", list_page, methods=["GET"], name="admin_list"),
        Route(
            f"{PATH}/{{name}}/edit",
            form_endpoint(manage, _edit),
            methods=["POST"],
            name="admin_list_edit",
        ),
        Route(f"{PATH}/{{name}}/delete", confirm_delete, methods=["GET"], name="admin_list_delete"),
        Route(
            f"{PATH}/{{name}}/delete",
            form_endpoint(manage, _delete),
            methods=["POST"],
            name="admin_list_delete_post",
        ),
    ]
