"""Security headers on every response of a real `mailer serve`: pages, errors, JSON, static
files; HSTS only over https, and https believed only from a proxy the config names."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from mailer.app import Mailer
from mailer.web.security import embeddable
from tests.web_server import WebServer, make_project, running_app

BASELINE = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}
REQUESTS = [
    ("GET", "/"),
    ("GET", "/healthz"),
    ("GET", "/static/site.css"),
    ("GET", "/no/such/page"),
    ("POST", "/"),  # refused: no CSRF token
    ("DELETE", "/healthz"),
    ("HEAD", "/"),
]


def _assert_locked_down(response: httpx.Response) -> None:
    for name, value in BASELINE.items():
        assert response.headers.get(name) == value, (response.request.url, name)
    policy = response.headers["content-security-policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["default-src"] == "'none'"  # so no script of any kind runs
    assert "script-src" not in directives and "'unsafe-inline'" not in policy
    assert directives["frame-ancestors"] == "'none'"
    assert directives["base-uri"] == "'none'"
    assert directives["form-action"] == "'self'"


@pytest.mark.parametrize(("method", "path"), REQUESTS)
def test_every_response_carries_the_security_headers(
    shared_web_server: WebServer, method: str, path: str
) -> None:
    response = httpx.request(method, shared_web_server.url(path))
    _assert_locked_down(response)
    assert "strict-transport-security" not in response.headers  # plain http
    assert "server" not in response.headers  # no advertising of the server's version


def test_https_from_an_unnamed_proxy_is_not_believed(shared_web_server: WebServer) -> None:
    response = httpx.get(shared_web_server.url("/"), headers={"X-Forwarded-Proto": "https"})
    assert "strict-transport-security" not in response.headers


def test_hsts_when_a_named_proxy_says_the_request_came_over_https(
    start_web_server: Callable[..., WebServer],
) -> None:
    server = start_web_server({"MAILER_WEB_FORWARDED_ALLOW_IPS": '["127.0.0.1"]'})
    for method, path in REQUESTS:
        response = httpx.request(method, server.url(path), headers={"X-Forwarded-Proto": "https"})
        _assert_locked_down(response)
        assert response.headers["strict-transport-security"] == "max-age=31536000"
    plain = httpx.get(server.url("/"), headers={"X-Forwarded-Proto": "http"})
    assert "strict-transport-security" not in plain.headers


@embeddable
def framed(request: Request) -> Response:
    return PlainTextResponse("a signup form")


def broken(request: Request) -> Response:
    raise RuntimeError("a bug in a route")


class ExtraRoutes:
    @staticmethod
    def routes(mailer: Mailer) -> list[BaseRoute]:
        return [Route("/framed", framed), Route("/broken", broken)]


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("headers")
    project = make_project(folder, f"sqlite:///{folder / 'var' / 'mailer.db'}")
    with running_app(project, [ExtraRoutes]) as base_url:
        yield base_url


def test_an_embeddable_route_may_be_framed_by_any_site_and_nothing_else_is(app_url: str) -> None:
    framed_page = httpx.get(app_url + "/framed")
    assert "frame-ancestors *" in framed_page.headers["content-security-policy"]
    assert "x-frame-options" not in framed_page.headers
    assert framed_page.headers["x-content-type-options"] == "nosniff"
    _assert_locked_down(httpx.get(app_url + "/"))


def test_a_failing_route_answers_the_500_page_with_the_headers(app_url: str) -> None:
    response = httpx.get(app_url + "/broken")
    assert response.status_code == 500
    assert "Something went wrong" in response.text
    assert "a bug in a route" not in response.text  # no internals shown
    _assert_locked_down(response)


def test_a_missing_error_template_still_answers_with_the_status(tmp_path: Path) -> None:
    project = make_project(tmp_path, f"sqlite:///{tmp_path / 'var' / 'mailer.db'}")
    (project.root / "templates" / "web" / "errors.html").unlink()
    with running_app(project) as base_url:
        response = httpx.get(base_url + "/missing")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text.startswith("Page not found")
    _assert_locked_down(response)
