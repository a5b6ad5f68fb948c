"""``/api/v1/suppressions`` on a real server: suppress (once: the first reason stays), list
by address with a prefix search and cursor paging, lift with a reason; each change in the
audit log under the token's name."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mailer.accounts.audit import entries
from mailer.audience.suppressions import suppress
from tests.api_helpers import Api, assert_problem, serve_api
from tests.conftest import DATABASE_BACKENDS


@pytest.fixture(scope="module", params=DATABASE_BACKENDS)
def api(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    yield from serve_api(request, tmp_path_factory)


def test_suppress_once_then_lift_with_a_reason_each_audited(api: Api) -> None:
    with api.client("admin") as client:
        added = client.post(
            "/suppressions",
            json={"email": "Ada@Example.COM", "reason": "bounce", "detail": "5.1.1"},
        )
        assert added.status_code == 201, added.text
        assert added.json()["email"] == "Ada@example.com"  # the domain normalized
        assert added.json()["reason"] == "bounce"
        again = client.post("/suppressions", json={"email": "ada@example.com"})
        assert again.status_code == 200  # suppressed already: the first reason stays
        assert again.json()["reason"] == "bounce" and again.json()["detail"] == "5.1.1"

        lifted = client.delete("/suppressions/ADA@example.com", params={"reason": "asked us"})
        assert lifted.status_code == 200, lifted.text
        assert lifted.json()["reason"] == "bounce"
        assert client.get("/suppressions", params={"q": "ada@"}).json()["items"] == []
        problem = assert_problem(
            client.delete("/suppressions/ada@example.com", params={"reason": "twice"}), 404
        )
        assert "is not suppressed" in problem["detail"]
        assert_problem(client.delete("/suppressions/ada@example.com"), 422, "reason")

    audited = [entry for entry in entries(api.mailer) if entry.target == "Ada@example.com"]
    assert [(entry.action, entry.actor) for entry in audited] == [
        ("suppression.remove", "token:admin-token"),
        ("suppression.add", "token:admin-token"),
    ]
    assert audited[0].detail == {
        "reason": "asked us",
        "suppressed_for": "bounce",
        "detail": "5.1.1",
    }


def test_listing_by_address_with_a_prefix_and_cursor_paging(api: Api) -> None:
    addresses = [f"page{number}@example.org" for number in range(7)]
    for address in reversed(addresses):
        suppress(api.mailer.engine, address, "manual")
    suppress(api.mailer.engine, "other@example.org", "spamreport")
    seen: list[str] = []
    cursor = None
    with api.client("viewer") as client:
        for _ in range(3):
            params: dict[str, str | int] = {"q": "PAGE", "limit": 3}
            if cursor is not None:
                params["cursor"] = cursor
            page = client.get("/suppressions", params=params).json()
            seen.extend(item["email"] for item in page["items"])
            cursor = page["next_cursor"]
        assert cursor is None  # 3 + 3 + 1
        everything = client.get("/suppressions", params={"limit": 500}).json()
        # A prefix holding LIKE's wildcards matches them literally.
        assert client.get("/suppressions", params={"q": "page_"}).json()["items"] == []
        assert client.get("/suppressions", params={"q": "%"}).json()["items"] == []
    assert seen == addresses
    assert "other@example.org" in [item["email"] for item in everything["items"]]


def test_a_bad_address_or_reason_is_refused_naming_the_field(api: Api) -> None:
    with api.client("admin") as client:
        assert_problem(client.post("/suppressions", json={"email": "no-at-sign"}), 422, "email")
        assert_problem(
            client.post("/suppressions", json={"email": "x@example.com", "reason": "bored"}),
            422,
            "reason",
        )
        assert_problem(
            client.delete("/suppressions/not-an-address", params={"reason": "x"}), 422, "email"
        )
