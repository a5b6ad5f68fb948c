"""Who may call the REST API: every endpoint, enumerated from the FastAPI app's routes,
refuses a request without a token, with an unknown or a revoked one (401 with
WWW-Authenticate: Bearer), and a role lacking the permission (403); nothing is changed by a
refused request. The API takes no cookies, so its mount is exempt from the CSRF check."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from mailer.api.app import api_routes, create_api
from mailer.audience.lists import create_list, list_with_counts
from mailer.audience.subscribers import add_subscribers, show_subscriber
from mailer.audience.suppressions import suppress
from mailer.errors import NotFoundError
from mailer.services import schedules
from mailer.web.app import create_app
from mailer.web.security import matched_endpoint
from tests.api_helpers import Api, assert_problem, serve_api
from tests.campaign_helpers import scheduled_campaign
from tests.conftest import DATABASE_BACKENDS

# A well-formed request for each endpoint, so that only who sends it decides the answer.
SAMPLES: dict[tuple[str, str], dict[str, Any]] = {
    ("GET", "/lists"): {},
    ("POST", "/lists"): {"json": {"name": "made-by-a-refused-request"}},
    ("GET", "/lists/{name}"): {},
    ("PATCH", "/lists/{name}"): {"json": {"title": "Changed by a refused request"}},
    ("DELETE", "/lists/{name}"): {},
    ("GET", "/suppressions"): {},
    ("POST", "/suppressions"): {"json": {"email": "refused@example.com"}},
    ("DELETE", "/suppressions/{email}"): {"params": {"reason": "a refused request"}},
    ("GET", "/schedules"): {},
    ("GET", "/schedules/{name}"): {},
}
VALUES = {"name": "guarded", "email": "kept@example.com"}
# The issues: read and checked with any token, test copies sent by editors and up.
SAMPLES.update(
    {
        ("GET", "/issues"): {},
        ("GET", "/issues/{number}"): {},
        ("GET", "/issues/{number}/render"): {},
        ("POST", "/issues/{number}/check"): {},
        ("POST", "/issues/{number}/test-send"): {"json": {"to": ["test@example.com"]}},
    }
)
VALUES["number"] = "87"
# The campaigns: read with any token; sent or scheduled with one that may send (an editor's
# may not, unless made to); paused, resumed, rescheduled, cancelled and resolved by admins and up.
SAMPLES.update(
    {
        ("GET", "/campaigns"): {},
        ("POST", "/campaigns"): {"json": {"issue": 87, "list": "guarded"}},
        ("GET", "/campaigns/{campaign_id}"): {},
        ("POST", "/campaigns/{campaign_id}/pause"): {},
        ("POST", "/campaigns/{campaign_id}/resume"): {},
        ("POST", "/campaigns/{campaign_id}/reschedule"): {"json": {"at": "+3h"}},
        ("POST", "/campaigns/{campaign_id}/cancel"): {},
        ("POST", "/campaigns/{campaign_id}/resend"): {},
        ("POST", "/campaigns/{campaign_id}/mark_sent"): {},
        ("GET", "/campaigns/{campaign_id}/report"): {},
        ("GET", "/campaigns/{campaign_id}/recipients"): {},
    }
)
VALUES["campaign_id"] = "1"
# Drafts (POST /campaigns with "draft": true): changed and deleted by editors and up; sent or
# scheduled with a token that may.
SAMPLES.update(
    {
        ("PATCH", "/campaigns/{campaign_id}"): {"json": {"segment": None}},
        ("DELETE", "/campaigns/{campaign_id}"): {},
        ("POST", "/campaigns/{campaign_id}/send"): {},
        ("POST", "/campaigns/{campaign_id}/schedule"): {"json": {"at": "+3h"}},
    }
)
# Imports and exports: the audience's data, read and written only by admins and owners.
SAMPLES.update(
    {
        ("POST", "/imports"): {
            "files": {"file": ("people.csv", b"email\nrefused@example.com\n", "text/csv")},
            "data": {"list": "guarded", "mapping": '["email"]', "confirmed": "false"},
        },
        ("GET", "/imports/{import_id}"): {},
        ("GET", "/imports/{import_id}/rejects"): {},
        ("GET", "/exports"): {"params": {"list": "guarded"}},
    }
)
VALUES["import_id"] = "1"
# Subscribers: searched and read with any token, changed by admins and owners ("kept" is a
# subscriber of "guarded", and suppressed).
SAMPLES.update(
    {
        ("GET", "/subscribers"): {"params": {"q": "kept", "list": "guarded"}},
        ("POST", "/subscribers"): {"json": {"email": "refused@example.com", "lists": ["guarded"]}},
        ("POST", "/subscribers/bulk"): {
            "json": {"list": "guarded", "rows": [{"email": "refused@example.com"}]}
        },
        ("GET", "/subscribers/{email}"): {},
        ("PATCH", "/subscribers/{email}"): {"json": {"name": "Changed by a refused request"}},
        ("POST", "/subscribers/{email}/unsubscribe"): {"json": {"reason": "a refused request"}},
        ("POST", "/subscribers/{email}/resubscribe"): {
            "json": {"list": "guarded", "reason": "a refused request"}
        },
        ("DELETE", "/subscribers/{email}"): {},
    }
)
# GETs a role below admin may not make: they hand out the audience's addresses.
AUDIENCE_READS = {
    ("GET", "/imports/{import_id}"),
    ("GET", "/imports/{import_id}/rejects"),
    ("GET", "/exports"),
}
# Requests other than GET that a role below admin may make: they change nothing anyone sees.
MAY = {
    ("viewer", "POST", "/issues/{number}/check"),
    ("editor", "POST", "/issues/{number}/check"),
    ("editor", "POST", "/issues/{number}/test-send"),
}
# What an editor's draft requests get instead of 200: campaign 1 is scheduled, no draft.
MAY_ANSWER = {
    ("editor", "PATCH", "/campaigns/{campaign_id}"): 409,
    ("editor", "DELETE", "/campaigns/{campaign_id}"): 409,
}


@pytest.fixture(scope="module", params=DATABASE_BACKENDS)
def api(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    for served in serve_api(request, tmp_path_factory):
        create_list(served.mailer.engine, "guarded", title="Guarded")
        add_subscribers(served.mailer.engine, ["kept@example.com"], "guarded", name="Kept")
        suppress(served.mailer.engine, "kept@example.com", "manual")
        schedules.add(served.mailer, "guarded", cron="0 9 * * MON", list_name="guarded")
        assert scheduled_campaign(served.mailer, "guarded") == 1
        yield served


def endpoints(api: Api) -> list[tuple[str, str]]:
    """(method, path) of every endpoint of the API app, as its routers declare them and as
    the app's OpenAPI description lists them (which must agree)."""
    declared = sorted(
        (method, route.path_format) for route in api_routes() for method in route.methods or ()
    )
    described = create_api(api.mailer).openapi()["paths"]
    listed = sorted((method.upper(), path) for path, item in described.items() for method in item)
    assert declared == listed
    return declared


