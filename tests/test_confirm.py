"""Confirming through the link in a confirmation mail, driven through the service: only a
genuine link confirms, opening it changes nothing, names stay data, and the welcome mail."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailer.app import Mailer
from mailer.audience.subscribers import forget_subscriber, show_subscriber
from mailer.checks.mjml_validate import validate_mjml
from mailer.db.tables import subscribers
from mailer.delivery.transports.base import BatchContent, Outgoing, send_now
from mailer.delivery.transports.outbox import OutboxTransport
from mailer.links import PREFERENCES, UNSUBSCRIBE, link_url
from mailer.render.tokens import Recipient
from mailer.services.confirm_links import open_confirm_link
from mailer.services.confirmation import confirm, read_confirmation
from mailer.services.notice_mail import (
    CONFIRM_NOTICE,
    WELCOME_NOTICE,
    NoticeNotSent,
    notice_sources,
    render_notice,
)
from mailer.services.signup import signup
from mailer.services.subscriber_links import InvalidLink, LinkFromTestCopy
from mailer.signing import sign
from tests.conftest import POSTAL_ADDRESS, Project
from tests.signup_helpers import (
    FORM,
    Clock,
    configure,
    confirm_token,
    newsletter,
    outbox,
    part,
    statuses,
)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def mailer(db_project: Project, clock: Clock) -> Iterator[Mailer]:
    app = newsletter(db_project, clock)
    yield app
    app.close()


def pending_signup(app: Mailer, email: str = "ada@example.com") -> str:
    """Sign ``email`` up to the double opt-in list; the token of the mail's link."""
    signup(app, email, "", ["daily"], FORM)
    return confirm_token(app, outbox(app)[-1])


def subscriber_id(app: Mailer, email: str) -> int:
    with app.engine.connect() as connection:
        return int(
            connection.execute(
                sa.select(subscribers.c.id).where(subscribers.c.email_key == email)
            ).scalar_one()
        )


def test_opening_the_link_shows_what_it_confirms_and_changes_nothing(mailer: Mailer) -> None:
    token = pending_signup(mailer)
    shown = read_confirmation(mailer, token)
    assert [(entry.name, entry.title) for entry in shown.lists] == [("daily", "Daily <Briefing>")]
    assert shown.pending == ("daily",)
    assert statuses(mailer, "ada@example.com") == {"daily": "unconfirmed"}
    confirm(mailer, token, FORM)
    assert read_confirmation(mailer, token).pending == ()


def _other_links(app: Mailer) -> list[str]:
    genuine = pending_signup(app)
    ada = subscriber_id(app, "ada@example.com")
    key = app.signing_key
    base = "https://x"
    body, signature = genuine.split(".")
    return [
        # Genuine links of other purposes, for the same person and list.
        link_url(base, key, UNSUBSCRIBE, ada, "ada@example.com", "daily").rsplit("/", 1)[1],
        link_url(base, key, PREFERENCES, ada, "ada@example.com", "daily").rsplit("/", 1)[1],
        # A confirmation signed with another key, and one naming the list without a time.
        sign(b"k" * 43, "confirm", f"#{ada}\n1764493200:daily", "ada@example.com"),
        sign(key, "confirm", f"#{ada}\ndaily", "ada@example.com"),
        # A link for someone else's address, and one of the old kind naming the address.
        link_url(base, key, "confirm", ada, "bo@example.com", "1764493200:daily").rsplit("/")[-1],
        sign(key, "confirm", "ada@example.com\n1764493200:daily"),
        genuine[:-1],
        genuine[:20],
        genuine + "A",
        body + "." + signature[::-1],
        body,
        "",
        "not a link",
        "%2e%2e%2f",
    ]


def test_a_link_that_is_not_a_genuine_confirmation_changes_nothing(mailer: Mailer) -> None:
    for token in _other_links(mailer):
        with pytest.raises(InvalidLink):
            read_confirmation(mailer, token)
        with pytest.raises(InvalidLink):
            confirm(mailer, token, FORM)
    assert statuses(mailer, "ada@example.com") == {"daily": "unconfirmed"}


def test_a_confirmation_from_a_test_copy_confirms_nobody(mailer: Mailer) -> None:
    pending_signup(mailer)
    test_copy = link_url("https://x", mailer.signing_key, "confirm", 0, "", "1764493200:daily")
    with pytest.raises(LinkFromTestCopy):
        confirm(mailer, test_copy.rsplit("/", 1)[1], FORM)
    assert statuses(mailer, "ada@example.com") == {"daily": "unconfirmed"}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_changing_any_character_of_a_link_makes_it_refused(
    module_mailer: tuple[Mailer, str], data: st.DataObject
) -> None:
    app, token = module_mailer
    position = data.draw(st.integers(0, len(token) - 1), label="position")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.="
    replacement = data.draw(st.sampled_from(alphabet).filter(lambda c: c != token[position]))
    altered = token[:position] + replacement + token[position + 1 :]
    with pytest.raises(InvalidLink):
        open_confirm_link(app, altered)


