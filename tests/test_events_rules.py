"""What SendGrid's events do, posted signed to a real `mailer serve`: bounces, temporary
failures, drops and spam reports suppress; unsubscribes and group (re)subscribes change
memberships; each delivery's outcome only moves forward; opens and clicks become first
opens and clicks, machine ones apart; and an event acts only on the address it names."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import DATABASE_BACKENDS
from tests.events_helpers import EventServer, event, event_server, stored, unique
from tests.events_rules_helpers import (
    add_campaign,
    add_list,
    add_member,
    consent_sources,
    delivery,
    statuses,
    suppression,
)
from tests.webhook_signing import Signer, post_signed

T0 = 1764950000
DAY = 86_400


@pytest.fixture(scope="module", params=DATABASE_BACKENDS)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[EventServer]:
    folder = tmp_path_factory.mktemp("rules")
    with event_server(request.param, folder, Signer()) as running:
        yield running


def post(server: EventServer, events: list[dict[str, Any]]) -> None:
    answer = post_signed(server.base_url, server.signer, events)
    assert answer.status_code == 200, answer.text


def about(
    kind: str, email: str, campaign: int | None, subscriber: int | None, at: int, **fields: Any
) -> dict[str, Any]:
    ties: dict[str, Any] = {"email": email, "timestamp": at}
    if campaign is not None:
        ties["mailer_campaign"] = str(campaign)
    if subscriber is not None:
        ties["mailer_subscriber"] = str(subscriber)
    return event(kind, unique(kind), **ties, **fields)


def test_a_permanent_bounce_suppresses_and_the_outcome_only_moves_forward(
    server: EventServer,
) -> None:
    engine = server.engine
    list_id = add_list(engine)
    ada, email = add_member(engine, [list_id])
    campaign = add_campaign(engine, list_id, [ada])
    post(server, [about("delivered", email, campaign, ada, T0 + 5, response="250 OK")])
    post(server, [about("processed", email, campaign, ada, T0)])  # late: changes nothing
    row = delivery(engine, campaign, ada)
    assert (row["outcome"], row["outcome_reason"], row["outcome_at"]) == (
        "delivered",
        "250 OK",
        T0 + 5,
    )
    assert row["status"] == "sent"  # the sender's own ledger is left alone
    assert suppression(engine, email) is None
    bounce = about(
        "bounce",
        email,
        campaign,
        ada,
        T0 + 60,
        type="bounce",
        status="5.1.1",
        reason="550 5.1.1 No such user",
    )
    post(server, [bounce])
    found = suppression(engine, email)
    assert found is not None
    assert (found["reason"], found["detail"]) == (
        "bounce",
        "SendGrid bounce 5.1.1: 550 5.1.1 No such user",
    )
    row = delivery(engine, campaign, ada)
    assert (row["outcome"], row["outcome_reason"]) == ("bounced", "550 5.1.1 No such user")
    post(server, [about("delivered", email, campaign, ada, T0 + 90)])
    assert delivery(engine, campaign, ada)["outcome"] == "bounced"


def test_temporary_failures_suppress_once_enough_messages_had_one(server: EventServer) -> None:
    engine = server.engine
    list_id = add_list(engine)
    ada, email = add_member(engine, [list_id])
    first, second, third = (add_campaign(engine, list_id, [ada]) for _ in range(3))
    # One message deferred three times is one message.
    post(server, [about("deferred", email, first, ada, T0 + i, response="451") for i in range(3)])
    assert suppression(engine, email) is None
    assert delivery(engine, first, ada)["outcome"] == "deferred"
    blocked = {"type": "blocked", "status": "4.0.0", "reason": "421 busy"}
    post(server, [about("bounce", email, second, ada, T0 + DAY, **blocked)])
    assert suppression(engine, email) is None
    assert delivery(engine, second, ada)["outcome"] == "blocked"
    # Messages more than 30 days apart are not counted together.
    post(server, [about("bounce", email, third, ada, T0 + 31 * DAY, **blocked)])
    assert suppression(engine, email) is None
    fourth, fifth = add_campaign(engine, list_id, [ada]), add_campaign(engine, list_id, [ada])
    post(server, [about("deferred", email, fourth, ada, T0 + 40 * DAY)])
    assert suppression(engine, email) is None
    post(server, [about("deferred", email, fifth, ada, T0 + 45 * DAY)])  # 31, 40 and 45
    found = suppression(engine, email)
    assert found is not None and found["reason"] == "bounce"
    assert "3 or more messages failed temporarily within 30 days" in found["detail"]


def test_a_spam_report_suppresses_and_unsubscribes_from_every_list(server: EventServer) -> None:
    engine = server.engine
    weekly, monthly = add_list(engine), add_list(engine)
    ada, email = add_member(engine, [weekly, monthly])
    campaign = add_campaign(engine, weekly, [ada])
    post(server, [about("spamreport", email, campaign, ada, T0)])
    found = suppression(engine, email)
    assert found is not None and found["reason"] == "spamreport"
    assert statuses(engine, ada) == {weekly: "unsubscribed", monthly: "unsubscribed"}
    assert consent_sources(engine, ada) == [("unsubscribe", "SendGrid spam report")] * 2
    assert delivery(engine, campaign, ada)["outcome"] == "spamreport"
    # A group resubscribe does not undo a complaint.
    post(server, [about("group_resubscribe", email, campaign, ada, T0 + 9, asm_group_id=4)])
    assert statuses(engine, ada) == {weekly: "unsubscribed", monthly: "unsubscribed"}


@pytest.mark.parametrize(
    ("reason", "suppressed_as"),
    [
        ("Bounced Address", "bounce"),
        ("Unsubscribed Address", "unsubscribe"),
        ("Spam Reporting Address", "spamreport"),
        ("Invalid", "invalid"),
        ("Spam Content", None),
    ],
)
def test_a_drop_marks_the_delivery_and_mirrors_address_reasons(
    server: EventServer, reason: str, suppressed_as: str | None
) -> None:
    engine = server.engine
    list_id = add_list(engine)
    ada, email = add_member(engine, [list_id])
    campaign = add_campaign(engine, list_id, [ada])
    post(server, [about("dropped", email, campaign, ada, T0, reason=reason)])
    row = delivery(engine, campaign, ada)
    assert (row["outcome"], row["outcome_reason"]) == ("dropped", reason)
    found = suppression(engine, email)
    assert (found and found["reason"]) == suppressed_as or (found is None and not suppressed_as)


def test_sendgrid_unsubscribes_and_a_group_resubscribe_undoing_only_its_own(
    server: EventServer,
) -> None:
    engine = server.engine
    weekly, monthly = add_list(engine), add_list(engine)
    ada, email = add_member(engine, [weekly, monthly])
    campaign = add_campaign(engine, weekly, [ada])
    post(server, [about("group_unsubscribe", email, campaign, ada, T0, asm_group_id=4)])
    assert statuses(engine, ada) == {weekly: "unsubscribed", monthly: "confirmed"}
    post(server, [about("group_resubscribe", email, campaign, ada, T0 + 5, asm_group_id=4)])
    assert statuses(engine, ada) == {weekly: "confirmed", monthly: "confirmed"}
    post(server, [about("unsubscribe", email, campaign, ada, T0 + 10)])
    assert statuses(engine, ada) == {weekly: "unsubscribed", monthly: "unsubscribed"}
    post(server, [about("group_resubscribe", email, campaign, ada, T0 + 15, asm_group_id=4)])
    assert statuses(engine, ada) == {weekly: "unsubscribed", monthly: "unsubscribed"}
    assert consent_sources(engine, ada) == [
        ("unsubscribe", "SendGrid group unsubscribe"),
        ("resubscribe", "SendGrid group resubscribe"),
        ("unsubscribe", "SendGrid"),
        ("unsubscribe", "SendGrid"),
    ]
    assert suppression(engine, email) is None


def test_an_event_acts_only_on_the_address_it_names(server: EventServer) -> None:
    engine = server.engine
    list_id = add_list(engine)
    ada, ada_email = add_member(engine, [list_id])
    bob, bob_email = add_member(engine, [list_id])
    campaign = add_campaign(engine, list_id, [ada, bob])
    stranger = f"{unique('stranger')}@example.com"
    forged = about("spamreport", stranger, campaign, bob, T0)  # Bob's id, another address
    nameless = about("bounce", ada_email, campaign, ada, T0, type="bounce")
    del nameless["email"]  # Ada's id and no address at all
    post(server, [forged, nameless])
    assert suppression(engine, bob_email) is None
    assert suppression(engine, ada_email) is None
    assert statuses(engine, bob) == {list_id: "confirmed"}
    found = suppression(engine, stranger)  # the address the event names, no subscriber
    assert found is not None and found["reason"] == "spamreport"
    # An event for an unknown campaign and subscriber is kept and still suppresses.
    unknown = f"{unique('gone')}@example.com"
    post(server, [about("bounce", unknown, 10**9, 10**9, T0, type="bounce", status="5.1.1")])
    assert suppression(engine, unknown) is not None


def test_opens_and_clicks_become_first_opens_and_clicks(server: EventServer) -> None:
    engine = server.engine
    list_id = add_list(engine)
    ada, email = add_member(engine, [list_id])
    campaign = add_campaign(engine, list_id, [ada])
    link = "https://example.com/article"
    scanned = about("click", email, campaign, ada, T0 + 3, url=link)  # 3 s after delivery
    post(
        server,
        [
            about("delivered", email, campaign, ada, T0),
            about("open", email, campaign, ada, T0 + 1, sg_machine_open=True),
            scanned,
        ],
    )
    row = delivery(engine, campaign, ada)
    assert (row["first_open_at"], row["first_human_open_at"]) == (T0 + 1, None)
    assert (row["first_click_at"], row["first_human_click_at"]) == (T0 + 3, None)
    assert stored(engine, [scanned["sg_event_id"]])[scanned["sg_event_id"]]["machine"] is True
    agent = about("click", email, campaign, ada, T0 + 100, url=link, useragent="Barracuda/1")
    human = about("click", email, campaign, ada, T0 + 500, url=link, useragent="Mozilla/5.0")
    post(server, [about("open", email, campaign, ada, T0 + 400, sg_machine_open=False), agent])
    post(server, [human])
    row = delivery(engine, campaign, ada)
    assert (row["first_open_at"], row["first_human_open_at"]) == (T0 + 1, T0 + 400)
    assert (row["first_click_at"], row["first_human_click_at"]) == (T0 + 3, T0 + 500)
    flags = stored(engine, [agent["sg_event_id"], human["sg_event_id"]])
    assert flags[agent["sg_event_id"]]["machine"] is True
    assert flags[human["sg_event_id"]]["machine"] is False


def test_a_burst_of_clicks_on_several_links_is_automated_even_across_posts(
    server: EventServer,
) -> None:
    engine = server.engine
    list_id = add_list(engine)
    ada, email = add_member(engine, [list_id])
    campaign = add_campaign(engine, list_id, [ada])
    at = T0 + 1000
    first = about("click", email, campaign, ada, at, url="https://example.com/1")
    post(server, [about("delivered", email, campaign, ada, T0), first])
    assert delivery(engine, campaign, ada)["first_human_click_at"] == at
    post(
        server,
        [
            about("click", email, campaign, ada, at, url="https://example.com/2"),
            about("click", email, campaign, ada, at + 1, url="https://example.com/3"),
        ],
    )
    assert delivery(engine, campaign, ada)["first_human_click_at"] is None
    assert stored(engine, [first["sg_event_id"]])[first["sg_event_id"]]["machine"] is True


def test_a_personal_link_is_stored_without_its_token(server: EventServer) -> None:
    engine = server.engine
    list_id = add_list(engine)
    ada, email = add_member(engine, [list_id])
    campaign = add_campaign(engine, list_id, [ada])
    click = about(
        "click", email, campaign, ada, T0, url="https://news.example.org/unsubscribe/SECRET.sig"
    )
    post(server, [click])
    row = stored(engine, [click["sg_event_id"]])[click["sg_event_id"]]
    assert row["url"] == "https://news.example.org/unsubscribe/…"


@pytest.mark.parametrize("backend", DATABASE_BACKENDS)
def test_tracking_not_individual_keeps_no_person_with_opens_or_clicks(
    backend: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    folder = tmp_path_factory.mktemp("totals")
    env = {"MAILER_TRACKING_INDIVIDUAL": "false"}
    with event_server(backend, folder, Signer(), env) as running:
        engine = running.engine
        list_id = add_list(engine)
        ada, email = add_member(engine, [list_id])
        campaign = add_campaign(engine, list_id, [ada])
        posted = [
            about("delivered", email, campaign, ada, T0),
            about("open", email, campaign, ada, T0 + 100, sg_machine_open=False),
            about("click", email, campaign, ada, T0 + 200, url="https://example.com/a"),
        ]
        post(running, posted)
        rows = stored(engine, [item["sg_event_id"] for item in posted])
        by_kind = {row["kind"]: row for row in rows.values()}
        for kind in ("open", "click"):
            assert by_kind[kind]["campaign_id"] == campaign
            assert (by_kind[kind]["subscriber_id"], by_kind[kind]["email_key"]) == (None, None)
        assert by_kind["delivered"]["subscriber_id"] == ada
        row = delivery(engine, campaign, ada)
        assert row["outcome"] == "delivered"
        assert row["first_open_at"] is None and row["first_click_at"] is None
