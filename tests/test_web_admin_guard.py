"""The admin app's gate on a real ``mailer serve``: every admin route, as the app lists them,
refuses a request without a session (a page: 303 to the log-in page; anything else: 401), a
viewer gets 403 naming what is missing from the owner-only ones, every admin form needs its
CSRF token, and ``next`` never leads off the admin pages of this site."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from mailer.accounts.roles import Permission, Role, permissions
from mailer.web.admin._guard import required_permission
from mailer.web.strings import STRINGS
from tests.admin_helpers import (
    OWNER,
    PASSWORD,
    VIEWER,
    AdminRoute,
    add_account,
    admin_routes,
    form_token,
    logged_in,
    login_form,
    post_login,
)
from tests.conftest import Project
from tests.web_server import WebServer

PUBLIC = {("/admin/login", "GET"), ("/admin/login", "POST")}


@pytest.fixture
def server(db_project: Project, web_server: WebServer) -> Iterator[WebServer]:
    add_account(db_project, OWNER, Role.OWNER)
    add_account(db_project, VIEWER, Role.VIEWER)
    yield web_server


def _guarded(project: Project) -> list[AdminRoute]:
    routes = [route for route in admin_routes(project) if (route.path, route.method) not in PUBLIC]
    # The app's own list, not a copy of it: these must be among what it found.
    assert {("/admin", "GET"), ("/admin/users/add", "POST"), ("/admin/audit", "GET")} <= {
        (route.path, route.method) for route in routes
    }
    return routes


def test_every_admin_route_refuses_a_request_without_a_session(
    server: WebServer, db_project: Project
) -> None:
    with server.client() as anonymous:
        _assert_refused_without_session(anonymous, _guarded(db_project))


def _assert_refused_without_session(anonymous: httpx.Client, routes: list[AdminRoute]) -> None:
    token = login_form(anonymous)  # a valid CSRF token: the refusal is for the session alone
    for route in routes:
        answer = anonymous.request(
            route.method, route.path, data={"csrf_token": token} if route.method != "GET" else None
        )
        where = f"{route.method} {route.path}"
        if route.method == "GET":
            assert answer.status_code == 303, where
            target = urlsplit(answer.headers["location"])
            assert target.path == "/admin/login", where
            assert parse_qs(target.query)["next"] == [route.path], where
        else:
            assert answer.status_code == 401, where
            assert "Log in first" in answer.text, where
    # A forged or ended session is no session.
    anonymous.cookies.set("mailer_session", "x" * 43)
    assert anonymous.get("/admin").status_code == 303
    # Nor is an unknown admin path answered to a stranger.
    assert anonymous.get("/admin/no-such-page").status_code == 303


def test_a_viewer_is_refused_what_their_role_lacks_with_a_page_naming_it(
    server: WebServer, db_project: Project
) -> None:
    with logged_in(server, VIEWER) as viewer, logged_in(server, OWNER) as owner:
        _assert_viewer_refused(viewer, owner, db_project)


def _assert_viewer_refused(viewer: httpx.Client, owner: httpx.Client, project: Project) -> None:
    token = form_token(viewer)
    allowed = permissions(Role.VIEWER, False)
    refused = [r for r in _guarded(project) if required_permission(r.endpoint) not in allowed]
    assert {route.path for route in refused} >= {"/admin/users", "/admin/audit"}
    for route in refused:
        answer = viewer.request(
            route.method, route.path, data={"csrf_token": token} if route.method != "GET" else None
        )
        assert answer.status_code == 403, f"{route.method} {route.path}"
        missing = required_permission(route.endpoint)
        words = {Permission.MANAGE_USERS: "managing users", Permission.VIEW_AUDIT: "audit log"}
        assert words.get(missing, STRINGS.admin.permission(missing)) in answer.text
    # What a viewer may see, they see; the nav offers only that.
    dashboard = viewer.get("/admin")
    assert dashboard.status_code == 200
    assert 'href="/admin/users"' not in dashboard.text
    assert 'href="/admin/audit"' not in dashboard.text
    owner_page = owner.get("/admin")
    assert 'href="/admin/users"' in owner_page.text and 'href="/admin/audit"' in owner_page.text


def test_every_admin_form_needs_its_csrf_token(server: WebServer, db_project: Project) -> None:
    posts = [route for route in admin_routes(db_project) if route.method != "GET"]
    assert len(posts) >= 7
    with logged_in(server, OWNER) as owner:
        for route in posts:
            answer = owner.request(route.method, route.path, data={"email": VIEWER})
            assert answer.status_code == 403, f"{route.method} {route.path}"
            assert "The form could not be sent" in answer.text
        # Nothing happened: the viewer is still there and the owner still logged in.
        users = owner.get("/admin/users")
    assert users.status_code == 200 and VIEWER in users.text


@pytest.mark.parametrize(
    "next_path",
    [
        "//evil.example",
        "https://evil.example",
        "https://evil.example/admin",
        "/\\evil.example",
        "\\\\evil.example",
        "/%5Cevil.example",
        "//evil.example/admin",
        "/admin/../archive",
        "/archive",
        "javascript:alert(1)",
    ],
)
def test_next_never_leads_off_the_admin_pages(server: WebServer, next_path: str) -> None:
    with server.client() as client:
        answer = post_login(client, OWNER, PASSWORD, next_path)
    assert answer.status_code == 303
    assert answer.headers["location"] in ("/admin", server.url("/admin"))


def test_next_leads_back_to_the_admin_page_asked_for(server: WebServer) -> None:
    with server.client() as anonymous:
        sent_away = anonymous.get("/admin/audit", params={"action": "user."})
        next_path = parse_qs(urlsplit(sent_away.headers["location"]).query)["next"][0]
        assert next_path == "/admin/audit?action=user."
        answer = post_login(anonymous, OWNER, PASSWORD, next_path)
        assert answer.headers["location"] == server.url("/admin/audit?action=user.")
        assert anonymous.get(answer.headers["location"]).status_code == 200


def test_an_htmx_request_without_a_session_is_told_where_to_log_in(server: WebServer) -> None:
    answer = httpx.get(server.url("/admin/audit"), headers={"HX-Request": "true"})
    assert answer.status_code == 401
    assert answer.headers["hx-redirect"].startswith("/admin/login?next=")
