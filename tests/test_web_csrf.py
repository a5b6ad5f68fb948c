"""CSRF protection on a real server: a form is accepted only with the token made from the
browser's own cookie; refusals are the 403 page; routes marked exempt take POSTs from anyone;
no server memory is involved (another server with the same key accepts the form)."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from mailer.app import Mailer
from mailer.web import csrf
from mailer.web.pages import render
from mailer.web.security import MAX_FORM_BYTES, csrf_exempt
from tests.conftest import REPO, Project
from tests.web_server import running_app

FORM = """{% extends "_base.html" %}{% block title %}Form{% endblock %}
{% block content %}<form method="post" action="/form">{{ csrf_field() }}
<label for="name">Name</label><input id="name" name="name" type="text">
<button>Send</button></form>{% endblock %}"""


def form_page(request: Request) -> Response:
    return render(request, "form.html")


async def form_post(request: Request) -> Response:
    async with request.form() as form:
        return PlainTextResponse(f"accepted {form.get('name')}")


@csrf_exempt
async def one_click(request: Request) -> Response:
    return PlainTextResponse("exempt")


class FormRoutes:
    @staticmethod
    def routes(mailer: Mailer) -> list[BaseRoute]:
        return [
            Route("/form", form_page, methods=["GET"]),
            Route("/form", form_post, methods=["POST", "PUT", "PATCH", "DELETE"]),
            Route("/one-click", one_click, methods=["POST"]),
        ]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    project = Project(tmp_path_factory.mktemp("csrf"), tmp_path_factory.mktemp("c") / "m.toml")
    _copy_project(project)
    with running_app(project, [FormRoutes]) as base_url:
        yield base_url


def _copy_project(project: Project) -> None:
    shutil.copytree(REPO / "templates", project.root / "templates")
    (project.root / "templates" / "web" / "form.html").write_text(FORM, encoding="utf-8")
    project.config.write_text(
        f'[paths]\nweb_templates = "{project.root / "templates" / "web"}"\n'
        f'var = "{project.root / "var"}"\n',
        encoding="utf-8",
    )


def _client(base_url: str) -> httpx.Client:
    return httpx.Client(base_url=base_url, follow_redirects=False, timeout=30)


def _token(page: httpx.Response) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found is not None, page.text
    return found.group(1)


def test_a_form_page_sets_the_cookie_and_a_token_and_is_never_cached(server: str) -> None:
    with _client(server) as browser:
        page = browser.get("/form")
        cookie = page.headers["set-cookie"]
        assert cookie.startswith(f"{csrf.COOKIE}=")
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
        assert "Secure" not in cookie  # plain http: a Secure cookie would never come back
        assert page.headers["cache-control"] == "no-store"
        again = browser.get("/form")
        assert "set-cookie" not in again.headers  # the browser has it now
        assert _token(again) == _token(page)
        home = httpx.get(server + "/")
        assert "set-cookie" not in home.headers  # no form, no cookie


def test_the_form_with_its_token_is_accepted_in_either_encoding(server: str) -> None:
    with _client(server) as browser:
        token = _token(browser.get("/form"))
        sent = browser.post("/form", data={"csrf_token": token, "name": "Ada"})
        assert (sent.status_code, sent.text) == (200, "accepted Ada")
        multipart = browser.post(
            "/form", data={"csrf_token": token, "name": "Lin"}, files={"f": ("a.txt", b"x")}
        )
        assert (multipart.status_code, multipart.text) == (200, "accepted Lin")
        header = browser.request("DELETE", "/form", headers={"X-CSRF-Token": token})
        assert (header.status_code, header.text) == (200, "accepted None")


def _refused(response: httpx.Response) -> None:
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("text/html")
    assert "The form could not be sent" in response.text
    assert "accepted" not in response.text
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


def test_no_cookie_no_token_or_a_wrong_token_is_refused(server: str) -> None:
    with _client(server) as browser:
        token = _token(browser.get("/form"))
        cookie = browser.cookies[csrf.COOKIE]
        _refused(httpx.post(server + "/form", data={"name": "x"}))  # neither
        _refused(httpx.post(server + "/form", data={"csrf_token": token, "name": "x"}))
        _refused(browser.post("/form", data={"name": "x"}))  # the cookie alone
        _refused(browser.post("/form", data={"csrf_token": token[:-1], "name": "x"}))
        _refused(browser.post("/form", data={"csrf_token": cookie, "name": "x"}))
        for method in ("PUT", "PATCH", "DELETE"):
            _refused(browser.request(method, "/form"))
        _refused(browser.post("/form", content=b"csrf_token=" + token.encode()))  # no type


def test_a_token_made_for_another_cookie_is_refused(server: str) -> None:
    with _client(server) as mine, _client(server) as theirs:
        my_token = _token(mine.get("/form"))
        their_token = _token(theirs.get("/form"))
        assert my_token != their_token
        _refused(mine.post("/form", data={"csrf_token": their_token}))
        _refused(theirs.post("/form", data={"csrf_token": my_token}))
        assert mine.post("/form", data={"csrf_token": my_token}).status_code == 200


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(forged=st.text(max_size=60))
def test_any_other_token_is_refused(server: str, forged: str) -> None:
    with _client(server) as browser:
        token = _token(browser.get("/form"))
        if forged != token:
            response = browser.post("/form", data={"csrf_token": forged, "name": "x"})
            assert response.status_code == 403


def test_a_cookie_of_the_wrong_shape_is_replaced_and_the_new_one_works(server: str) -> None:
    with _client(server) as browser:
        browser.cookies.set(csrf.COOKIE, "short")
        page = browser.get("/form")
        assert page.headers["set-cookie"].startswith(f"{csrf.COOKIE}=")
        browser.cookies.clear()
        browser.cookies.set(csrf.COOKIE, page.cookies[csrf.COOKIE])
        assert browser.post("/form", data={"csrf_token": _token(page)}).status_code == 200


def test_another_server_with_the_same_key_accepts_the_form(server: str, tmp_path: Path) -> None:
    project = Project(tmp_path, tmp_path / "m.toml")
    _copy_project(project)
    with running_app(project, [FormRoutes]) as other, _client(server) as browser:
        token = _token(browser.get("/form"))
        cookie = browser.cookies[csrf.COOKIE]
        answer = httpx.post(
            other + "/form",
            data={"csrf_token": token, "name": "Ada"},
            cookies={csrf.COOKIE: cookie},
        )
        assert (answer.status_code, answer.text) == (200, "accepted Ada")


def test_an_exempt_route_takes_a_post_with_no_cookie_and_no_token(server: str) -> None:
    for data in ({"List-Unsubscribe": "One-Click"}, None):
        answer = httpx.post(server + "/one-click", data=data)
        assert (answer.status_code, answer.text) == (200, "exempt")
    multipart = httpx.post(server + "/one-click", files={"List-Unsubscribe": (None, "One-Click")})
    assert multipart.status_code == 200


def test_a_form_too_large_to_check_is_refused(server: str) -> None:
    with _client(server) as browser:
        token = _token(browser.get("/form"))
        big = browser.post("/form", data={"csrf_token": token, "name": "x" * MAX_FORM_BYTES})
        assert big.status_code == 413
        assert "Too much to send" in big.text

        def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
            yield f"csrf_token={token}&name=".encode()
            for _ in range(MAX_FORM_BYTES // 65536 + 2):
                yield b"y" * 65536

        streamed = browser.post(
            "/form",
            content=chunks(),
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        assert streamed.status_code == 413


def test_under_https_the_cookie_is_secure_and_host_only(server: str) -> None:
    # The in-process server believes X-Forwarded-Proto from loopback, like one behind a proxy.
    https = {"X-Forwarded-Proto": "https"}
    with _client(server) as browser:
        page = browser.get("/form", headers=https)
        cookie = page.headers["set-cookie"]
        assert cookie.startswith(f"{csrf.SECURE_COOKIE}=") and "; Secure" in cookie
        token = _token(page)
        value = cookie.split(";")[0].split("=", 1)[1]
        sent = httpx.post(
            server + "/form",
            data={"csrf_token": token, "name": "Ada"},
            headers=https,
            cookies={csrf.SECURE_COOKIE: value},
        )
        assert sent.status_code == 200
        # The plain cookie (which any sibling host could have set) does not count under https.
        plain = httpx.post(
            server + "/form",
            data={"csrf_token": token},
            headers=https,
            cookies={csrf.COOKIE: value},
        )
        assert plain.status_code == 403
