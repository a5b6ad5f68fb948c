"""``GET /admin``: the dashboard (``mailer.services.dashboard``): recent campaigns with their
ledger and, once events came, delivered, opened and clicked; upcoming sends; what needs
attention (paused, in doubt); the lists' sizes and growth (``mailer.services.list_growth``)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from mailer.app import Mailer
from mailer.services.dashboard import dashboard
from mailer.services.list_growth import growth_of
from mailer.web.admin._guard import PREFIX
from mailer.web.admin._pages import admin_page
from mailer.web.admin._session import principal_of


def home(request: Request) -> Response:
    mailer: Mailer = request.app.state.mailer
    return admin_page(
        request,
        "admin/dashboard.html",
        principal_of(request),
        board=dashboard(mailer),
        growth=growth_of(mailer.engine, mailer.clock()),
        current="dashboard",
    )


def routes(mailer: Mailer) -> list[BaseRoute]:
    return [Route(PREFIX, home, methods=["GET"], name="admin_dashboard")]
