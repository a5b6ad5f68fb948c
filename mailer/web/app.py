"""The public web app: one Starlette app over the application object, served by ``mailer serve``.

Routes come from route modules, each with ``routes(mailer) -> list[BaseRoute]``: the core ones
here, then every module of ``mailer.web.public``, ``mailer.web.webhooks`` and
``mailer.web.admin`` (not those whose name starts with ``_``). Every route gets the security
headers and the CSRF check (see ``mailer.web.security``), and every ``/admin`` path the admin
guard (``mailer.web.admin._guard``: a session, and the endpoint's permission); endpoints that
use the database are plain ``def`` functions, which Starlette runs in its thread pool, or
``async`` ones that hand it their database work (the busiest gather requests that arrive
together: ``mailer.web.group_commit``).

Nothing another process needs is kept in this one: rate limits live in the database and CSRF
tokens are keyed hashes, so any number of ``mailer serve`` processes can share one database.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Sequence
from typing import Protocol

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.routing import BaseRoute

from mailer.api import mount as api_mount
from mailer.app import Mailer
from mailer.web import admin, health, home, public, webhooks
from mailer.web.admin._guard import AdminGuard
from mailer.web.errors import ServerErrorPage, http_error
from mailer.web.pages import Pages
from mailer.web.security import CsrfMiddleware, SecurityHeadersMiddleware


class RouteModule(Protocol):
    def routes(self, mailer: Mailer) -> list[BaseRoute]: ...


# The REST API under /api/v1 is one of them (see mailer.api.mount).
CORE_ROUTE_MODULES: tuple[RouteModule, ...] = (health, home, api_mount)


def default_route_modules() -> list[RouteModule]:
    """The core route modules, then each module of ``mailer.web.public``, ``mailer.web.webhooks``
    and ``mailer.web.admin`` by name (leaving out helpers: names starting with ``_``)."""
    found: list[RouteModule] = list(CORE_ROUTE_MODULES)
    for package in (public, webhooks, admin):
        for module in sorted(pkgutil.iter_modules(package.__path__), key=lambda info: info.name):
            if not module.name.startswith("_"):
                found.append(importlib.import_module(f"{package.__name__}.{module.name}"))
    return found


def create_app(mailer: Mailer, modules: Sequence[RouteModule] | None = None) -> Starlette:
    """The app serving ``modules``' routes (by default ``default_route_modules()``)."""
    pages = Pages(mailer.settings)
    routes = [
        route
        for module in (default_route_modules() if modules is None else modules)
        for route in module.routes(mailer)
    ]
    app = Starlette(routes=routes, exception_handlers={HTTPException: http_error})
    app.state.mailer = mailer
    app.state.pages = pages
    # Added innermost first: the headers go on every response, the 500 page included.
    app.add_middleware(CsrfMiddleware, router=app.router)
    # Outside the CSRF check: a request without a session is refused as such (401).
    app.add_middleware(AdminGuard, router=app.router)
    app.add_middleware(ServerErrorPage)
    app.add_middleware(SecurityHeadersMiddleware, router=app.router)
    return app
