"""Campaign drafts through ``/api/v1/campaigns`` on a real server: an editor's token saves a
draft (201, a Location), changes only the fields it names and deletes it, and is refused
sending or scheduling it (403 naming the permission); a token that may send sends it or
schedules it on its own time; a campaign that is no longer a draft is a 409 naming its state;
hostile input is a 4xx naming the field and changes nothing; every change is in the audit log."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from mailer.accounts.audit import entries
from mailer.accounts.tokens import create_token
from mailer.audience.lists import create_list
from tests.api_helpers import Api, assert_problem, serve_api
from tests.conftest import DATABASE_BACKENDS
from tests.sending import fill_list, ledger


@pytest.fixture(scope="module", params=DATABASE_BACKENDS)
def api(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    for found in serve_api(request, tmp_path_factory):
        create_list(found.mailer.engine, "weekly")
        fill_list(found.mailer.engine, 5, "weekly")
        yield found


def _draft(api: Api, **fields: Any) -> dict[str, Any]:
    with api.client("editor") as client:
        body = {"issue": 87, "list": "weekly", "draft": True} | fields
        made = client.post("/campaigns", json=body)
    assert made.status_code == 201, made.text
    assert made.headers["location"].endswith(f"/campaigns/{made.json()['id']}")
    body: dict[str, Any] = made.json()
    return body


def _audited(api: Api, campaign_id: int) -> list[str]:
    target = f"campaign {campaign_id}"
    return [e.action for e in reversed(entries(api.mailer, limit=500)) if e.target == target]


def test_an_editor_drafts_changes_and_deletes_but_may_not_send(api: Api) -> None:
    draft = _draft(api, segment='country = "CN"', at="+3h", timezone="Asia/Tokyo")
    assert (draft["status"], draft["segment"], draft["zone"]) == (
        "draft",
        'country = "CN"',
        "Asia/Tokyo",
    )
    assert draft["actions"] == ["edit", "send", "schedule", "delete", "cancel"]
    assert draft["counts"]["total"] == 0
    one = f"/campaigns/{draft['id']}"
    with api.client("editor") as client:
        changed = client.patch(one, json={"segment": None})
        assert changed.status_code == 200, changed.text
        assert (changed.json()["segment"], changed.json()["scheduled_at"]) == (
            None,
            client.get(one).json()["scheduled_at"],
        )
        assert changed.json()["scheduled_at"] is not None  # the time was not named: kept
        for action in ("send", "schedule"):
            problem = assert_problem(client.post(f"{one}/{action}"), 403)
            assert "may not send campaigns" in problem["detail"]
        assert client.get(one).json()["status"] == "draft"
        assert client.delete(one).status_code == 204
        assert_problem(client.get(one), 404)
        assert_problem(client.delete(one), 404)
    with api.client("viewer") as viewer:
        refused = viewer.post("/campaigns", json={"issue": 87, "list": "weekly", "draft": True})
        assert "may not edit issues" in assert_problem(refused, 403)["detail"]
    assert _audited(api, draft["id"]) == [
        "campaign.draft",
        "campaign.draft_edit",
        "campaign.draft_delete",
    ]


def test_a_token_that_may_send_sends_or_schedules_a_draft(api: Api) -> None:
    sent, timed = _draft(api), _draft(api, at="2030-01-15 09:00", timezone="Asia/Shanghai")
    secret = create_token(api.mailer, "drafts-sender", "editor", can_send=True, actor="cli")[1]
    api.secrets["drafts-sender"] = secret
    with api.client("drafts-sender") as client:
        answer = client.post(f"/campaigns/{sent['id']}/send")
        assert answer.status_code == 200, answer.text
        assert answer.json()["status"] == "sending" and answer.json()["started_at"]
        assert len(ledger(api.mailer.engine, sent["id"])) == 5
        again = assert_problem(client.post(f"/campaigns/{sent['id']}/send"), 409)
        assert "is sending; only a draft campaign can be sent" in again["detail"]
        edit = assert_problem(client.patch(f"/campaigns/{sent['id']}", json={"issue": 87}), 409)
        assert "only a draft campaign can be edited" in edit["detail"]
        gone = assert_problem(client.delete(f"/campaigns/{sent['id']}"), 409)
        assert "only a draft campaign can be deleted" in gone["detail"]

        # No time given: its own. "again": the first draft's send went to weekly just now.
        scheduled = client.post(f"/campaigns/{timed['id']}/schedule", json={"again": True})
        assert scheduled.status_code == 200, scheduled.text
        assert scheduled.json()["status"] == "scheduled"
        assert scheduled.json()["scheduled_at"] == timed["scheduled_at"]
        assert ledger(api.mailer.engine, timed["id"]) == {}  # taken when it starts
    assert _audited(api, sent["id"])[-1] == "campaign.send"
    assert _audited(api, timed["id"])[-1] == "campaign.schedule"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"issue": 4321}, "issue"),
        ({"issue": "87"}, "issue"),
        ({"issue": None}, "issue"),
        ({"list": "nope"}, "list"),
        ({"list": None}, "list"),
        ({"segment": "country ="}, "segment"),
        ({"segment": "<script>alert(1)</script>\x00"}, "segment"),
        ({"at": "2020-01-01 09:00"}, "at"),
        ({"at": "+1h", "timezone": "<script>"}, "timezone"),
        ({"local_time": "25:00"}, "local_time"),
        ({"unknown": 1}, "unknown"),
    ],
)
def test_hostile_changes_are_refused_naming_the_field(
    api: Api, body: dict[str, Any], field: str
) -> None:
    draft = _draft(api, segment='country = "SG"')
    with api.client("editor") as client:
        answer = client.patch(f"/campaigns/{draft['id']}", json=body)
        assert 400 <= answer.status_code < 500, answer.text
        problem = answer.json()
        assert field in str(problem), problem
        kept = client.get(f"/campaigns/{draft['id']}").json()
    assert (kept["segment"], kept["list"], kept["issue"]) == ('country = "SG"', "weekly", 87)


def test_scheduling_a_draft_with_no_time_names_the_field(api: Api) -> None:
    draft = _draft(api)
    with api.client("admin") as client:
        problem = assert_problem(client.post(f"/campaigns/{draft['id']}/schedule", json={}), 422)
        assert "the draft has none" in str(problem)
        assert client.get(f"/campaigns/{draft['id']}").json()["status"] == "draft"
