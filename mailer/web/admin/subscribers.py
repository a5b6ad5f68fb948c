"""Subscribers (``/admin/subscribers``): search by the start of an address or a name, by list,
status and segment expression (a segment that cannot be read is shown at its field, at its
column), 50 a page in address order with a link to the next (``?after=``, the last address
shown, so a deep page costs what the first does on a million subscribers); and one
subscriber's page (``/admin/subscribers/<address>``) with their lists, attributes, deliveries
and events. Everyone reads them; only those who may manage the audience see the forms, and
the guard refuses anyone else's posts (the forms' handlers are in ``_subscriber_forms``)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from mailer.accounts.roles import Permission
from mailer.app import Mailer
from mailer.web.admin import _subscriber_forms as forms
from mailer.web.admin._guard import requires
from mailer.web.admin._list_forms import form_endpoint
from mailer.web.admin._subscriber_pages import PATH, search_page, subscriber_page


@requires(Permission.READ)
def subscribers_page(request: Request) -> Response:
    return search_page(request)


@requires(Permission.READ)
def one_subscriber_page(request: Request) -> Response:
    return subscriber_page(request)


@requires(Permission.MANAGE_AUDIENCE)
def confirm_forget(request: Request) -> Response:
    return forms.confirm_forget(request)


def routes(mailer: Mailer) -> list[BaseRoute]:
    manage = Permission.MANAGE_AUDIENCE
    one = f"{PATH}/{{email:path}}"
    changes = {
        "edit": forms.edit,
        "unsubscribe": forms.unsubscribe,
        "resubscribe": forms.resubscribe,
        "suppress": forms.suppress,
        "forget": forms.forget,
    }
    return [
        Route(PATH, subscribers_page, methods=["GET"], name="admin_subscribers"),
        Route(
            f"{PATH}/add",
            form_endpoint(manage, forms.add),
            methods=["POST"],
            name="admin_subscribers_add",
        ),
        Route(f"{one}/forget", confirm_forget, methods=["GET"], name="admin_subscriber_forget"),
        *(
            Route(
                f"{one}/{verb}",
                form_endpoint(manage, handle),
                methods=["POST"],
                name=f"admin_subscriber_{verb}_post",
            )
            for verb, handle in changes.items()
        ),
        # Last: an address takes the rest of the path, so "/forget" must be matched first.
        Route(one, one_subscriber_page, methods=["GET"], name="admin_subscriber"),
    ]
