"""The REST API: a FastAPI app over the application object, mounted at ``/api/v1`` in the
app of ``mailer serve``.

Its routers (``lists``, ``suppressions``) call ``mailer.actions``, which check the caller's
permission and record each change in the audit log. Every error is a problem
(``mailer.api.problems``); the OpenAPI description at ``/api/v1/openapi.json`` is made from
this code. No interactive docs pages: they load scripts from elsewhere.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mailer.api import campaigns, lists, schedules, subscribers, suppressions
from mailer.api.bodies import BodyGuard
from mailer.api.drafts import router as drafts_router
from mailer.api.imports import router as imports_router
from mailer.api.issues import router as issues_router
from mailer.api.openapi import install_openapi
from mailer.api.problems import install_problem_handlers
from mailer.app import Mailer

DESCRIPTION = """\
Lists, subscribers and suppressions of the newsletter, for scripts and other programs.

Every request carries an API token: `Authorization: Bearer <token>`, from
`mailer tokens create NAME --role ROLE`. A token's role decides what it may do: any role
reads; changes to lists, subscribers and suppressions need `admin` or `owner`. Each token
may make `[api] requests_per_minute` requests a minute (429 with `Retry-After` past it).

Every error is an RFC 9457 problem (`application/problem+json`). Listings are paged with
`limit` and `cursor`: pass a page's `next_cursor` to get the next one.
"""


class NoStore:
    """``Cache-Control: no-store`` on every answer: they are for one token's eyes."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_no_store(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)["cache-control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_no_store)


ROUTERS: tuple[APIRouter, ...] = (
    lists.router,
    suppressions.router,
    campaigns.router,
    drafts_router,
    imports_router,
    issues_router,
    schedules.router,
    subscribers.router,
)


def api_routes() -> list[APIRoute]:
    """Every endpoint of the API (each router's routes carry the router's prefix)."""
    return [route for router in ROUTERS for route in router.routes if isinstance(route, APIRoute)]


def create_api(mailer: Mailer) -> FastAPI:
    api = FastAPI(
        title=f"{mailer.settings.newsletter.name} API",
        version="1",
        description=DESCRIPTION,
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
        # Each operation is known by its function's name: get_lists, post_list...
        generate_unique_id_function=lambda route: route.name,
    )
    api.state.mailer = mailer
    for router in ROUTERS:
        api.include_router(router)
    api.state.api_routes = api_routes()  # for a 405's Allow
    install_problem_handlers(api)
    install_openapi(api)
    api.add_middleware(BodyGuard, max_bytes=mailer.settings.api.max_body_kib * 1024)
    api.add_middleware(NoStore)
    return api