@pytest.fixture(scope="module")
def module_mailer(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Mailer, str]]:
    """One newsletter (SQLite) with a pending signup, for many examples."""
    import shutil

    from tests.conftest import REPO

    root = tmp_path_factory.mktemp("confirm") / "project"
    shutil.copytree(REPO / "templates", root / "templates")
    (root / "issues").mkdir()
    config = root / "mailer.toml"
    config.write_text(f'[newsletter]\npostal_address = "{POSTAL_ADDRESS}"\n', encoding="utf-8")
    app = newsletter(Project(root, config), Clock())
    yield app, pending_signup(app)
    app.close()


def test_a_link_for_someone_erased_since_is_refused(mailer: Mailer) -> None:
    token = pending_signup(mailer)
    forget_subscriber(mailer.engine, "ada@example.com")
    with pytest.raises(InvalidLink):
        confirm(mailer, token, FORM)


@pytest.mark.parametrize(
    "name",
    [
        "<script>alert(1)</script>",
        "Ada\r\nBcc: victim@example.com",
        "=?utf-8?q?Ada=0D=0ABcc=3A_victim=40example=2Ecom?=",
        "Click https://evil.example/ now",
    ],
)
def test_a_hostile_name_is_stored_as_data_and_kept_out_of_the_mail(
    mailer: Mailer, name: str
) -> None:
    signup(mailer, "ada@example.com", name, ["daily"], FORM)
    stored = show_subscriber(mailer.engine, "ada@example.com").subscriber.name
    assert stored == " ".join(name.split())  # line breaks fold to a space; the rest is kept
    message = outbox(mailer)[-1]
    # Whoever filled the form in chose the name: the mail to the address's owner shows none.
    assert message["To"] == "ada@example.com" and message["Bcc"] is None
    raw = message.as_string()
    for piece in ("alert(1)", "victim", "evil", "=?utf-8?q?Ada"):
        assert piece not in raw


def test_a_known_subscribers_name_is_not_changed_by_a_signup(mailer: Mailer) -> None:
    signup(mailer, "ada@example.com", "Ada Lovelace", ["weekly"], FORM)
    signup(mailer, "ada@example.com", "<b>Not Ada</b>", ["daily"], FORM)
    assert show_subscriber(mailer.engine, "ada@example.com").subscriber.name == "Ada Lovelace"


def test_no_welcome_mail_unless_asked_for(mailer: Mailer) -> None:
    confirm(mailer, pending_signup(mailer), FORM)
    assert len(outbox(mailer)) == 1


def test_the_welcome_mail_follows_a_confirmation_once(db_project: Project, clock: Clock) -> None:
    configure(db_project, "[web]\nwelcome_email = true")
    app = newsletter(db_project, clock)
    try:
        signup(app, "ada@example.com", "Ada", ["daily", "weekly"], FORM)
        token = confirm_token(app, outbox(app)[0])
        confirm(app, token, FORM)
        confirm(app, token, FORM)  # a second click sends nothing more
        [_, welcome] = outbox(app)
        assert welcome["Subject"] == "Welcome to Tech in China Weekly"
        assert welcome["To"] == "Ada <ada@example.com>"
        text = part(welcome, "plain")
        # It names only what the click confirmed, and carries the links of every issue.
        assert "confirmed: Daily <Briefing>." in text and POSTAL_ADDRESS in text
        unsubscribe_url = welcome["List-Unsubscribe"].strip("<>")
        assert f"Unsubscribe: {unsubscribe_url}" in text
        assert "/preferences/" in text
        assert welcome["List-Id"] == "Tech in China Weekly <daily.newsletter.example.com>"
    finally:
        app.close()


@pytest.mark.parametrize("kind", [CONFIRM_NOTICE, WELCOME_NOTICE])
def test_the_notices_are_valid_mjml(project: Project, kind: str) -> None:
    sources = notice_sources(project.renderer(), kind, ("Weekly", "Daily"))
    assert validate_mjml(sources.mjml) == []
    assert sources.subject


def test_a_transport_that_takes_nothing_is_an_error_and_the_signup_waits(
    db_project: Project, clock: Clock
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    configure(
        db_project,
        f'[transport]\ndefault = "smtp"\n[transport.smtp]\nport = {port}\nsecurity = "none"',
    )
    app = newsletter(db_project, clock)
    try:
        with pytest.raises(NoticeNotSent):
            signup(app, "ada@example.com", "", ["daily"], FORM)
        assert statuses(app, "ada@example.com") == {"daily": "unconfirmed"}
    finally:
        app.close()


def test_mail_sent_at_the_same_instant_by_two_senders_all_lands_in_the_outbox(
    project: Project, tmp_path: Path
) -> None:
    # Two server processes (or threads) sending confirmations in the same microsecond.
    instant = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    notice = render_notice(project.renderer(), CONFIRM_NOTICE, ("Daily",))
    content = BatchContent(
        notice.subject, notice.html, notice.text, project.settings().newsletter, "daily"
    )
    for email in ("ada@example.com", "bo@example.com"):
        sender = OutboxTransport(tmp_path, clock=lambda: instant)
        person = Recipient(email, "", "https://x/u", "", {"confirm_url": "https://x/c"})
        send_now(sender, content, [Outgoing(1, person)])
    assert len(list((tmp_path / "test").glob("*.eml"))) == 2
