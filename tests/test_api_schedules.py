"""``/api/v1/schedules`` on a real server: the recurring sends read with any token, each with
its next tick in UTC and in its own zone, paged by name exactly once each; an unknown name is
a 404 problem, a name no schedule can have, a forged cursor or a wrong limit refused naming
the parameter."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from mailer.audience.lists import create_list
from mailer.db.engine import write_transaction
from mailer.db.tables import schedules
from mailer.services import schedules as schedule_service
from tests.api_helpers import Api, assert_problem, serve_api
from tests.conftest import DATABASE_BACKENDS


@pytest.fixture(scope="module", params=DATABASE_BACKENDS)
def api(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    for served in serve_api(request, tmp_path_factory):
        create_list(served.mailer.engine, "weekly")
        create_list(served.mailer.engine, "yearly")
        yield served


def test_a_schedule_with_its_next_tick_in_utc_and_in_its_zone(api: Api) -> None:
    schedule_service.add(
        api.mailer,
        "shanghai-mornings",
        cron="0 9 * * MON",
        list_name="weekly",
        timezone="Asia/Shanghai",
    )
    with write_transaction(api.mailer.engine) as connection:
        connection.execute(
            sa.update(schedules)
            .where(schedules.c.name == "shanghai-mornings")
            .values(last_tick_at=datetime(2026, 1, 5, 1, tzinfo=UTC), last_result="campaign 7")
        )
    with api.client("viewer") as client:
        answer = client.get("/schedules/shanghai-mornings")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert {key: body[key] for key in ("name", "cron", "zone", "list", "issues", "origin")} == {
        "name": "shanghai-mornings",
        "cron": "0 9 * * MON",
        "zone": "Asia/Shanghai",
        "list": "weekly",
        "issues": "next-ready",
        "origin": "cli",
    }
    assert body["segment"] is None and body["transport"] is None
    next_utc = datetime.fromisoformat(body["next_tick"])
    next_local = datetime.fromisoformat(body["next_tick_local"])
    assert next_utc == next_local and next_utc > datetime.now(UTC)
    assert (next_utc.hour, next_utc.minute, next_utc.utcoffset()) == (1, 0, UTC.utcoffset(None))
    assert (next_local.hour, next_local.strftime("%z")) == (9, "+0800")
    assert next_local.strftime("%a") == "Mon"
    assert datetime.fromisoformat(body["last_tick"]) == datetime(2026, 1, 5, 1, tzinfo=UTC)
    assert body["last_result"] == "campaign 7"


def test_schedules_are_paged_by_name_each_listed_once(api: Api) -> None:
    names = [f"paged-{number:02}" for number in range(11)]
    for name in names:
        schedule_service.add(api.mailer, name, cron="30 7 * * *", list_name="weekly")
    seen: list[str] = []
    with api.client("editor") as client:
        params: dict[str, str | int] = {"limit": 4}
        while True:
            page = client.get("/schedules", params=params)
            assert page.status_code == 200, page.text
            seen += [item["name"] for item in page.json()["items"]]
            cursor = page.json()["next_cursor"]
            if cursor is None:
                break
            params = {"limit": 4, "cursor": cursor}
    assert [name for name in seen if name.startswith("paged-")] == names
    assert seen == sorted(seen) and len(seen) == len(set(seen))


def test_unknown_and_impossible_names_bad_cursors_and_limits_are_problems(api: Api) -> None:
    with api.client("viewer") as client:
        missing = assert_problem(client.get("/schedules/no-such-schedule"), 404)
        assert "no-such-schedule" in missing["detail"]
        for name in ("a%20b", "%00", "x" * 101, "%3Cscript%3E", "..."):
            assert_problem(client.get(f"/schedules/{name}"), 422, "name")
        assert_problem(client.get("/schedules", params={"cursor": "forged"}), 400, "cursor")
        # A cursor of another listing is not one of this listing's.
        lists_cursor = client.get("/lists", params={"limit": 1}).json()["next_cursor"]
        assert lists_cursor is not None
        assert_problem(client.get("/schedules", params={"cursor": lists_cursor}), 400, "cursor")
        assert_problem(client.get("/schedules", params={"limit": 0}), 422, "limit")
        assert_problem(client.get("/schedules", params={"limit": 501}), 422, "limit")