def send(client: httpx.Client, method: str, template: str) -> httpx.Response:
    sample = SAMPLES[(method, template)]
    return client.request(method, template.format(**VALUES), **sample)


def test_every_endpoint_has_a_sample_request(api: Api) -> None:
    assert sorted(endpoints(api)) == sorted(SAMPLES)


@pytest.mark.parametrize("who", [None, "revoked", "unknown", "basic"])
def test_every_endpoint_refuses_a_missing_unknown_or_revoked_token(
    api: Api, who: str | None
) -> None:
    client = api.client(None if who in ("unknown", "basic") else who)
    if who == "unknown":
        client.headers["Authorization"] = "Bearer mailer_" + "A" * 43
    elif who == "basic":
        client.headers["Authorization"] = "Basic YWRtaW46YWRtaW4="
    with client:
        for method, template in endpoints(api):
            response = send(client, method, template)
            assert_problem(response, 401)
            assert response.headers["www-authenticate"].startswith("Bearer"), method + template
            if who in ("revoked", "unknown"):
                assert 'error="invalid_token"' in response.headers["www-authenticate"]
    assert_nothing_changed(api)


@pytest.mark.parametrize("role", ["viewer", "editor"])
def test_a_role_without_manage_audience_is_refused_every_change(api: Api, role: str) -> None:
    with api.client(role) as client:
        for method, template in endpoints(api):
            response = send(client, method, template)
            reads = method == "GET" and (method, template) not in AUDIENCE_READS
            allowed = (role, method, template) in MAY or (role, method, template) in MAY_ANSWER
            if reads or allowed:
                expected = MAY_ANSWER.get((role, method, template), 200)
                assert response.status_code == expected, (method, template, response.text)
                continue
            problem = assert_problem(response, 403)
            assert f"{role} token {role}-token may not" in problem["detail"]
    assert_nothing_changed(api)


def assert_nothing_changed(api: Api) -> None:
    with api.client("owner") as client:
        assert client.get("/lists/guarded").json()["title"] == "Guarded"
        assert client.get("/lists/made-by-a-refused-request").status_code == 404
        addresses = [item["email"] for item in client.get("/suppressions").json()["items"]]
    assert addresses == ["kept@example.com"]
    assert list_with_counts(api.mailer.engine, "guarded").title == "Guarded"
    kept = show_subscriber(api.mailer.engine, "kept@example.com")
    assert (kept.subscriber.name, [m.status for m in kept.memberships]) == ("Kept", ["confirmed"])
    with pytest.raises(NotFoundError):
        show_subscriber(api.mailer.engine, "refused@example.com")


def test_the_api_mount_is_exempt_from_the_csrf_check_for_every_path_and_method(
    api: Api,
) -> None:
    """Explicitly: the endpoint the security middleware finds for any request under
    /api/v1 (a route of the API, an unknown path, a method no route takes) is marked
    exempt."""
    app = create_app(api.mailer)
    requests = [("POST", "/lists"), ("DELETE", "/nowhere"), ("PUT", "/lists"), ("POST", "")]
    for method, path in requests:
        scope = {"type": "http", "method": method, "path": "/api/v1" + path, "root_path": ""}
        assert getattr(matched_endpoint(app.router.routes, scope), "mailer_csrf_exempt", False)
    # The public pages' unsafe requests are still checked.
    scope = {"type": "http", "method": "POST", "path": "/preferences/x", "root_path": ""}
    assert not getattr(matched_endpoint(app.router.routes, scope), "mailer_csrf_exempt", False)


def test_a_change_with_a_token_needs_no_csrf_token_and_cookies_give_no_rights(api: Api) -> None:
    with api.client("admin") as client:
        client.cookies.set("mailer_csrf", "A" * 43)
        created = client.post("/lists", json={"name": "no-csrf-needed"})
        assert created.status_code == 201, created.text
        assert_problem(client.post("/nowhere", json={}), 404)  # a problem, not the 403 page
        assert_problem(client.put("/lists", json={}), 405)
    with api.client(None) as anonymous:
        anonymous.cookies.set("mailer_csrf", "A" * 43)
        assert_problem(anonymous.get("/lists"), 401)
