"""Signing up through the public form, driven through the service (no HTTP): single and
double opt-in, the confirmation mail and its link, limits, the honeypot, and answers that
never tell a known or suppressed address from an unknown one."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mailer.app import Mailer
from mailer.audience.subscribers import add_subscribers, forget_subscriber, unsubscribe
from mailer.audience.suppressions import suppress
from mailer.errors import FieldError
from mailer.services.confirmation import confirm
from mailer.services.consent import Origin
from mailer.services.notice_mail import Job
from mailer.services.signup import SignupOutcome, Throttled, offered_lists, signup
from tests.conftest import POSTAL_ADDRESS, Project
from tests.signup_helpers import (
    FORM,
    Clock,
    configure,
    confirm_token,
    consent,
    newsletter,
    outbox,
    part,
    statuses,
    subscriber_count,
)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def mailer(db_project: Project, clock: Clock) -> Iterator[Mailer]:
    app = newsletter(db_project, clock)
    yield app
    app.close()


def test_the_form_offers_the_public_lists_only(mailer: Mailer) -> None:
    offered = {offer.name: offer.double_opt_in for offer in offered_lists(mailer)}
    assert offered == {"daily": True, "weekly": False}


def test_a_single_opt_in_list_subscribes_at_once_without_mail(mailer: Mailer) -> None:
    outcome = signup(mailer, "Ada@Example.com", "Ada Lovelace", ["weekly"], FORM)
    assert not outcome.confirm_by_mail
    assert [entry.title for entry in outcome.lists] == ["Weekly"]
    assert statuses(mailer, "ada@example.com") == {"weekly": "confirmed"}
    assert outbox(mailer) == []
    # The form is named; the IP is kept only under [web] record_ip.
    assert consent(mailer, "ada@example.com") == [("weekly", "subscribe", "signup form", None)]


def test_the_ip_is_recorded_only_when_asked_for(db_project: Project, clock: Clock) -> None:
    configure(db_project, "[web]\nrecord_ip = true")
    app = newsletter(db_project, clock)
    try:
        signup(app, "ada@example.com", "", ["weekly"], FORM)
        assert consent(app, "ada@example.com") == [
            ("weekly", "subscribe", "signup form", "203.0.113.9")
        ]
    finally:
        app.close()


def test_a_double_opt_in_list_waits_for_the_link_in_the_mail(mailer: Mailer) -> None:
    outcome = signup(mailer, "ada@example.com", "Ada", ["daily"], FORM)
    assert outcome.confirm_by_mail
    assert statuses(mailer, "ada@example.com") == {"daily": "unconfirmed"}
    [message] = outbox(mailer)
    assert message["To"] == "ada@example.com"
    assert message["Subject"] == "Confirm your subscription to Tech in China Weekly"
    # The same headers as every other mail: one-click unsubscribe, List-Id, the sender.
    assert message["List-Unsubscribe"].startswith("<https://newsletter.example.com/unsubscribe/")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["List-Id"] == "Tech in China Weekly <daily.newsletter.example.com>"
    assert message["From"] == "Tech in China Weekly <newsletter@example.com>"
    text, html = part(message, "plain"), part(message, "html")
    token = confirm_token(mailer, message)
    for body in (text, html):
        assert token in body and POSTAL_ADDRESS in body
        assert "ignore this message" in body
    assert "Daily <Briefing>" in text and "Daily &lt;Briefing&gt;" in html

    confirmed = confirm(mailer, token, Origin("confirmation page"))
    assert confirmed.pending == ("daily",)
    assert statuses(mailer, "ada@example.com") == {"daily": "confirmed"}
    assert confirm(mailer, token, Origin("confirmation page")).pending == ()  # repeat: nothing
    assert consent(mailer, "ada@example.com") == [
        ("daily", "subscribe", "signup form", None),
        ("daily", "confirm", "confirmation page", None),
    ]


def test_one_mail_confirms_every_double_opt_in_list_of_the_signup(mailer: Mailer) -> None:
    from mailer.audience.lists import create_list

    create_list(mailer.engine, "monthly", title="Monthly", double_opt_in=True, public=True)
    signup(mailer, "ada@example.com", "", ["weekly", "daily", "monthly"], FORM)
    assert statuses(mailer, "ada@example.com") == {
        "daily": "unconfirmed",
        "monthly": "unconfirmed",
        "weekly": "confirmed",
    }
    [message] = outbox(mailer)
    assert "Daily <Briefing> and Monthly" in part(message, "plain")
    # About several lists, its unsubscribe link is the one that leaves them all.
    assert message["List-Id"] == "Tech in China Weekly <list.newsletter.example.com>"
    assert confirm(mailer, confirm_token(mailer, message), FORM).pending == ("daily", "monthly")
    assert set(statuses(mailer, "ada@example.com").values()) == {"confirmed"}


def test_the_link_confirms_only_the_lists_of_its_own_signup(mailer: Mailer) -> None:
    signup(mailer, "ada@example.com", "", ["daily"], FORM)
    add_subscribers(mailer.engine, ["ada@example.com"], "staff", source="admin")
    # staff is single opt-in, so the admin's add confirmed it; make a pending one to check.
    from mailer.audience.lists import create_list

    create_list(mailer.engine, "later", double_opt_in=True, public=True)
    add_subscribers(mailer.engine, ["ada@example.com"], "later")
    [message] = outbox(mailer)
    confirm(mailer, confirm_token(mailer, message), FORM)
    assert statuses(mailer, "ada@example.com") == {
        "daily": "confirmed",
        "later": "unconfirmed",
        "staff": "confirmed",
    }


def test_someone_already_confirmed_is_left_as_they_are(mailer: Mailer) -> None:
    signup(mailer, "ada@example.com", "Ada", ["weekly"], FORM)
    signup(mailer, "ada@example.com", "Someone Else", ["weekly"], FORM)
    assert statuses(mailer, "ada@example.com") == {"weekly": "confirmed"}
    assert outbox(mailer) == []
    assert consent(mailer, "ada@example.com") == [("weekly", "subscribe", "signup form", None)]


def test_someone_who_left_must_confirm_even_a_single_opt_in_list(mailer: Mailer) -> None:
    signup(mailer, "ada@example.com", "", ["weekly"], FORM)
    unsubscribe(mailer.engine, "ada@example.com", "weekly", clock=mailer.clock)
    # Anyone can type Ada's address into the form: that alone must not bring her back.
    signup(mailer, "ada@example.com", "", ["weekly"], FORM)
    assert statuses(mailer, "ada@example.com") == {"weekly": "unsubscribed"}
    [message] = outbox(mailer)
    confirm(mailer, confirm_token(mailer, message), FORM)
    assert statuses(mailer, "ada@example.com") == {"weekly": "confirmed"}


def test_an_old_confirmation_mail_does_not_undo_a_later_unsubscribe(
    mailer: Mailer, clock: Clock
) -> None:
    signup(mailer, "ada@example.com", "", ["daily"], FORM)
    [message] = outbox(mailer)
    token = confirm_token(mailer, message)
    confirm(mailer, token, FORM)
    clock.advance(days=30)
    unsubscribe(mailer.engine, "ada@example.com", "daily", clock=clock)
    clock.advance(days=30)
    assert confirm(mailer, token, FORM).pending == ()
    assert statuses(mailer, "ada@example.com") == {"daily": "unsubscribed"}


def test_someone_who_left_everything_comes_back_only_through_the_mail(
    mailer: Mailer, clock: Clock
) -> None:
    signup(mailer, "ada@example.com", "", ["weekly"], FORM)
    unsubscribe(mailer.engine, "ada@example.com", clock=clock)  # every list: suppressed
    clock.advance(minutes=5)
    signup(mailer, "ada@example.com", "", ["weekly", "daily"], FORM)
    assert statuses(mailer, "ada@example.com") == {"daily": "unconfirmed", "weekly": "unsubscribed"}
    [message] = outbox(mailer)
    assert confirm(mailer, confirm_token(mailer, message), FORM).pending == ("weekly", "daily")
    assert statuses(mailer, "ada@example.com") == {"daily": "confirmed", "weekly": "confirmed"}
    from mailer.audience.subscribers import show_subscriber

    assert show_subscriber(mailer.engine, "ada@example.com").suppression is None


def _known_states(app: Mailer) -> None:
    """An address in each state a signup must not give away."""
    signup(app, "confirmed@example.com", "", ["weekly", "daily"], FORM)
    add_subscribers(app.engine, ["confirmed@example.com"], "daily", confirmed=True)
    signup(app, "pending@example.com", "", ["daily"], FORM)
    signup(app, "left@example.com", "", ["weekly"], FORM)
    unsubscribe(app.engine, "left@example.com", "weekly")
    suppress(app.engine, "bounced@example.com", "bounce")
    signup(app, "complained@example.com", "", ["weekly"], FORM)
    suppress(app.engine, "complained@example.com", "spamreport")
    signup(app, "erased@example.com", "", ["weekly"], FORM)
    forget_subscriber(app.engine, "erased@example.com")


ADDRESSES = [
    "new@example.com",
    "confirmed@example.com",
    "pending@example.com",
    "left@example.com",
    "bounced@example.com",
    "complained@example.com",
    "erased@example.com",
]


@pytest.mark.parametrize(
    ("chosen", "mailed"),
    [
        # Single opt-in: only someone who left must say yes again from their mailbox.
        (["weekly"], {"left@example.com"}),
        # Double opt-in: everyone not confirmed and not suppressed.
        (["daily"], {"new@example.com", "pending@example.com", "left@example.com"}),
        (["weekly", "daily"], {"new@example.com", "pending@example.com", "left@example.com"}),
    ],
)
def test_the_answer_is_the_same_whoever_the_address_belongs_to(
    mailer: Mailer, clock: Clock, chosen: list[str], mailed: set[str]
) -> None:
    _known_states(mailer)
    before = len(outbox(mailer))
    clock.advance(days=1)  # the set-up's own signups are out of the day's count
    outcomes: set[SignupOutcome] = set()
    jobs: list[int] = []
    for email in ADDRESSES:
        taken: list[Job] = []
        outcomes.add(signup(mailer, email, "X", chosen, FORM, deliver=taken.append))
        jobs.append(len(taken))
        for job in taken:
            job()
    assert len(outcomes) == 1  # nothing to tell the addresses apart by
    assert jobs == [1] * len(ADDRESSES)  # a mail job each time, whether it sends or not
    assert {str(message["To"]) for message in outbox(mailer)[before:]} == mailed


def test_suppressed_and_erased_addresses_are_not_stored_again(mailer: Mailer) -> None:
    suppress(mailer.engine, "bounced@example.com", "bounce")
    signup(mailer, "erased@example.com", "", ["weekly"], FORM)
    forget_subscriber(mailer.engine, "erased@example.com")
    count = subscriber_count(mailer)
    for email in ("bounced@example.com", "ERASED@example.com"):
        signup(mailer, email, "X", ["daily", "weekly"], FORM)
    assert subscriber_count(mailer) == count
    assert outbox(mailer) == []


def test_the_honeypot_stores_and_sends_nothing_and_answers_the_same(mailer: Mailer) -> None:
    honest = signup(mailer, "ada@example.com", "", ["daily"], FORM)
    robot = signup(mailer, "bo@example.com", "", ["daily"], FORM, honeypot="http://spam")
    assert robot == honest
    assert subscriber_count(mailer) == 1
    assert [str(message["To"]) for message in outbox(mailer)] == ["ada@example.com"]


def test_an_address_gets_at_most_three_confirmations_a_day(mailer: Mailer, clock: Clock) -> None:
    for attempt in range(3):
        signup(
            mailer, "ada@example.com", "", ["daily"], Origin("signup form", f"198.51.100.{attempt}")
        )
        clock.advance(minutes=10)
    with pytest.raises(Throttled) as refused:
        signup(mailer, "ADA@example.com", "", ["daily"], Origin("signup form", "192.0.2.1"))
    assert 0 < refused.value.retry_after <= 86_400
    assert len(outbox(mailer)) == 3
    clock.advance(seconds=refused.value.retry_after)
    signup(mailer, "ada@example.com", "", ["daily"], FORM)
    assert len(outbox(mailer)) == 4


@pytest.mark.parametrize("state", ["new", "confirmed", "bounced"])
def test_the_daily_cap_counts_every_address_alike(mailer: Mailer, state: str) -> None:
    email = f"{state}@example.com"
    if state == "confirmed":
        add_subscribers(mailer.engine, [email], "daily", confirmed=True)
    if state == "bounced":
        suppress(mailer.engine, email, "bounce")
    for _ in range(3):
        signup(mailer, email, "", ["daily"], FORM)
    with pytest.raises(Throttled):
        signup(mailer, email, "", ["daily"], FORM)


def test_one_ip_is_throttled_after_twenty_signups_an_hour(mailer: Mailer, clock: Clock) -> None:
    for number in range(20):
        signup(mailer, f"reader{number}@example.com", "", ["weekly"], FORM)
    with pytest.raises(Throttled) as refused:
        signup(mailer, "one-more@example.com", "", ["weekly"], FORM)
    assert 0 < refused.value.retry_after <= 3600
    # Refused even before the input is read: a flood of nonsense is throttled too.
    with pytest.raises(Throttled):
        signup(mailer, "not an address", "", [], FORM)
    signup(mailer, "one-more@example.com", "", ["weekly"], Origin("signup form", "192.0.2.7"))
    clock.advance(hours=1)
    signup(mailer, "later@example.com", "", ["weekly"], FORM)
    assert statuses(mailer, "later@example.com") == {"weekly": "confirmed"}


@pytest.mark.parametrize(
    ("email", "name", "chosen", "field"),
    [
        ("", "", ["weekly"], "email"),
        ("not-an-address", "", ["weekly"], "email"),
        ("ada@example.com\r\nBcc: x@example.com", "", ["weekly"], "email"),
        ("ada@example.com", "x" * 201, ["weekly"], "name"),
        ("ada@example.com", "A\x00da", ["weekly"], "name"),
        ("ada@example.com", "A\ud800da", ["weekly"], "name"),
        ("ada@example.com", "", [], "lists"),
        ("ada@example.com", "", ["staff"], "lists"),  # private
        ("ada@example.com", "", ["nosuch"], "lists"),
        ("ada@example.com", "", ["weekly", "WEEKLY"], "lists"),
    ],
)
def test_input_that_cannot_be_taken_names_its_field_and_stores_nothing(
    mailer: Mailer, email: str, name: str, chosen: list[str], field: str
) -> None:
    with pytest.raises(FieldError) as refused:
        signup(mailer, email, name, chosen, FORM)
    assert refused.value.field == field
    assert subscriber_count(mailer) == 0 and outbox(mailer) == []


def test_a_private_list_is_refused_in_the_same_words_as_no_list(mailer: Mailer) -> None:
    messages = set()
    for chosen in (["staff"], ["nosuch"]):
        with pytest.raises(FieldError) as refused:
            signup(mailer, "ada@example.com", "", chosen, FORM)
        messages.add(str(refused.value))
    assert len(messages) == 1


def test_more_than_ten_lists_at_once_are_refused(mailer: Mailer) -> None:
    from mailer.audience.lists import create_list

    names = [f"list-{number:02d}-" + "x" * 92 for number in range(11)]
    for name in names:
        create_list(mailer.engine, name, double_opt_in=True, public=True)
    with pytest.raises(FieldError, match="at most 10"):
        signup(mailer, "ada@example.com", "", names, FORM)
    # Ten of the longest names still make a link that confirms them all.
    signup(mailer, "ada@example.com", "", names[:10], FORM)
    [message] = outbox(mailer)
    assert len(confirm(mailer, confirm_token(mailer, message), FORM).pending) == 10
