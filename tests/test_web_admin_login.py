"""Logging in and out of the admin app on a real ``mailer serve``: one answer for a wrong
password and an unknown address, the account's limit of failures, the session cookie's flags
over http and https, sessions ended on the server (log out, log out everywhere, a removed
user), and changing one's password."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import httpx
import pytest

from mailer.accounts.roles import Role
from tests.admin_helpers import (
    OWNER,
    PASSWORD,
    VIEWER,
    add_account,
    csrf_token,
    form_token,
    logged_in,
    post_login,
)
from tests.conftest import Project
from tests.web_server import WebServer

NEW_PASSWORD = "seven green apples by the door"


@pytest.fixture
def server(db_project: Project, web_server: WebServer) -> Iterator[WebServer]:
    add_account(db_project, OWNER, Role.OWNER)
    add_account(db_project, VIEWER, Role.VIEWER)
    yield web_server


def _without_tokens(page: str) -> str:
    return re.sub(r'value="[A-Za-z0-9_-]{43}"', 'value=""', page)


def _session_works(server: WebServer, cookie: str) -> bool:
    answer = httpx.get(server.url("/admin"), cookies={"mailer_session": cookie})
    return answer.status_code == 200


def test_a_wrong_password_and_an_unknown_address_get_the_same_page(server: WebServer) -> None:
    with server.client() as first, server.client() as second:
        wrong = post_login(first, OWNER, "not the password at all")
        unknown = post_login(second, "nobody@example.com", "not the password at all")
    assert wrong.status_code == unknown.status_code == 400
    assert "Wrong email or password." in wrong.text
    assert _without_tokens(wrong.text).replace(OWNER, "X") == _without_tokens(unknown.text).replace(
        "nobody@example.com", "X"
    )
    assert "mailer_session" not in wrong.headers.get("set-cookie", "")


def test_the_account_is_held_back_after_its_limit_even_with_the_right_password(
    server: WebServer,
) -> None:
    with server.client() as client:
        for _ in range(5):
            assert post_login(client, OWNER, "guess number one two").status_code == 400
        held = post_login(client, OWNER, PASSWORD)
    assert held.status_code == 429
    seconds = int(held.headers["retry-after"])
    assert 0 < seconds <= 15 * 60
    minutes = -(-seconds // 60)
    said = f"Try again in {minutes} minutes" if minutes > 1 else "Try again in a minute"
    assert said in held.text
    assert "mailer_session" not in held.headers.get("set-cookie", "")
    # Another account is not held back by this one's failures.
    with logged_in(server, VIEWER) as viewer:
        assert viewer.get("/admin").status_code == 200


def test_the_session_cookie_is_httponly_and_lax_and_not_secure_over_http(
    server: WebServer,
) -> None:
    with server.client() as client:
        answer = post_login(client, OWNER, PASSWORD)
    cookie = next(
        value for value in answer.headers.get_list("set-cookie") if "mailer_session=" in value
    )
    flags = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert cookie.startswith("mailer_session=")
    assert {"httponly", "samesite=lax", "path=/"} <= flags
    assert "secure" not in flags


def test_under_https_the_cookie_is_secure_and_host_prefixed(
    start_web_server: Callable[..., WebServer], db_project: Project
) -> None:
    add_account(db_project, OWNER, Role.OWNER)
    server = start_web_server({"MAILER_WEB_FORWARDED_ALLOW_IPS": '["127.0.0.1"]'})
    https = {"X-Forwarded-Proto": "https"}
    page = httpx.get(server.url("/admin/login"), headers=https)
    csrf_cookie = page.headers["set-cookie"].split(";")[0]
    assert csrf_cookie.startswith("__Host-mailer_csrf=")
    answer = httpx.post(
        server.url("/admin/login"),
        headers={**https, "Cookie": csrf_cookie},
        data={"csrf_token": csrf_token(page), "email": OWNER, "password": PASSWORD},
    )
    assert answer.status_code == 303
    cookie = answer.headers["set-cookie"]
    flags = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert cookie.startswith("__Host-mailer_session=")
    assert {"httponly", "samesite=lax", "path=/", "secure"} <= flags
    assert not any(flag.startswith("domain") for flag in flags)
    value = cookie.split(";")[0].split("=", 1)[1]
    with_cookie = httpx.get(
        server.url("/admin"), headers={**https, "Cookie": f"__Host-mailer_session={value}"}
    )
    assert with_cookie.status_code == 200
    # The plain name is not taken over https (a sibling host could have set it).
    plain = httpx.get(server.url("/admin"), headers={**https, "Cookie": f"mailer_session={value}"})
    assert plain.status_code == 303


def test_logging_out_ends_the_session_on_the_server(server: WebServer) -> None:
    with logged_in(server, OWNER) as owner:
        cookie = owner.cookies["mailer_session"]
        assert _session_works(server, cookie)
        answer = owner.post("/admin/logout", data={"csrf_token": form_token(owner)})
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/admin/login")
        assert "logged out" in owner.get(answer.headers["location"]).text
    assert not _session_works(server, cookie)  # the old cookie, kept by someone, is worthless


def test_logging_out_everywhere_ends_the_other_browsers_session(server: WebServer) -> None:
    with logged_in(server, OWNER) as laptop, logged_in(server, OWNER) as phone:
        assert phone.get("/admin").status_code == 200
        ended = laptop.post("/admin/logout-everywhere", data={"csrf_token": form_token(laptop)})
        assert ended.status_code == 303
        assert phone.get("/admin").status_code == 303
        assert laptop.get("/admin").status_code == 303


def test_removing_a_user_ends_their_session_at_once(server: WebServer) -> None:
    with logged_in(server, OWNER) as owner, logged_in(server, VIEWER) as viewer:
        assert viewer.get("/admin").status_code == 200
        token = form_token(owner, "/admin/users")
        removed = owner.post("/admin/users/remove", data={"csrf_token": token, "email": VIEWER})
        assert removed.status_code == 200
        assert f"{VIEWER} is removed" in removed.text
        assert viewer.get("/admin").status_code == 303
        with server.client() as again:
            assert post_login(again, VIEWER, PASSWORD).status_code == 400


def _change(
    client: httpx.Client, current: str, new: str, repeat: str | None = None
) -> httpx.Response:
    token = form_token(client, "/admin/account/password")
    return client.post(
        "/admin/account/password",
        data={"csrf_token": token, "current": current, "new": new, "repeat": repeat or new},
    )


def test_changing_the_password(server: WebServer) -> None:
    with logged_in(server, OWNER) as owner, logged_in(server, OWNER) as other_browser:
        weak = _change(owner, PASSWORD, "password1234")
        assert weak.status_code == 400
        assert "most common passwords" in weak.text
        short = _change(owner, PASSWORD, "short")
        assert short.status_code == 400 and "at least 12 characters" in short.text
        differ = _change(owner, PASSWORD, NEW_PASSWORD, NEW_PASSWORD + "!")
        assert differ.status_code == 400 and "not the same" in differ.text
        wrong = _change(owner, "not my password", NEW_PASSWORD)
        assert wrong.status_code == 400 and "current password is wrong" in wrong.text

        old_cookie = owner.cookies["mailer_session"]
        changed = _change(owner, PASSWORD, NEW_PASSWORD)
        assert changed.status_code == 303
        page = owner.get(changed.headers["location"])
        assert page.status_code == 200 and "Your password is changed" in page.text
        assert owner.cookies["mailer_session"] != old_cookie  # this browser: a new session
        assert not _session_works(server, old_cookie)
        assert other_browser.get("/admin").status_code == 303  # other sessions ended
    with server.client() as client:
        assert post_login(client, OWNER, PASSWORD).status_code == 400
    with logged_in(server, OWNER, NEW_PASSWORD) as owner:
        assert owner.get("/admin").status_code == 200
