"""``/api/v1/lists`` on a real server: create, read, change, delete, each change in the
audit log under the token's name; cursor paging walks every list exactly once; a cursor the
API did not give is refused."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from mailer.accounts.audit import AuditEntry, entries
from mailer.audience.subscribers import add_subscribers, unsubscribe
from mailer.db.engine import write_transaction
from mailer.db.tables import lists
from tests.api_helpers import Api, assert_problem, serve_api
from tests.conftest import DATABASE_BACKENDS


@pytest.fixture(scope="module", params=DATABASE_BACKENDS)
def api(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    yield from serve_api(request, tmp_path_factory)


def audit_of(api: Api, target: str) -> list[AuditEntry]:
    return [entry for entry in entries(api.mailer, limit=500) if entry.target == target]


def test_create_read_change_and_delete_a_list_each_change_audited(api: Api) -> None:
    with api.client("admin") as client:
        created = client.post(
            "/lists", json={"name": "weekly", "title": "Weekly", "double_opt_in": True}
        )
        assert created.status_code == 201, created.text
        assert created.headers["location"] == "/api/v1/lists/weekly"
        body = created.json()
        assert body["title"] == "Weekly" and body["double_opt_in"] and not body["public"]
        assert body["counts"] == {"unconfirmed": 0, "confirmed": 0, "unsubscribed": 0}
        assert body["created_at"].endswith("Z")
        add_subscribers(api.mailer.engine, ["a@example.com", "b@example.com"], "weekly")
        add_subscribers(api.mailer.engine, ["c@example.com"], "weekly", confirmed=True)
        unsubscribe(api.mailer.engine, "b@example.com", "weekly")

        shown_response = client.get("/lists/weekly")
        assert shown_response.headers["cache-control"] == "no-store"  # for one token's eyes
        shown = shown_response.json()
        assert shown["counts"] == {"unconfirmed": 1, "confirmed": 1, "unsubscribed": 1}

        changed = client.patch("/lists/weekly", json={"public": True, "description": "News"})
        assert changed.status_code == 200, changed.text
        assert changed.json()["public"] and changed.json()["description"] == "News"
        assert changed.json()["title"] == "Weekly"  # left out: unchanged
        assert client.patch("/lists/weekly", json={"title": ""}).json()["title"] == "weekly"
        assert client.patch("/lists/weekly", json={}).json() == client.get("/lists/weekly").json()

        deleted = client.delete("/lists/weekly")
        assert deleted.json() == {"name": "weekly", "memberships": 3, "unsubscribes_kept": 1}
        assert_problem(client.get("/lists/weekly"), 404)
        assert_problem(client.delete("/lists/weekly"), 404)

    audited = audit_of(api, "weekly")
    assert [entry.action for entry in reversed(audited)] == [
        "list.create",
        "list.update",
        "list.update",  # the empty change wrote nothing
        "list.delete",
    ]
    assert {entry.actor for entry in audited} == {"token:admin-token"}
    first_change = audited[2].detail
    assert first_change == {
        "public": {"from": False, "to": True},
        "description": {"from": "", "to": "News"},
    }
    assert audited[0].detail == {"memberships": 3, "unsubscribes_kept": 1}


def test_a_list_name_taken_is_a_conflict_and_nothing_is_audited(api: Api) -> None:
    with api.client("owner") as client:
        assert client.post("/lists", json={"name": "taken"}).status_code == 201
        problem = assert_problem(client.post("/lists", json={"name": "taken"}), 409)
    assert "already exists" in problem["detail"]
    assert [entry.action for entry in audit_of(api, "taken")] == ["list.create"]


def test_cursor_paging_walks_250_lists_exactly_once_each(api: Api) -> None:
    names = [f"paged-{number:03d}" for number in range(250)]
    now = api.mailer.clock()
    with write_transaction(api.mailer.engine) as connection:
        connection.execute(
            sa.insert(lists), [{"name": name, "title": name, "created_at": now} for name in names]
        )
    seen: list[str] = []
    pages = 0
    cursor: str | None = None
    with api.client("viewer") as client:
        while True:
            params: dict[str, str | int] = {"limit": 100}
            if cursor is not None:
                params["cursor"] = cursor
            page = client.get("/lists", params=params).json()
            pages += 1
            seen.extend(item["name"] for item in page["items"])
            cursor = page["next_cursor"]
            if cursor is None:
                break
            assert pages < 10
    paged = [name for name in seen if name.startswith("paged-")]
    assert paged == names  # each once, in order
    assert len(seen) == len(set(seen))
    assert pages == 3  # 250 and the few lists of other tests
    with api.client("viewer") as client:
        assert len(client.get("/lists").json()["items"]) == 100  # the default limit


def test_a_cursor_the_api_did_not_give_is_refused_with_400(api: Api) -> None:
    with api.client("admin") as admin:
        for name in ("tamper-a", "tamper-b"):
            assert admin.post("/lists", json={"name": name}).status_code == 201
    with api.client("viewer") as client:
        cursor = client.get("/lists", params={"limit": 1}).json()["next_cursor"]
        assert client.get("/lists", params={"cursor": cursor}).status_code == 200
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        forged = base64.urlsafe_b64encode(raw[:16] + b'["zzz"]').decode().rstrip("=")
        # One character changed (in the middle: the last may stand for padding bits only).
        flipped = cursor[:10] + ("A" if cursor[10] != "A" else "B") + cursor[11:]
        for bad in (forged, flipped, cursor[:-3], "not a cursor", "", "=" * 8, "é"):
            assert_problem(client.get("/lists", params={"cursor": bad}), 400, "cursor")
        # A cursor of the lists is not one of the suppressions.
        assert_problem(client.get("/suppressions", params={"cursor": cursor}), 400, "cursor")


@pytest.mark.parametrize("limit", ["0", "501", "-1", "ten", "1.5"])
def test_a_limit_out_of_range_is_refused_naming_it(api: Api, limit: str) -> None:
    with api.client("viewer") as client:
        assert_problem(client.get("/lists", params={"limit": limit}), 422, "limit")
