"""Every error of the REST API is an RFC 9457 problem (application/problem+json), on a real
server: 400, 401, 403, 404, 405, 409, 413, 415, 422, 429 and 500; hostile input (control
characters, 10 KB strings, wrong JSON types, bodies that are not JSON or too large) gets a
4xx problem naming the field, never a 500, and changes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

from mailer.api.app import create_api
from mailer.app import Mailer
from tests.api_helpers import Api, assert_problem, serve_api
from tests.conftest import DATABASE_BACKENDS, Project
from tests.servers import serve


@pytest.fixture(scope="module", params=DATABASE_BACKENDS)
def api(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    yield from serve_api(request, tmp_path_factory)


def test_each_kind_of_refusal_is_a_problem(api: Api) -> None:
    with api.client("admin") as client:
        assert client.post("/lists", json={"name": "exists"}).status_code == 201
        bad_json = client.post(
            "/lists", content=b'{"name": ', headers={"content-type": "application/json"}
        )
        assert_problem(bad_json, 400, "body")
        assert_problem(client.get("/lists/missing"), 404)
        assert_problem(client.get("/no/such/thing"), 404)
        wrong_method = assert_problem(client.put("/lists", json={}), 405)
        assert client.put("/lists", json={}).headers["allow"] == "GET, POST"
        assert "PUT is not allowed" in wrong_method["detail"]
        assert_problem(client.post("/lists", json={"name": "exists"}), 409)
        assert_problem(client.post("/lists", content=b"name=x"), 415)
        assert_problem(client.post("/lists", json={"name": "Not OK"}), 422, "name")
    with api.client(None) as anonymous:
        assert_problem(anonymous.get("/lists"), 401)
        for root in (api.server.url("/api/v1"), api.server.url("/api/v1/")):
            assert_problem(anonymous.post(root, json={}), 404)
    with api.client("viewer") as viewer:
        assert_problem(viewer.delete("/lists/exists"), 403)


def test_a_body_past_the_limit_is_refused_declared_or_streamed(api: Api) -> None:
    too_much = b'{"name": "' + b"x" * (1024 * 1024) + b'"}'

    def streamed() -> Iterator[bytes]:
        for start in range(0, len(too_much), 65536):
            yield too_much[start : start + 65536]

    with api.client("admin") as client:
        json_type = {"content-type": "application/json"}
        assert_problem(client.post("/lists", content=too_much, headers=json_type), 413)
        assert_problem(client.post("/lists", content=streamed(), headers=json_type), 413)


HOSTILE_LIST_BODIES: list[tuple[Any, str]] = [
    ({"name": "bad\x00name"}, "name"),
    ({"name": "new\nline"}, "name"),
    ({"name": "x" * 10240}, "name"),
    ({"name": "ok-1", "title": "x" * 10240}, "title"),
    ({"name": "ok-2", "title": "tab\there"}, "title"),
    ({"name": "ok-3", "title": "nul\x00"}, "title"),
    ({"name": "ok-4", "description": "d" * 10240}, "description"),
    ({"name": "ok-5", "description": "bell\x07"}, "description"),
    ({"name": 5}, "name"),
    ({"name": ["ok-6"]}, "name"),
    ({"name": None}, "name"),
    ({"name": "ok-7", "public": "yes"}, "public"),
    ({"name": "ok-8", "double_opt_in": 1}, "double_opt_in"),
    ({"name": "ok-9", "owner": "me"}, "owner"),
    ({}, "name"),
    ([1, 2], "body"),
    ("ok-10", "body"),
]
HOSTILE_RAW: list[tuple[str, str, bytes, str]] = [
    ("POST", "/lists", b'{"name": "ok-11", "title": "\\ud800"}', "title"),
    ("POST", "/lists", b'{"name": "\\udfff"}', "name"),
    ("POST", "/lists", b"name=ok-12", "body"),
    ("POST", "/lists", b"\xff\xfe", "body"),
    ("PATCH", "/lists/exists", b'{"title": 5}', "title"),
    ("PATCH", "/lists/exists", b'{"public": "true"}', "public"),
    ("POST", "/suppressions", b'{"email": "' + b"x" * 10240 + b'@example.com"}', "email"),
    ("POST", "/suppressions", b'{"email": "a\\u0000b@example.com"}', "email"),
    ("POST", "/suppressions", b'{"email": "a@example.com", "detail": 12}', "detail"),
    ("POST", "/suppressions", b'{"email": "a@example.com", "reason": ["manual"]}', "reason"),
]
HOSTILE_URLS: list[tuple[str, str, str]] = [
    ("GET", "/lists/" + "x" * 10240, "name"),
    ("GET", "/lists/bad%00name", "name"),
    ("GET", "/lists/%E2%80%AEevil", "name"),
    ("GET", "/suppressions?q=a%00b", "q"),
    ("GET", "/suppressions?q=" + "q" * 10240, "q"),
    ("GET", "/suppressions?limit=1e9", "limit"),
    ("DELETE", "/suppressions/a%00b@example.com?reason=x", "email"),
    ("DELETE", "/suppressions/a@example.com?reason=" + "r" * 10240, "reason"),
    ("DELETE", "/suppressions/a@example.com?reason=line%0Abreak", "reason"),
]


def test_hostile_input_gets_a_4xx_problem_naming_the_field_and_changes_nothing(
    api: Api,
) -> None:
    with api.client("admin") as client:
        client.post("/lists", json={"name": "exists"})
        for body, field in HOSTILE_LIST_BODIES:
            assert_problem(client.post("/lists", json=body), 422, field)
        for method, path, raw, field in HOSTILE_RAW:
            response = client.request(
                method, path, content=raw, headers={"content-type": "application/json"}
            )
            assert response.status_code in (400, 422), (path, raw[:60], response.text)
            assert_problem(response, response.status_code, field)
        for method, path, field in HOSTILE_URLS:
            assert_problem(client.request(method, path), 422, field)
        names = [item["name"] for item in client.get("/lists").json()["items"]]
        assert not [name for name in names if name.startswith("ok-")]
        assert client.get("/lists/exists").json()["title"] == "exists"
        assert client.get("/suppressions").json()["items"] == []
    assert "Traceback" not in api.server.log_text()


def test_a_failure_inside_the_api_is_a_500_problem_without_its_details(
    project: Project,
) -> None:
    mailer = Mailer(project.settings())
    api = create_api(mailer)

    def broken() -> None:
        raise RuntimeError("a secret detail of the failure")

    api.add_api_route("/broken", broken)
    with serve(Starlette(routes=[Mount("/api/v1", app=api)])) as base_url:
        response = httpx.get(base_url + "/api/v1/broken", timeout=30)
    problem = assert_problem(response, 500)
    assert "secret" not in response.text
    assert problem["instance"] == "/api/v1/broken"
