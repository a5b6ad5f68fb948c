"""SendGrid's Event Webhook on a real `mailer serve`: every documented event stored with its
fields (and an unknown one kept), each once however often it is posted, tied to its campaign,
subscriber and batch, and hostile values never stored as given nor answered with a 500."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import DATABASE_BACKENDS
from tests.events_helpers import (
    EventServer,
    add_campaign_batch,
    add_subscriber,
    event,
    event_server,
    stored,
    unique,
)
from tests.webhook_signing import Signer, post_signed

KINDS = (
    "processed",
    "delivered",
    "deferred",
    "bounce",
    "blocked",
    "dropped",
    "open",
    "human_open",
    "click",
    "click_again",
    "spamreport",
    "unsubscribe",
    "group_unsubscribe",
    "group_resubscribe",
    "unknown",
)


@pytest.fixture(scope="module", params=DATABASE_BACKENDS)
def events_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[EventServer]:
    folder = tmp_path_factory.mktemp("events")
    with event_server(request.param, folder, Signer()) as server:
        yield server


def _post(server: EventServer, events: list[Any] | bytes) -> dict[str, Any]:
    answer = post_signed(server.base_url, server.signer, events)
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


def test_every_documented_event_is_stored_with_its_fields(events_server: EventServer) -> None:
    email = f"{unique('ada')}@example.com"
    subscriber = add_subscriber(events_server.engine, email)
    message_id = unique("msg")
    campaign, batch = add_campaign_batch(events_server.engine, message_id)
    ids = {name: unique(name) for name in KINDS}
    ties = {
        "email": email.upper(),  # addresses compare case-insensitively
        "sg_message_id": f"{message_id}.filter0001.16648.5515E0B88.0",
        "mailer_campaign": str(campaign),
        "mailer_subscriber": str(subscriber),
    }
    posted = [
        event("processed", ids["processed"], **ties),
        event("delivered", ids["delivered"], response="250 OK", **ties),
        event("deferred", ids["deferred"], response="400 try again later", attempt="5", **ties),
        event(
            "bounce",
            ids["bounce"],
            type="bounce",
            status="5.1.1",
            reason="550 5.1.1 The email account does not exist",
            bounce_classification="Invalid Address",
            **ties,
        ),
        event(
            "bounce",
            ids["blocked"],
            type="blocked",
            status="4.0.0",
            reason="421 too many connections",
            bounce_classification="Technical",
            **ties,
        ),
        event("dropped", ids["dropped"], reason="Bounced Address", status="5.0.0", **ties),
        event("open", ids["open"], sg_machine_open=True, useragent="Mozilla/5.0", **ties),
        event("open", ids["human_open"], sg_machine_open=False, **ties),
        event("click", ids["click"], url="https://example.com/a?b=1", url_offset={}, **ties),
        event("click", ids["click_again"], url="https://example.com/a?b=1", **ties),
        event("spamreport", ids["spamreport"], **ties),
        event("unsubscribe", ids["unsubscribe"], **ties),
        event("group_unsubscribe", ids["group_unsubscribe"], asm_group_id=42, **ties),
        event("group_resubscribe", ids["group_resubscribe"], asm_group_id=42, **ties),
        event("account_status_change", ids["unknown"], type="compliance_suspend", **ties),
    ]
    assert _post(events_server, posted) == {
        "received": len(posted),
        "new": len(posted),
        "duplicates": 0,
        "malformed": 0,
    }
    rows = stored(events_server.engine, list(ids.values()))
    assert len(rows) == len(posted)
    for row in rows.values():
        assert (row["campaign_id"], row["subscriber_id"], row["batch_id"]) == (
            campaign,
            subscriber,
            batch,
        )
        assert row["email_key"] is None  # the subscriber is known: no address in the event
        assert row["occurred_at"] == 1764950000

    def fields(name: str, *columns: str) -> tuple[Any, ...]:
        return tuple(rows[ids[name]][column] for column in columns)

    assert fields("delivered", "kind", "reason") == ("delivered", "250 OK")
    assert fields("deferred", "kind", "reason") == ("deferred", "400 try again later")
    assert fields("bounce", "kind", "bounce_type", "status", "reason", "classification") == (
        "bounce",
        "bounce",
        "5.1.1",
        "550 5.1.1 The email account does not exist",
        "Invalid Address",
    )
    assert fields("blocked", "bounce_type", "status", "classification") == (
        "blocked",
        "4.0.0",
        "Technical",
    )
    assert fields("dropped", "kind", "reason", "status") == ("dropped", "Bounced Address", "5.0.0")
    assert fields("open", "kind", "machine") == ("open", True)
    assert fields("human_open", "machine") == (False,)
    assert fields("click", "kind", "url") == ("click", "https://example.com/a?b=1")
    assert rows[ids["click"]]["url_id"] == rows[ids["click_again"]]["url_id"]  # stored once
    assert fields("group_unsubscribe", "kind", "asm_group_id") == ("group_unsubscribe", 42)
    assert fields("group_resubscribe", "kind", "asm_group_id") == ("group_resubscribe", 42)
    for name in ("processed", "spamreport", "unsubscribe"):
        assert fields(name, "kind", "extra") == (name, None)
    unknown = rows[ids["unknown"]]
    assert unknown["kind"] == "account_status_change"
    assert unknown["extra"] == {
        "smtp-id": "<14c5d75ce93.dfd.64b469@ismtpd-555>",
        "type": ("compliance_suspend"),
    }
    assert email.lower() not in str(unknown["extra"]).lower()  # never the address


def test_a_batch_posted_again_is_stored_once(events_server: EventServer) -> None:
    ids = [unique("again") for _ in range(5)]
    batch = [event("delivered", sg_event_id) for sg_event_id in ids]
    first = _post(events_server, batch)
    assert first == {"received": 5, "new": 5, "duplicates": 0, "malformed": 0}
    before = stored(events_server.engine, ids)
    # SendGrid retries what it saw no 2xx for; one more event rides along the second time,
    # and one comes twice in the same POST.
    more = unique("again")
    again = _post(events_server, [*batch, event("open", more), event("open", more)])
    assert again == {"received": 7, "new": 1, "duplicates": 6, "malformed": 0}
    after = stored(events_server.engine, [*ids, more])
    assert {key: after[key] for key in ids} == before
    assert len(after) == 6


def test_events_without_custom_args_are_tied_through_the_message_id(
    events_server: EventServer,
) -> None:
    email = f"{unique('bo')}@example.com"
    subscriber = add_subscriber(events_server.engine, email)
    message_id = unique("msg")
    campaign, batch = add_campaign_batch(events_server.engine, message_id)
    sg_event_id = unique("tied")
    _post(
        events_server,
        [event("delivered", sg_event_id, email=email, sg_message_id=f"{message_id}.f0.1.2.0")],
    )
    row = stored(events_server.engine, [sg_event_id])[sg_event_id]
    assert (row["campaign_id"], row["batch_id"], row["subscriber_id"]) == (
        campaign,
        batch,
        subscriber,
    )
    assert row["email_key"] is None


def test_events_of_unknown_campaigns_and_people_are_kept_with_the_address(
    events_server: EventServer,
) -> None:
    known = f"{unique('cy')}@example.com"
    known_id = add_subscriber(events_server.engine, known)
    stranger = f"{unique('Dee')}@Example.COM"
    ids = [unique("unknown") for _ in range(3)]
    answer = _post(
        events_server,
        [
            # No such campaign, subscriber or request.
            event(
                "bounce",
                ids[0],
                email=stranger,
                type="bounce",
                mailer_campaign="999999",
                mailer_subscriber="999999",
                sg_message_id="nosuchrequest.filter.0",
            ),
            # A subscriber id whose address is another's: not believed; the address is.
            event("spamreport", ids[1], email=stranger, mailer_subscriber=str(known_id)),
            # No address at all: the id alone is believed (it came back signed).
            {**event("open", ids[2], mailer_subscriber=str(known_id)), "email": None},
        ],
    )
    assert answer == {"received": 3, "new": 3, "duplicates": 0, "malformed": 0}
    rows = stored(events_server.engine, ids)
    key = stranger.lower()
    assert [
        (rows[i]["campaign_id"], rows[i]["subscriber_id"], rows[i]["batch_id"]) for i in ids
    ] == [(None, None, None), (None, None, None), (None, known_id, None)]
    assert [rows[i]["email_key"] for i in ids] == [key, key, None]


@pytest.mark.parametrize(
    "value", ["1e9", "-1", "0", "١٢", "12a", " 12", "9" * 30, 1.5, True, [], {}, None]
)
def test_ids_that_are_not_plain_positive_numbers_tie_nothing(
    events_server: EventServer, value: Any
) -> None:
    email = f"{unique('ed')}@example.com"
    add_subscriber(events_server.engine, email)
    sg_event_id = unique("ids")
    answer = _post(
        events_server,
        [
            event(
                "delivered",
                sg_event_id,
                email=None,
                mailer_campaign=value,
                mailer_subscriber=value,
                asm_group_id=value,
                sg_message_id=value,
            )
        ],
    )
    assert answer["new"] == 1
    row = stored(events_server.engine, [sg_event_id])[sg_event_id]
    assert (row["campaign_id"], row["subscriber_id"], row["batch_id"]) == (None, None, None)
    assert row["asm_group_id"] is None


def test_hostile_values_are_cut_or_refused_never_stored_as_given(
    events_server: EventServer,
) -> None:
    huge = "x" * 200_000
    ids = [unique("hostile") for _ in range(5)]
    posted: list[Any] = [
        event("bounce", ids[0], reason=huge, status=huge, type=huge, bounce_classification=huge),
        event("click", ids[1], url="https://example.com/" + huge, reason="nul\x00inside"),
        event("mystery", ids[2], nested={"a": [1, {"b\x00": "\x00"}]}),
        event("mystery", ids[4], big=huge),
        event("delivered", ids[3], reason=12, response=["a"], status=None, email=42),
        # Malformed: each counted, none stored.
        "not an object",
        17,
        None,
        [event("delivered", unique("inner"))],
        event("delivered", "x" * 101),
        event("delivered", ""),
        event("delivered", "nul\x00id"),
        event("", unique("nokind")),
        {**event("delivered", unique("listkind")), "event": ["delivered"]},
        {**event("delivered", unique("numberid")), "sg_event_id": 12345},
        event("delivered", unique("strtime"), timestamp="1764950000"),
        event("delivered", unique("floattime"), timestamp=1764950000.5),
        event("delivered", unique("negative"), timestamp=-1),
        event("delivered", unique("booltime"), timestamp=True),
        {"event": "delivered", "timestamp": 1764950000},
    ]
    answer = _post(events_server, posted)
    assert answer == {"received": len(posted), "new": 5, "duplicates": 0, "malformed": 15}
    rows = stored(events_server.engine, ids)
    bounce = rows[ids[0]]
    assert len(bounce["reason"]) == 2000
    assert (len(bounce["status"]), len(bounce["bounce_type"]), len(bounce["classification"])) == (
        32,
        16,
        64,
    )
    assert len(rows[ids[1]]["url"]) == 8192
    assert rows[ids[1]]["reason"] == "nulinside"
    assert rows[ids[2]]["extra"] == {
        "smtp-id": "<14c5d75ce93.dfd.64b469@ismtpd-555>",
        "nested": {"a": [1, {"b": ""}]},
    }
    assert rows[ids[4]]["extra"] == {"omitted": "fields larger than 16384 bytes as JSON"}
    assert (rows[ids[3]]["reason"], rows[ids[3]]["status"], rows[ids[3]]["email_key"]) == (
        None,
        None,
        None,
    )


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=30,
)
FIELDS = st.fixed_dictionaries(
    {},
    optional={
        name: JSON | st.text(max_size=20)
        for name in (
            "event",
            "sg_event_id",
            "timestamp",
            "email",
            "sg_message_id",
            "mailer_campaign",
            "mailer_subscriber",
            "reason",
            "url",
            "sg_machine_open",
        )
    },
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=JSON | st.lists(FIELDS | JSON, max_size=8))
def test_any_json_body_is_answered_without_a_server_error(
    events_server: EventServer, body: Any
) -> None:
    import json

    raw = json.dumps(body).encode()
    answer = post_signed(events_server.base_url, events_server.signer, raw)
    assert answer.status_code in (200, 400), answer.text
    assert (answer.status_code == 200) == isinstance(body, list)
