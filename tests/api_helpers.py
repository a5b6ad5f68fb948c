"""Harness for the REST API's tests: a real ``mailer serve`` per database backend for a test
module, with a token of each role (and a revoked one) made through the accounts core, and an
httpx client per token."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from mailer.accounts.tokens import create_token, revoke_token
from mailer.app import Mailer
from tests.conftest import fresh_database_url
from tests.web_server import SIGNING_KEY, WebServer, make_project, running_server

PROBLEM = "application/problem+json"
ROLES = ("owner", "admin", "editor", "viewer")


@dataclass
class Api:
    server: WebServer
    mailer: Mailer
    """The application object on the server's database, for setting up and checking."""
    secrets: dict[str, str] = field(default_factory=dict)
    """A token's secret by role name, and "revoked" for a revoked admin token."""

    def client(self, who: str | None = "admin") -> httpx.Client:
        """A client under /api/v1 sending the token of ``who`` (a role, "revoked", or None
        for no token)."""
        headers = {} if who is None else {"Authorization": f"Bearer {self.secrets[who]}"}
        return httpx.Client(
            base_url=self.server.url("/api/v1"), headers=headers, timeout=30, follow_redirects=False
        )

    def new_token(self, name: str, role: str = "admin") -> str:
        return create_token(self.mailer, name, role, actor="cli")[1]


def start_api(stack: ExitStack, backend: str, folder: Any, env: dict[str, str] | None) -> Api:
    url = stack.enter_context(fresh_database_url(backend, folder))
    project = make_project(folder / "project", url)
    server = stack.enter_context(running_server(project, env))
    mailer = Mailer(project.settings(), environ={"MAILER_SECRET_KEY": SIGNING_KEY})
    stack.callback(mailer.close)
    api = Api(server, mailer)
    for role in ROLES:
        api.secrets[role] = api.new_token(f"{role}-token", role)
    api.secrets["revoked"] = api.new_token("revoked-token")
    revoke_token(mailer, "revoked-token", actor="cli")
    return api


# Tests send many requests with one token: the per-token limit is tested on its own.
UNLIMITED = {"MAILER_API_REQUESTS_PER_MINUTE": "1000000"}


def serve_api(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    env: dict[str, str] | None = None,
) -> Iterator[Api]:
    """The body of a test module's ``api`` fixture (``params=DATABASE_BACKENDS``): one server
    for the module on ``request.param``'s backend; tests use names of their own."""
    with ExitStack() as stack:
        yield start_api(stack, request.param, tmp_path_factory.mktemp("api"), env or UNLIMITED)


def assert_problem(
    response: httpx.Response, status: int, field: str | None = None
) -> dict[str, Any]:
    """The response is an RFC 9457 problem with ``status`` (naming ``field`` among its
    errors when given); its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM), response.headers
    problem: dict[str, Any] = response.json()
    assert problem["status"] == status
    assert problem["type"] == "about:blank"
    assert problem["title"] and problem["detail"]
    assert problem["instance"] == response.request.url.path
    if field is not None:
        assert field in [error["field"] for error in problem["errors"]], problem
    return problem
