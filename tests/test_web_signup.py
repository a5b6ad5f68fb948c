"""Signup and confirmation through a real `mailer serve`: the form (no script, framable by
other sites), its JSON twin, the mail's link (a GET changes nothing, the button confirms),
and the abuse rules: tokens, answers that tell nothing, limits across two servers."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from mailer.audience.suppressions import suppress
from mailer.links import UNSUBSCRIBE, link_url
from mailer.web.form_tokens import form_token as make_form_token
from tests.conftest import Project
from tests.web_server import SIGNING_KEY, WebServer
from tests.web_signup_helpers import (
    confirm_link,
    form_token,
    make_lists,
    project_mailer,
    sent_mail,
    signup_form,
    statuses,
)


@pytest.fixture
def server(db_project: Project, web_server: WebServer) -> WebServer:
    make_lists(db_project)
    return web_server


def test_the_form_offers_the_public_lists_and_may_be_framed(server: WebServer) -> None:
    page = httpx.get(server.url("/signup?list=daily&form=Blog%20sidebar"))
    assert page.status_code == 200
    assert 'value="weekly"' in page.text and 'value="daily" checked' in page.text
    assert "staff" not in page.text.lower()  # a private list is nobody else's business
    assert "Daily &lt;Briefing&gt;" in page.text and "<script" not in page.text
    assert 'name="form" value="Blog sidebar"' in page.text
    assert "frame-ancestors *" in page.headers["content-security-policy"]
    assert "x-frame-options" not in page.headers
    # Any other page still refuses to be framed.
    assert httpx.get(server.url("/")).headers["x-frame-options"] == "DENY"


@pytest.mark.parametrize("encoding", ["urlencoded", "multipart"])
def test_double_opt_in_through_the_form_the_mail_and_the_button(
    server: WebServer, db_project: Project, encoding: str
) -> None:
    with server.client() as client:
        token = form_token(client.get("/signup"))
        fields = {"csrf_token": token, "email": "ada@example.com", "name": "Ada", "list": "daily"}
        if encoding == "urlencoded":
            answer = client.post("/signup", data=fields)
        else:
            parts = {name: (None, value) for name, value in fields.items()}
            answer = client.post("/signup", files=parts)
    assert answer.status_code == 200, answer.text
    assert "Check your inbox" in answer.text
    [message] = sent_mail(db_project, 1)
    link = confirm_link(server, message)

    with server.client() as reader:
        page = reader.get(link)  # what a link scanner does too
        assert page.status_code == 200 and "Confirm my subscription" in page.text
        assert statuses(db_project, "ada@example.com") == {"daily": "unconfirmed"}
        # The button's form is CSRF-checked like every other.
        assert httpx.post(link, data={"csrf_token": form_token(page)}).status_code == 403
        assert statuses(db_project, "ada@example.com") == {"daily": "unconfirmed"}
        done = reader.post(link, data={"csrf_token": form_token(page)})
        assert done.status_code == 200 and "Subscription confirmed" in done.text
        assert statuses(db_project, "ada@example.com") == {"daily": "confirmed"}
        again = reader.post(link, data={"csrf_token": form_token(page)})
        assert again.status_code == 200 and "Nothing to confirm" in again.text


def test_a_single_opt_in_list_is_joined_at_once_with_no_mail(
    server: WebServer, db_project: Project
) -> None:
    with server.client() as client:
        answer = signup_form(client, "ada@example.com", "weekly")
        assert answer.status_code == 200 and "Thank you for subscribing" in answer.text
        assert statuses(db_project, "ada@example.com") == {"weekly": "confirmed"}
        signup_form(client, "bo@example.com", "daily")
    # Bo's mail is the only one: Ada got none.
    assert [str(message["To"]) for message in sent_mail(db_project, 1)] == ["bo@example.com"]


def _old_token(client_ip: str) -> str:
    long_ago = datetime.now(UTC) - timedelta(days=2)
    return make_form_token(SIGNING_KEY.encode(), "signup", client_ip, long_ago)


@pytest.mark.parametrize(
    "token",
    [
        None,
        "",
        "123.abc",
        "forged",
        _old_token("127.0.0.1"),  # expired
        make_form_token(SIGNING_KEY.encode(), "signup", "198.51.100.7", datetime.now(UTC)),
        make_form_token(
            b"another-key-0123456789abcdefghij", "signup", "127.0.0.1", datetime.now(UTC)
        ),
    ],
    # Fixed ids: the made tokens hold the time, and parallel workers must collect the same tests.
    ids=["missing", "empty", "malformed", "forged", "expired", "other-address", "other-key"],
)
def test_a_form_without_a_genuine_token_is_refused_and_shown_again(
    server: WebServer, db_project: Project, token: str | None
) -> None:
    data = {"email": "ada@example.com", "list": "daily", "name": "Ada <b>"}
    if token is not None:
        data["csrf_token"] = token
    answer = httpx.post(server.url("/signup"), data=data)
    assert answer.status_code == 403
    assert "press the button again" in answer.text
    assert 'value="ada@example.com"' in answer.text and "Ada &lt;b&gt;" in answer.text
    assert form_token(answer) != token  # a fresh token to send it with
    app = project_mailer(db_project)
    try:
        from mailer.audience.subscribers import find_subscribers

        assert list(find_subscribers(app.engine)) == []
    finally:
        app.close()


def test_input_that_cannot_be_taken_is_shown_again_escaped(server: WebServer) -> None:
    with server.client() as client:
        hostile = '"><script>alert(1)</script>'
        answer = signup_form(client, hostile, "daily", name=hostile)
        assert answer.status_code == 400
        assert "<script>alert(1)" not in answer.text
        assert "&lt;script&gt;alert(1)" in answer.text
        assert 'aria-invalid="true"' in answer.text
        answer = signup_form(client, "ada@example.com", "staff")
        assert answer.status_code == 400 and "choose among the lists" in answer.text.lower()


def _api(server: WebServer, body: object, **headers: str) -> httpx.Response:
    return httpx.post(server.url("/api/signup"), json=body, headers=headers)


def test_the_json_endpoint_answers_the_same_for_any_address(
    server: WebServer, db_project: Project
) -> None:
    app = project_mailer(db_project)
    try:
        suppress(app.engine, "bounced@example.com", "bounce")
    finally:
        app.close()
    _api(server, {"email": "known@example.com", "lists": ["weekly", "daily"]})
    answers = []
    for email in ("new@example.com", "known@example.com", "bounced@example.com"):
        answer = _api(server, {"email": email, "name": "X", "lists": ["weekly", "daily"]})
        assert answer.status_code == 200
        answers.append(answer.content)
    assert len(set(answers)) == 1
    assert answers[0] == (
        b'{"lists":[{"name":"weekly","title":"Weekly"},'
        b'{"name":"daily","title":"Daily <Briefing>"}],"to_confirm":["daily"]}'
    )
    mailed = sorted(str(message["To"]) for message in sent_mail(db_project, 3))
    assert mailed == ["known@example.com", "known@example.com", "new@example.com"]


@pytest.mark.parametrize(
    ("body", "status", "pointer"),
    [
        ({"email": "not-an-address", "lists": ["weekly"]}, 422, "/email"),
        ({"email": "ada@example.com", "lists": []}, 422, "/lists"),
        ({"email": "ada@example.com", "lists": "weekly"}, 422, "/lists"),
        ({"email": 7, "lists": ["weekly"]}, 422, "/email"),
        ({"email": "ada@example.com", "name": ["x"], "lists": ["weekly"]}, 422, "/name"),
        (["ada@example.com"], 400, ""),
    ],
)
def test_the_json_endpoint_names_what_is_wrong(
    server: WebServer, body: object, status: int, pointer: str
) -> None:
    answer = _api(server, body)
    assert answer.status_code == status
    assert answer.json()["errors"][0]["pointer"] == pointer


def test_the_json_endpoint_takes_only_json(server: WebServer) -> None:
    url = server.url("/api/signup")
    body = b'{"email": "a@example.com", "lists": ["weekly"]}'
    plain = httpx.post(url, content=body, headers={"content-type": "text/plain"})
    assert plain.status_code == 415  # what a form on another site could send unasked
    assert (
        httpx.post(url, content=b"{", headers={"content-type": "application/json"}).status_code
        == 400
    )
    huge = httpx.post(url, content=b" " * 70_000, headers={"content-type": "application/json"})
    assert huge.status_code == 413


def test_a_flood_from_one_ip_is_throttled_across_two_servers(
    db_project: Project, start_web_server: Callable[..., WebServer]
) -> None:
    make_lists(db_project)
    servers = [start_web_server(), start_web_server()]
    hour = time.time() // 3600
    codes = []
    for number in range(41):
        answer = _api(servers[number % 2], {"email": f"r{number}@example.com", "lists": ["weekly"]})
        codes.append(answer.status_code)
        if answer.status_code == 429:
            assert 0 < int(answer.headers["retry-after"]) <= 3600
            break
    # Twenty an hour from one address, whichever server takes them (unless the hour turned).
    if time.time() // 3600 == hour:
        assert codes == [200] * 20 + [429]
    else:
        assert codes[-1] == 429


def test_one_address_is_throttled_after_three_signups_a_day(server: WebServer) -> None:
    day = time.time() // 86_400
    codes = [
        _api(server, {"email": "ada@example.com", "lists": ["daily"]}).status_code for _ in range(4)
    ]
    if time.time() // 86_400 == day:
        assert codes == [200, 200, 200, 429]


def test_links_that_are_not_a_genuine_confirmation_change_nothing(
    server: WebServer, db_project: Project
) -> None:
    _api(server, {"email": "ada@example.com", "lists": ["daily"]})
    link = confirm_link(server, sent_mail(db_project, 1)[0])
    token = link.rsplit("/", 1)[1]
    app = project_mailer(db_project)
    try:
        key = app.signing_key
        unsubscribe = link_url(server.base_url, key, UNSUBSCRIBE, 1, "ada@example.com", "daily")
    finally:
        app.close()
    others = [
        unsubscribe.replace("/unsubscribe/", "/confirm/"),  # another purpose's link
        f"{server.base_url}/confirm/{token[:-1]}",
        f"{server.base_url}/confirm/{token[:-1]}{'A' if token[-1] != 'A' else 'B'}",
        f"{server.base_url}/confirm/{token[:30]}",
        f"{server.base_url}/confirm/x",
    ]
    with server.client() as client:
        button = form_token(client.get(link))
        for other in others:
            assert client.get(other).status_code == 404
            assert client.post(other, data={"csrf_token": button}).status_code == 404
    assert statuses(db_project, "ada@example.com") == {"daily": "unconfirmed"}
