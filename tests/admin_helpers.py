"""Helpers for the admin app's tests: users made through the accounts service, logging in
through the real form of a real ``mailer serve`` (httpx, cookies kept), the CSRF token of a
page, and the admin routes as the app itself lists them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
from starlette.routing import Route

from mailer.accounts.roles import Role
from mailer.accounts.users import add_user
from mailer.app import Mailer
from mailer.web.app import create_app
from tests.conftest import Project
from tests.web_server import SIGNING_KEY, WebServer

OWNER = "owner@example.com"
ADMIN = "admin@example.com"
EDITOR = "editor@example.com"
VIEWER = "viewer@example.com"
# Script in a text field, and how a page shows it escaped.
HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'
ESCAPED = "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;"
PASSWORD = "a long and quiet river"
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


@contextmanager
def opened_mailer(project: Project) -> Iterator[Mailer]:
    """The application object on the project, with the key the test web server signs with."""
    mailer = Mailer(project.settings(), environ={"MAILER_SECRET_KEY": SIGNING_KEY})
    try:
        yield mailer
    finally:
        mailer.close()


def add_account(project: Project, email: str, role: Role, password: str = PASSWORD) -> None:
    with opened_mailer(project) as mailer:
        add_user(mailer, email, role, password, actor="cli")


def add_staff(project: Project) -> None:
    """An admin, an editor and a viewer (ADMIN, EDITOR, VIEWER), with PASSWORD."""
    for email, role in ((ADMIN, Role.ADMIN), (EDITOR, Role.EDITOR), (VIEWER, Role.VIEWER)):
        add_account(project, email, role)


def csrf_token(page: httpx.Response) -> str:
    found = _TOKEN.search(page.text)
    assert found, f"no CSRF field on {page.request.url}"
    return found.group(1)


def login_form(client: httpx.Client, next_path: str = "") -> str:
    """Open the log-in page (which sets the CSRF cookie); its form's token."""
    page = client.get("/admin/login", params={"next": next_path} if next_path else None)
    assert page.status_code == 200
    return csrf_token(page)


def post_login(
    client: httpx.Client, email: str, password: str, next_path: str = ""
) -> httpx.Response:
    token = login_form(client, next_path)
    return client.post(
        "/admin/login",
        data={"csrf_token": token, "email": email, "password": password, "next": next_path},
    )


@contextmanager
def logged_in(server: WebServer, email: str, password: str = PASSWORD) -> Iterator[httpx.Client]:
    """A client with a session of ``email`` (and its CSRF cookie), closed afterwards."""
    with server.client() as client:
        answer = post_login(client, email, password)
        assert answer.status_code == 303, answer.text
        yield client


def form_token(client: httpx.Client, path: str = "/admin") -> str:
    """The CSRF token of a page the client may open."""
    page = client.get(path)
    assert page.status_code == 200, page.text
    return csrf_token(page)


@dataclass(frozen=True)
class AdminRoute:
    path: str
    method: str
    endpoint: object


def admin_routes(project: Project) -> list[AdminRoute]:
    """Every (path, method) under /admin that the app serves, read from the app's routes."""
    mailer = Mailer(project.settings(), environ={"MAILER_SECRET_KEY": SIGNING_KEY})
    try:
        app = create_app(mailer)
    finally:
        mailer.close()
    found = []
    for route in app.routes:
        if isinstance(route, Route) and (
            route.path == "/admin" or route.path.startswith("/admin/")
        ):
            for method in sorted((route.methods or set()) - {"HEAD"}):
                path = re.sub(r"\{[^}]+\}", "1", route.path)
                found.append(AdminRoute(path, method, route.endpoint))
    return found
