"""``/api/v1/campaigns`` on a real server: sending and scheduling need a token that may send;
the state machine's refusals are 409 problems naming the state; times that passed or that
daylight saving skips are refused with the core's words; a scheduled campaign is cancelled;
hostile input is a 4xx naming the field; recipients are paged once each; every change is in
the audit log."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mailer.accounts.audit import AuditEntry, entries
from mailer.accounts.tokens import create_token
from mailer.audience.lists import create_list
from tests.api_helpers import Api, assert_problem, serve_api
from tests.conftest import DATABASE_BACKENDS
from tests.sending import fill_list


@pytest.fixture(scope="module", params=DATABASE_BACKENDS)
def api(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    for found in serve_api(request, tmp_path_factory):
        create_list(found.mailer.engine, "weekly")
        fill_list(found.mailer.engine, 5, "weekly")
        yield found


def audit_of(api: Api, campaign_id: int) -> list[AuditEntry]:
    target = f"campaign {campaign_id}"
    return [entry for entry in entries(api.mailer, limit=500) if entry.target == target]


def schedule(api: Api, at: str = "+2h", who: str = "admin") -> dict[str, object]:
    with api.client(who) as client:
        # "again": the module's tests share one list, each making one more campaign of 87.
        body = {"issue": 87, "list": "weekly", "at": at, "again": True}
        answer = client.post("/campaigns", json=body)
    assert answer.status_code == 201, answer.text
    body: dict[str, object] = answer.json()
    return body


def test_an_editor_or_viewer_cannot_send_schedule_or_manage_campaigns(api: Api) -> None:
    scheduled = schedule(api)
    for who in ("editor", "viewer"):
        with api.client(who) as client:
            for body in (
                {"issue": 87, "list": "weekly"},
                {"issue": 87, "list": "weekly", "at": "+1h"},
            ):
                problem = assert_problem(client.post("/campaigns", json=body), 403)
                assert "send campaigns" in problem["detail"]
            refused = client.post(f"/campaigns/{scheduled['id']}/cancel")
            assert "manage campaigns" in assert_problem(refused, 403)["detail"]
            assert client.get(f"/campaigns/{scheduled['id']}").json()["status"] == "scheduled"
    # An editor given "can send" may send, yet still not manage campaigns.
    secret = create_token(api.mailer, "sending-editor", "editor", can_send=True, actor="cli")[1]
    api.secrets["sending-editor"] = secret
    made = schedule(api, who="sending-editor")
    with api.client("sending-editor") as client:
        assert_problem(client.post(f"/campaigns/{made['id']}/cancel"), 403)


def test_schedule_then_cancel_and_the_state_machine_refusals_are_conflicts(api: Api) -> None:
    created = schedule(api, "+3h")
    campaign_id = created["id"]
    assert created["status"] == "scheduled"
    assert created["actions"] == ["pause", "reschedule", "cancel"]
    with api.client("admin") as client:
        shown = client.get(f"/campaigns/{campaign_id}").json()
        assert shown["counts"]["total"] == 0 and shown["scheduled_at"]
        listed = client.get("/campaigns").json()["items"]
        assert any(item["id"] == campaign_id for item in listed)

        moved = client.post(f"/campaigns/{campaign_id}/reschedule", json={"at": "+5h"})
        assert moved.status_code == 200, moved.text
        assert moved.json()["scheduled_at"] > shown["scheduled_at"]

        cancelled = client.post(f"/campaigns/{campaign_id}/cancel")
        assert cancelled.status_code == 200, cancelled.text
        assert cancelled.json()["status"] == "cancelled" and cancelled.json()["actions"] == []

        for action in ("cancel", "pause", "resume", "reschedule"):
            answer = client.post(f"/campaigns/{campaign_id}/{action}", json={"at": "+1h"})
            assert f"campaign {campaign_id} is cancelled" in assert_problem(answer, 409)["detail"]
        nothing = assert_problem(client.post(f"/campaigns/{campaign_id}/mark_sent"), 409)
        assert "no recipients in doubt" in nothing["detail"]
        assert_problem(client.post("/campaigns/999999/cancel"), 404)
        assert_problem(client.post(f"/campaigns/{campaign_id}/explode"), 404)

    audited = audit_of(api, int(str(campaign_id)))
    assert [entry.action for entry in reversed(audited)] == [
        "campaign.schedule",
        "campaign.reschedule",
        "campaign.cancel",
    ]
    assert {entry.actor for entry in audited} == {"token:admin-token"}
    assert audited[0].detail is not None and audited[0].detail["to"] == "cancelled"


@pytest.mark.parametrize(
    ("at", "zone", "words"),
    [
        ("2020-01-01 09:00", None, "is in the past"),
        ("2030-03-10 02:30", "America/New_York", "pick a time outside the gap"),
        ("2030-11-03 01:30", "America/New_York", "say which with an offset"),
    ],
)
def test_past_and_skipped_times_are_refused_with_what_to_give(
    api: Api, at: str, zone: str | None, words: str
) -> None:
    body = {"issue": 87, "list": "weekly", "at": at} | ({"timezone": zone} if zone else {})
    with api.client("owner") as client:
        problem = assert_problem(client.post("/campaigns", json=body), 422, "at")
    assert words in problem["detail"], problem


def test_send_now_leaves_the_campaign_sending_for_the_worker_with_its_recipients(
    api: Api,
) -> None:
    with api.client("owner") as client:
        sent = client.post("/campaigns", json={"issue": 87, "list": "weekly", "again": True})
        assert sent.status_code == 201, sent.text
        campaign = sent.json()
        assert campaign["status"] == "sending" and campaign["counts"]["total"] == 5
        assert sent.headers["location"] == f"/api/v1/campaigns/{campaign['id']}"

        seen: list[str] = []
        cursor = None
        while True:
            params: dict[str, str | int] = {"limit": 2}
            if cursor:
                params["cursor"] = cursor
            page = client.get(f"/campaigns/{campaign['id']}/recipients", params=params).json()
            seen += [row["email"] for row in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert sorted(seen) == [f"reader{n}@example.com" for n in range(5)]
        none_sent = client.get(
            f"/campaigns/{campaign['id']}/recipients", params={"status": "sent"}
        ).json()
        assert none_sent == {"items": [], "next_cursor": None}
        assert_problem(
            client.get(f"/campaigns/{campaign['id']}/recipients", params={"status": "x"}),
            422,
            "status",
        )
        report = client.get(f"/campaigns/{campaign['id']}/report").json()
        assert report["campaign"]["id"] == campaign["id"] and report["ledger"]["total"] == 5
    assert [entry.action for entry in audit_of(api, campaign["id"])] == ["campaign.send"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"issue": "87", "list": "weekly"}, "issue"),
        ({"issue": 0, "list": "weekly"}, "issue"),
        ({"issue": 4321, "list": "weekly"}, "issue"),
        ({"issue": 87, "list": "<script>"}, "list"),
        ({"issue": 87, "list": "nosuchlist"}, "list"),
        ({"issue": 87, "list": "weekly", "segment": "country ="}, "segment"),
        ({"issue": 87, "list": "weekly", "segment": 'country = "XX"'}, "segment"),
        ({"issue": 87, "list": "weekly", "at": "soonish"}, "at"),
        ({"issue": 87, "list": "weekly", "at": "+1h\u0000"}, "at"),
        ({"issue": 87, "list": "weekly", "at": "+1h", "timezone": "Mars/Base"}, "timezone"),
        ({"issue": 87, "list": "weekly", "timezone": "UTC"}, "timezone"),
        ({"issue": 87, "list": "weekly", "local_time": "25:00"}, "local_time"),
        ({"issue": 87, "list": "weekly", "sneaky": 1}, "sneaky"),
    ],
)
def test_hostile_input_is_refused_naming_the_field(
    api: Api, body: dict[str, object], field: str
) -> None:
    with api.client("owner") as client:
        problem = assert_problem(client.post("/campaigns", json=body), 422, field)
    assert "Traceback" not in problem["detail"]


def test_hostile_paths_and_a_reschedule_without_a_time(api: Api) -> None:
    campaign_id = schedule(api)["id"]
    with api.client("admin") as client:
        assert_problem(client.get("/campaigns/0"), 422, "campaign_id")
        assert_problem(client.get("/campaigns/99999999999"), 422, "campaign_id")
        assert_problem(client.get("/campaigns/abc"), 422, "campaign_id")
        assert_problem(client.post(f"/campaigns/{campaign_id}/reschedule"), 422, "body")
        assert_problem(
            client.post(f"/campaigns/{campaign_id}/reschedule", json={"at": "2020-01-01 09:00"}),
            422,
            "at",
        )
        assert client.get(f"/campaigns/{campaign_id}").json()["status"] == "scheduled"
