"""API tokens in the admin app on a real ``mailer serve``: an owner makes a token, which is
shown once (on a no-store page, in no URL, log line or audit entry) and then calls the REST
API of the same server; revoking it in the app makes the API refuse it at the next request;
a token made on the command line and one made in the app are the same thing; admins, editors
and viewers are refused every tokens route; forms need their CSRF token; bad and hostile
names are refused at the field and shown escaped."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator

import httpx
import pytest

from mailer.accounts.audit import entries
from mailer.accounts.roles import Role
from mailer.accounts.tokens import create_token, list_tokens, revoke_token
from mailer.accounts.users import remove_user
from mailer.app import Mailer
from tests.admin_helpers import (
    ADMIN,
    EDITOR,
    ESCAPED,
    HOSTILE,
    OWNER,
    VIEWER,
    add_account,
    add_staff,
    admin_routes,
    csrf_token,
    form_token,
    logged_in,
    opened_mailer,
)
from tests.conftest import CliResult, Project
from tests.web_server import WebServer

SECRET = re.compile(r"mailer_[A-Za-z0-9_-]{43}")


@pytest.fixture
def server(db_project: Project, web_server: WebServer) -> Iterator[WebServer]:
    add_account(db_project, OWNER, Role.OWNER)
    add_staff(db_project)
    yield web_server


@pytest.fixture
def mailer(db_project: Project) -> Iterator[Mailer]:
    with opened_mailer(db_project) as opened:
        yield opened


def _api(server: WebServer, secret: str) -> httpx.Client:
    return httpx.Client(
        base_url=server.url("/api/v1"), headers={"Authorization": f"Bearer {secret}"}, timeout=30
    )


def _create(owner: httpx.Client, **fields: str) -> httpx.Response:
    token = form_token(owner, "/admin/tokens")
    return owner.post("/admin/tokens/create", data={"csrf_token": token, **fields})


def _field_error(page: httpx.Response, field: str) -> str:
    found = re.search(
        rf'<p class="error-message" id="token-{field}-error"[^>]*>([^<]*)</p>', page.text
    )
    assert found, f"no error at {field}: {page.text}"
    return found.group(1).replace("&#39;", "'")


def test_an_owner_makes_a_token_shown_once_that_then_calls_the_api(
    server: WebServer, mailer: Mailer
) -> None:
    with logged_in(server, OWNER) as owner:
        assert "No token yet." in owner.get("/admin/tokens").text
        made = _create(owner, name="deploy-bot", role="admin", can_send="1")
        assert made.status_code == 200, made.text
        assert made.headers["cache-control"] == "no-store"
        [secret] = set(SECRET.findall(made.text))
        assert "Copy the token now" in made.text and "Token deploy-bot is created" in made.text
        assert secret not in str(made.url) and secret not in str(made.headers)

        with _api(server, secret) as api:
            lists = api.get("/lists")
        assert lists.status_code == 200, lists.text

        listed = owner.get("/admin/tokens")
        assert not SECRET.search(listed.text)  # never shown again
        row = re.search(r'<tr id="token-deploy-bot">.*?</tr>', listed.text, re.S)
        assert row is not None
        cells = re.findall(r'<td data-label="([^"]+)"[^>]*>(.*?)</td>', row.group(0), re.S)
        shown = {label: re.sub(r"<[^>]+>", "", cell).strip() for label, cell in cells}
        assert shown["Role"] == "admin" and shown["Can send"] == "yes"
        assert shown["Created by"] == OWNER and shown["Revoked (UTC)"] == "no"
        assert shown["Last used (UTC)"] != "never"  # the call just made

    [entry] = entries(mailer, action_prefix="token.")
    assert (entry.actor, entry.action, entry.target) == (OWNER, "token.create", "deploy-bot")
    assert entry.detail == {"role": "admin", "can_send": True}
    everything = json.dumps([found.as_json() for found in entries(mailer)])
    assert secret not in everything and secret not in server.log_text()


def test_revoking_in_the_app_makes_the_api_refuse_the_token_at_once(
    server: WebServer, mailer: Mailer
) -> None:
    _, secret = create_token(mailer, "cms", "editor", actor="cli")
    with _api(server, secret) as api, logged_in(server, OWNER) as owner:
        assert api.get("/lists").status_code == 200
        asked = owner.get("/admin/tokens/cms/revoke")
        assert asked.status_code == 200 and "Revoke token cms?" in asked.text
        assert api.get("/lists").status_code == 200  # asking revokes nothing
        token = form_token(owner, "/admin/tokens/cms/revoke")
        revoked = owner.post("/admin/tokens/cms/revoke", data={"csrf_token": token})
        assert revoked.status_code == 200
        assert "Token cms is revoked" in revoked.text
        refused = api.get("/lists")
        assert refused.status_code == 401 and refused.headers["www-authenticate"].startswith(
            "Bearer"
        )

        again = owner.post("/admin/tokens/cms/revoke", data={"csrf_token": token})
        assert "Token cms was revoked already." in again.text
        assert 'href="/admin/tokens/cms/revoke"' not in again.text
        for name in ("nothing", "%3Cscript%3E"):
            missing = owner.get(f"/admin/tokens/{name}/revoke")
            assert missing.status_code == 404 and "no token is named" in missing.text
            assert "<script>" not in missing.text
    [entry] = entries(mailer, action_prefix="token.revoke")
    assert (entry.actor, entry.target) == (OWNER, "cms")


def test_a_token_made_on_the_command_line_and_one_made_in_the_app_are_alike(
    server: WebServer, cli: Callable[..., CliResult]
) -> None:
    made = cli("tokens", "create", "from-cli", "--role", "viewer", "--json")
    assert made.code == 0, made.err
    with logged_in(server, OWNER) as owner:
        assert '<tr id="token-from-cli">' in owner.get("/admin/tokens").text
        secret = SECRET.findall(_create(owner, name="from-app", role="viewer").text)[0]
    listed = {found["name"]: found for found in json.loads(cli("tokens", "--json").out)}
    app_made, cli_made = listed["from-app"], listed["from-cli"]
    assert app_made["created_by"] == OWNER and cli_made["created_by"] == "cli"
    assert {app_made["role"], cli_made["role"]} == {"viewer"}
    assert cli("tokens", "revoke", "from-app").code == 0
    with _api(server, secret) as api:
        assert api.get("/lists").status_code == 401


def test_a_token_has_no_more_rights_than_its_role(server: WebServer, mailer: Mailer) -> None:
    with logged_in(server, OWNER) as owner:
        # A viewer never sends, whatever the box says; an editor sends only when told.
        viewer = SECRET.findall(_create(owner, name="reader", role="viewer", can_send="1").text)
        editor = SECRET.findall(_create(owner, name="writer", role="editor").text)
    tokens = {token.name: token for token in list_tokens(mailer)}
    assert not tokens["reader"].can_send and not tokens["writer"].can_send
    for secret in (viewer[0], editor[0]):
        with _api(server, secret) as api:
            assert api.get("/lists").status_code == 200
            made = api.post("/lists", json={"name": "weekly"})
            assert made.status_code == 403, made.text
            sent = api.post("/campaigns", json={"issue": 1, "list": "weekly"})
            assert sent.status_code == 403, sent.text


def test_a_token_outlives_the_account_that_made_it_marked_as_such(
    server: WebServer, mailer: Mailer, db_project: Project
) -> None:
    add_account(db_project, "leaver@example.com", Role.OWNER)
    with logged_in(server, "leaver@example.com") as leaver:
        secret = SECRET.findall(_create(leaver, name="nightly", role="viewer").text)[0]
    remove_user(mailer, "leaver@example.com", actor="cli")
    with _api(server, secret) as api:
        assert api.get("/lists").status_code == 200
    with logged_in(server, OWNER) as owner:
        page = owner.get("/admin/tokens")
    row = re.search(r'<tr id="token-nightly">.*?</tr>', page.text, re.S)
    assert row is not None and "leaver@example.com" in row.group(0)
    assert "(no account now)" in row.group(0)


@pytest.mark.parametrize("email", [ADMIN, EDITOR, VIEWER])
def test_every_role_but_owner_is_refused_every_tokens_route(
    server: WebServer, mailer: Mailer, db_project: Project, email: str
) -> None:
    create_token(mailer, "kept", "viewer", actor="cli")
    routes = [r for r in admin_routes(db_project) if r.path.startswith("/admin/tokens")]
    assert {(r.path, r.method) for r in routes} == {
        ("/admin/tokens", "GET"),
        ("/admin/tokens/create", "POST"),
        ("/admin/tokens/1/revoke", "GET"),
        ("/admin/tokens/1/revoke", "POST"),
    }
    with logged_in(server, email) as someone:
        csrf = form_token(someone)
        assert 'href="/admin/tokens"' not in someone.get("/admin").text
        for route in routes:
            path = route.path.replace("/1/", "/kept/")
            fields = {"csrf_token": csrf, "name": "mine", "role": "owner"}
            answer = someone.request(
                route.method, path, data=fields if route.method == "POST" else None
            )
            assert answer.status_code == 403, f"{route.method} {path}"
            assert "managing users and tokens" in answer.text
    assert [(token.name, token.revoked_at) for token in list_tokens(mailer)] == [("kept", None)]


def test_the_tokens_forms_need_their_csrf_token(server: WebServer, mailer: Mailer) -> None:
    _, secret = create_token(mailer, "kept", "viewer", actor="cli")
    with logged_in(server, OWNER) as owner:
        assert 'href="/admin/tokens"' in owner.get("/admin").text
        for path, fields in (
            ("/admin/tokens/create", {"name": "forged", "role": "owner"}),
            ("/admin/tokens/kept/revoke", {}),
        ):
            for token in ({}, {"csrf_token": "x" * 40}):
                answer = owner.post(path, data={**fields, **token})
                assert answer.status_code == 403 and "The form could not be sent" in answer.text
    assert [(token.name, token.revoked_at) for token in list_tokens(mailer)] == [("kept", None)]
    with _api(server, secret) as api:
        assert api.get("/lists").status_code == 200


@pytest.mark.parametrize(
    ("fields", "field", "said"),
    [
        ({"name": ""}, "name", "give the token a name"),
        ({"name": "   "}, "name", "give the token a name"),
        ({"name": "taken"}, "name", "is taken by another token"),
        ({"name": "gone"}, "name", "is taken by another token (revoked ones keep their names)"),
        ({"name": "a" * 65}, "name", "at most 64 characters"),
        ({"name": "a" * 100_000}, "name", "at most 64 characters"),
        ({"name": "Deploy"}, "name", "use 1-64 of a-z 0-9 _ . -, starting with a letter"),
        ({"name": "-x"}, "name", "starting with a letter or a digit"),
        ({"name": "a\x00b"}, "name", "must not hold control characters"),
        ({"name": HOSTILE}, "name", "use 1-64 of a-z 0-9"),
        ({"name": "ok", "role": "root"}, "role", "use one of owner, admin, editor, viewer"),
        ({"name": "ok", "role": HOSTILE}, "role", "use one of owner, admin, editor, viewer"),
    ],
)
def test_a_bad_name_or_role_is_refused_at_its_field_and_shown_escaped(
    server: WebServer, mailer: Mailer, fields: dict[str, str], field: str, said: str
) -> None:
    create_token(mailer, "taken", "viewer", actor="cli")
    create_token(mailer, "gone", "viewer", actor="cli")
    revoke_token(mailer, "gone", actor="cli")
    with logged_in(server, OWNER) as owner:
        answer = _create(owner, **({"role": "viewer"} | fields))
    assert answer.status_code == 400, answer.text
    assert said in _field_error(answer, field)
    assert "The token was not created" in answer.text
    assert "<script>" not in answer.text and not SECRET.search(answer.text)
    if fields["name"] == HOSTILE:
        assert f'value="{ESCAPED}"' in answer.text
    assert {token.name for token in list_tokens(mailer)} == {"taken", "gone"}


def test_a_name_that_is_not_utf_8_is_refused_at_its_field(
    server: WebServer, mailer: Mailer
) -> None:
    with logged_in(server, OWNER) as owner:
        token = csrf_token(owner.get("/admin/tokens"))
        answer = owner.post(
            "/admin/tokens/create",
            content=b"csrf_token=" + token.encode() + b"&role=viewer&name=d%FF%FEploy",
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
    assert answer.status_code == 400, answer.text
    assert "use 1-64 of a-z 0-9" in _field_error(answer, "name")
    assert list_tokens(mailer) == []
