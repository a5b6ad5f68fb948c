"""The home page (the newsletter's name, the signup form, and the latest issues) and the
pages' static files (``static/`` in the web templates folder)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from mailer.app import Mailer
from mailer.services.archive import latest_issues
from mailer.web.pages import STATIC_FOLDER, render
from mailer.web.signup_form import signup_form_context

LATEST_ISSUES = 5


def home(request: Request) -> Response:
    mailer: Mailer = request.app.state.mailer
    return render(
        request,
        "home.html",
        entries=latest_issues(mailer, LATEST_ISSUES),
        **signup_form_context(request),
    )


def routes(mailer: Mailer) -> list[BaseRoute]:
    found: list[BaseRoute] = [Route("/", home, methods=["GET"], name="home")]
    static = mailer.settings.paths.web_templates / STATIC_FOLDER
    if static.is_dir():
        found.append(Mount(f"/{STATIC_FOLDER}", StaticFiles(directory=static), name="static"))
    return found
