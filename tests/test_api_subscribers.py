"""``/api/v1/subscribers`` on a real server: add one and bulk add many (bad rows reported by
index and field, the rest added), search with filters and cursor paging, show one in full,
edit, unsubscribe, resubscribe (a reason required, only an unsubscribe suppression lifted)
and forget (no address left anywhere the API or the audit log shows); hostile addresses in
the path are 404 or 422 problems, never a failure."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
import sqlalchemy as sa

from mailer.accounts.audit import entries
from mailer.audience.lists import create_list
from mailer.audience.suppressions import suppress
from mailer.db.tables import audit_log
from tests.api_helpers import Api, assert_problem, serve_api
from tests.conftest import DATABASE_BACKENDS
from tests.signup_helpers import outbox, part

SCRIPT = "<script>alert(1)</script>"


@pytest.fixture(scope="module", params=DATABASE_BACKENDS)
def api(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    for served in serve_api(request, tmp_path_factory):
        create_list(served.mailer.engine, "weekly", title="Weekly")
        create_list(served.mailer.engine, "daily", double_opt_in=True)
        yield served


def _statuses(subscriber: dict[str, Any]) -> dict[str, str]:
    return {membership["list"]: membership["status"] for membership in subscriber["lists"]}


def test_add_show_edit_then_forget_leaves_no_trace(api: Api) -> None:
    with api.client("admin") as client:
        added = client.post(
            "/subscribers",
            json={
                "email": "Ada@Example.COM",
                "lists": ["weekly", "daily"],
                "name": SCRIPT,
                "timezone": "Asia/Shanghai",
                "attributes": {"City": "Xi'an", "tags": ["ai", "policy"]},
            },
        )
        assert added.status_code == 201, added.text
        assert added.headers["location"] == "/api/v1/subscribers/Ada@example.com"
        shown = client.get("/subscribers/ada@EXAMPLE.com").json()
        assert shown["email"] == "Ada@example.com"
        assert shown["name"] == SCRIPT  # JSON carries it as text; pages escape it
        assert shown["attributes"] == {"city": "Xi'an", "tags": ["ai", "policy"]}
        assert _statuses(shown) == {"daily": "unconfirmed", "weekly": "confirmed"}
        assert (shown["suppression"], shown["deliveries"], shown["events"]) == (None, [], [])

        edited = client.patch(
            "/subscribers/ada@example.com",
            json={"name": "Ada Lin", "timezone": "", "attributes": {"city": "", "country": "CN"}},
        )
        assert edited.status_code == 200, edited.text
        body = edited.json()
        assert (body["name"], body["timezone"]) == ("Ada Lin", None)
        assert body["attributes"] == {"country": "CN", "tags": ["ai", "policy"]}

        forgotten = client.delete("/subscribers/ada@example.com")
        assert forgotten.status_code == 204, forgotten.text
        assert_problem(client.get("/subscribers/ada@example.com"), 404)
        assert client.get("/subscribers", params={"q": "ada"}).json()["items"] == []
        kept = client.get("/suppressions", params={"limit": 500}).text
        assert "ada@" not in kept.lower()
        # Gone for good: adding the address again is refused, it stays suppressed.
        again = client.post("/subscribers", json={"email": "ada@example.com", "lists": ["weekly"]})
        assert_problem(again, 409)
    with api.mailer.engine.connect() as connection:
        logged = repr(connection.execute(sa.select(audit_log)).all()).lower()
    assert "ada@example.com" not in logged and "ada lin" not in logged and "xi'an" not in logged


def test_search_filters_and_pages_through_with_the_cursor(api: Api) -> None:
    with api.client("admin") as client:
        rows = [{"email": f"page{n}@example.net", "name": f"Pat {n}"} for n in range(7)]
        bulk = client.post("/subscribers/bulk", json={"list": "weekly", "rows": rows[::-1]})
        assert bulk.status_code == 200, bulk.text
        client.post("/subscribers/page3@example.net/unsubscribe", json={"list": "weekly"})
    seen: list[str] = []
    cursor = None
    with api.client("viewer") as client:
        for _ in range(3):
            params: dict[str, str | int] = {"q": "PAGE", "limit": 3}
            if cursor is not None:
                params["cursor"] = cursor
            page = client.get("/subscribers", params=params).json()
            seen.extend(item["email"] for item in page["items"])
            cursor = page["next_cursor"]
        assert cursor is None
        assert seen == [row["email"] for row in rows]
        left = client.get(
            "/subscribers", params={"q": "pat", "list": "weekly", "status": "unsubscribed"}
        ).json()["items"]
        assert [(item["email"], item["status"]) for item in left] == [
            ("page3@example.net", "unsubscribed")
        ]
        # A filter that is wrong is named, and where a segment goes wrong is said.
        problem = assert_problem(
            client.get("/subscribers", params={"segment": 'country = "CN" and'}), 422, "segment"
        )
        assert "column 19" in problem["detail"]
        assert_problem(client.get("/subscribers", params={"list": "nope"}), 422, "list")
        assert_problem(client.get("/subscribers", params={"status": "confirmed"}), 422, "status")
        assert_problem(client.get("/subscribers", params={"cursor": "forged"}), 400, "cursor")
        assert_problem(client.get("/subscribers", params={"q": "a\x00b"}), 422, "q")
        assert client.get("/subscribers", params={"q": "%_'\""}).json()["items"] == []


def test_bulk_add_reports_bad_rows_by_index_and_adds_the_rest(api: Api) -> None:
    rows: list[dict[str, Any]] = [
        {"email": "bulk-ok@example.org", "name": "Ok", "attributes": {"tags": "a;b"}},
        {"email": SCRIPT},
        {"email": "bulk-zone@example.org", "timezone": "Mars/Base"},
        {"email": "bulk-name@example.org", "name": "nul\x00"},
        {"email": "bulk-attr@example.org", "attributes": {"email": "x"}},
        {"email": "BULK-OK@example.org", "attributes": {"city": "Lhasa"}},
    ]
    with api.client("admin") as client:
        answer = client.post(
            "/subscribers/bulk", json={"list": "daily", "confirmed": True, "rows": rows}
        )
        assert answer.status_code == 200, answer.text
        outcomes = answer.json()
        assert [(row["index"], row["outcome"], row["field"]) for row in outcomes["rows"]] == [
            (0, "imported", None),
            (1, "rejected", "email"),
            (2, "rejected", "timezone"),
            (3, "rejected", "name"),
            (4, "rejected", "attributes"),
            (5, "updated", None),
        ]
        assert outcomes["counts"] == {"imported": 1, "rejected": 4, "updated": 1}
        ok = client.get("/subscribers/bulk-ok@example.org").json()
        assert ok["attributes"] == {"tags": ["a", "b"], "city": "Lhasa"}
        assert _statuses(ok) == {"daily": "confirmed"}
        assert_problem(client.get("/subscribers/bulk-zone@example.org"), 404)

        # JSON can say a lone surrogate, which is no text: the request is refused at its place.
        surrogate = '{"list": "daily", "rows": [{"email": "a\\ud800@example.org"}]}'
        refused = client.post(
            "/subscribers/bulk", content=surrogate, headers={"content-type": "application/json"}
        )
        assert_problem(refused, 422, "rows.0.email")
        too_many = [{"email": f"many{n}@example.org"} for n in range(1001)]
        refused = client.post("/subscribers/bulk", json={"list": "daily", "rows": too_many})
        assert_problem(refused, 422, "rows")
        assert_problem(client.post("/subscribers/bulk", json={"list": "daily", "rows": []}), 422)
        missing = client.post("/subscribers/bulk", json={"list": "gone", "rows": rows[:1]})
        assert_problem(missing, 422, "list")
    assert entries(api.mailer, action_prefix="subscriber.bulk_add")[-1].detail is not None


def test_unsubscribe_everywhere_then_resubscribe_with_a_reason(api: Api) -> None:
    with api.client("admin") as client:
        client.post("/subscribers", json={"email": "ben@example.org", "lists": ["weekly"]})
        left = client.post("/subscribers/ben@example.org/unsubscribe", json={"reason": "asked"})
        assert left.json() == {"email": "ben@example.org", "changed": ["weekly"]}
        shown = client.get("/subscribers/ben@example.org").json()
        assert shown["suppression"]["reason"] == "unsubscribe"
        for body in ({"list": "weekly"}, {"list": "weekly", "reason": ""}):
            assert_problem(
                client.post("/subscribers/ben@example.org/resubscribe", json=body), 422, "reason"
            )
        blank = {"list": "weekly", "reason": "   "}
        assert_problem(
            client.post("/subscribers/ben@example.org/resubscribe", json=blank), 422, "reason"
        )
        back = client.post(
            "/subscribers/ben@example.org/resubscribe",
            json={"list": "weekly", "reason": "asked again by mail"},
        )
        assert back.status_code == 200, back.text
        assert _statuses(back.json()) == {"weekly": "confirmed"}
        assert back.json()["suppression"] is None
        twice = client.post(
            "/subscribers/ben@example.org/resubscribe", json={"list": "weekly", "reason": "x"}
        )
        assert_problem(twice, 409)

        client.post("/subscribers/ben@example.org/unsubscribe", json={"list": "weekly"})
        suppress(api.mailer.engine, "ben@example.org", "bounce", "5.1.1 no such user")
        bounced = client.post(
            "/subscribers/ben@example.org/resubscribe", json={"list": "weekly", "reason": "x"}
        )
        problem = assert_problem(bounced, 409)
        assert "'bounce'" in problem["detail"] and "lift the suppression first" in problem["detail"]
    latest = entries(api.mailer, action_prefix="subscriber.resubscribe")[0]
    assert (latest.actor, latest.target) == ("token:admin-token", "ben@example.org")
    assert latest.detail is not None and latest.detail["reason"] == "asked again by mail"


HOSTILE_PATHS = [
    quote(SCRIPT, safe=""),
    "a%00b@example.org",
    "%FF%FE@example.org",
    "%ED%A0%80@example.org",
    "..%2F..%2Fetc%2Fpasswd",
    "x" * 400 + "@example.org",
    "nobody@example.org",
    "%22quoted%20local%22@example.org",
    "'or'1'='1@example.org",
]


@pytest.mark.parametrize("path", HOSTILE_PATHS)
def test_a_hostile_address_in_the_path_is_a_problem_never_a_failure(api: Api, path: str) -> None:
    with api.client("admin") as client:
        for method, suffix, body in [
            ("GET", "", None),
            ("PATCH", "", {"name": "x"}),
            ("POST", "/unsubscribe", {"reason": "x"}),
            ("POST", "/resubscribe", {"list": "weekly", "reason": "x"}),
            ("DELETE", "", None),
        ]:
            response = client.request(method, f"/subscribers/{path}{suffix}", json=body)
            assert response.status_code in (404, 422), (method, path, response.text)
            assert_problem(response, response.status_code)
        # /subscribers/bulk is no address: another method there is refused as such.
        wrong = client.patch("/subscribers/bulk", json={"name": "x"})
        assert assert_problem(wrong, 405) and wrong.headers["allow"] == "POST"
        # A line break in the path is not routed to the API at all (no route's pattern
        # spans lines): the site's own 404.
        assert client.get("/subscribers/a%0Ab@example.org").status_code == 404


def test_bad_fields_are_named_and_other_roles_are_refused(api: Api) -> None:
    with api.client("admin") as client:
        refusals = [
            ({"email": "no-at-sign", "lists": ["weekly"]}, "email"),
            ({"email": "f@example.org", "lists": []}, "lists"),
            ({"email": "f@example.org", "lists": ["gone"]}, "lists"),
            ({"email": "f@example.org", "lists": ["weekly"], "name": "a\x00"}, "name"),
            ({"email": "f@example.org", "lists": ["weekly"], "timezone": "Nowhere"}, "timezone"),
            (
                {"email": "f@example.org", "lists": ["weekly"], "attributes": {"a b": "x"}},
                "attributes",
            ),
            (
                {"email": "f@example.org", "lists": ["weekly"], "attributes": {"n": 1}},
                "attributes",
            ),
        ]
        for body, field in refusals:
            assert_problem(client.post("/subscribers", json=body), 422, field)
        assert_problem(client.get("/subscribers/f@example.org"), 404)
    for role in ("viewer", "editor"):
        with api.client(role) as client:
            made = client.post("/subscribers", json={"email": "f@example.org", "lists": ["weekly"]})
            assert f"{role} token {role}-token may not" in assert_problem(made, 403)["detail"]
    with api.client("viewer") as client:
        assert_problem(client.get("/subscribers/f@example.org"), 404)


def test_an_add_to_a_double_opt_in_list_mails_the_link_to_confirm(api: Api) -> None:
    """As ``mailer subscribers add`` does: those left unconfirmed get their link; those the
    request says agreed already, and the rows left off the list, get nothing."""
    before = len(outbox(api.mailer))
    with api.client("admin") as client:
        one = client.post("/subscribers", json={"email": "kim@example.com", "lists": ["daily"]})
        assert one.status_code == 201, one.text
        assert one.json()["confirmation"] == "mailed"
        agreed = client.post(
            "/subscribers",
            json={"email": "lee@example.com", "lists": ["daily"], "confirmed": True},
        )
        assert agreed.status_code == 201, agreed.text
        assert agreed.json().get("confirmation") is None
        suppress(api.mailer.engine, "left@example.com", "bounce")
        rows = [{"email": "sam@example.com"}, {"email": "left@example.com"}, {"email": "bad"}]
        bulk = client.post("/subscribers/bulk", json={"list": "daily", "rows": rows})
        assert bulk.status_code == 200, bulk.text
    confirmations = [row["confirmation"] for row in bulk.json()["rows"]]
    assert confirmations == ["mailed", None, None]
    mailed = [str(message["To"]) for message in outbox(api.mailer)[before:]]
    assert sorted(mailed) == ["kim@example.com", "sam@example.com"]
    assert "/confirm/" in part(outbox(api.mailer)[-1], "plain")
