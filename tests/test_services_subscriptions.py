"""The subscription services behind the public pages, driven without HTTP: links in mail
unsubscribe, undo and open the preferences; nothing is changed by a link that is not genuine."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from mailer.app import Mailer
from mailer.audience.csv_import import import_csv
from mailer.audience.lists import create_list, delete_list
from mailer.audience.subscribers import show_subscriber
from mailer.audience.suppressions import suppress
from mailer.db.tables import consent_events, event_urls, lists, subscribers
from mailer.db.tables import events as event_rows
from mailer.errors import FieldError
from mailer.links import PREFERENCES, UNSUBSCRIBE, link_url
from mailer.services import preferences as prefs
from mailer.services.consent import Origin
from mailer.services.subscriber_links import InvalidLink, LinkFromTestCopy
from mailer.services.unsubscribe import (
    LinkOutcome,
    UnsubscribeRequest,
    resubscribe_by_link,
    unsubscribe_by_link,
    unsubscribe_links,
)
from mailer.signing import sign
from tests.conftest import Project

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
ONE_CLICK = Origin("one-click", "203.0.113.9")
PAGE = Origin("preferences", "203.0.113.9")


@pytest.fixture
def mailer(db_project: Project) -> Iterator[Mailer]:
    app = Mailer(db_project.settings(), clock=lambda: NOW, environ={})
    create_list(app.engine, "weekly", title="Weekly")
    create_list(app.engine, "daily", title="Daily")
    create_list(app.engine, "staff", title="Staff only")
    with app.engine.begin() as connection:
        connection.execute(
            sa.update(lists).where(lists.c.name.in_(["weekly", "daily"])).values(public=True)
        )
    data = b"email,name\nada@example.com,Ada\nbo@example.com,Bo\n"
    import_csv(app.engine, io.BytesIO(data), "weekly", source="test", confirmed=True)
    yield app
    app.close()


def token(app: Mailer, purpose: str, email: str, list_name: str = "weekly") -> str:
    with app.engine.connect() as connection:
        subscriber_id = connection.execute(
            sa.select(subscribers.c.id).where(subscribers.c.email_key == email)
        ).scalar_one()
    url = link_url("https://x", app.signing_key, purpose, subscriber_id, email, list_name)
    return url.rsplit("/", 1)[1]


def status(app: Mailer, email: str) -> dict[str, str]:
    detail = show_subscriber(app.engine, email)
    return {m.list_name: m.status for m in detail.memberships}


def events(app: Mailer) -> list[tuple[str, str, str, str | None]]:
    with app.engine.connect() as connection:
        rows = connection.execute(
            sa.select(
                consent_events.c.list_name,
                consent_events.c.action,
                consent_events.c.source,
                consent_events.c.ip,
            ).order_by(consent_events.c.id)
        ).all()
    return [tuple(row) for row in rows]


def test_an_unsubscribe_link_unsubscribes_once_and_records_consent(mailer: Mailer) -> None:
    link = token(mailer, UNSUBSCRIBE, "ada@example.com")
    outcome = unsubscribe_by_link(mailer, link, ONE_CLICK)
    assert outcome.changed == ("weekly",)
    assert status(mailer, "ada@example.com") == {"weekly": "unsubscribed"}
    assert status(mailer, "bo@example.com") == {"weekly": "confirmed"}
    assert unsubscribe_by_link(mailer, link, ONE_CLICK).changed == ()  # a repeat changes nothing
    # The IP address is kept only when the operator asked for it.
    assert events(mailer) == [("weekly", "unsubscribe", "one-click", None)]


def test_undo_confirms_again_only_what_was_left(mailer: Mailer) -> None:
    link = token(mailer, UNSUBSCRIBE, "ada@example.com")
    unsubscribe_by_link(mailer, link, ONE_CLICK)
    assert resubscribe_by_link(mailer, link, Origin("unsubscribe page")).changed == ("weekly",)
    assert status(mailer, "ada@example.com") == {"weekly": "confirmed"}
    daily = token(mailer, UNSUBSCRIBE, "ada@example.com", "daily")
    assert resubscribe_by_link(mailer, daily, Origin("unsubscribe page")).changed == ()
    assert "daily" not in status(mailer, "ada@example.com")


def test_links_from_mail_sent_before_still_unsubscribe(mailer: Mailer) -> None:
    old = sign(mailer.signing_key, UNSUBSCRIBE, "bo@example.com\nweekly")
    assert unsubscribe_by_link(mailer, old, ONE_CLICK).changed == ("weekly",)


@pytest.mark.parametrize(
    "make",
    [
        lambda app: token(app, PREFERENCES, "ada@example.com"),  # another purpose
        lambda app: token(app, UNSUBSCRIBE, "ada@example.com")[:-1],  # cut short
        lambda app: token(app, UNSUBSCRIBE, "ada@example.com") + "A",
        lambda app: sign(b"x" * 43, UNSUBSCRIBE, "#1\nweekly"),  # another key
        lambda app: sign(b"x" * 43, UNSUBSCRIBE, "ada@example.com\nweekly"),
        lambda app: "",
        lambda app: "not a token at all",
    ],
)
def test_a_link_that_is_not_genuine_changes_nothing(mailer: Mailer, make: object) -> None:
    bad = make(mailer)  # type: ignore[operator]
    with pytest.raises(InvalidLink):
        unsubscribe_by_link(mailer, bad, ONE_CLICK)
    with pytest.raises(InvalidLink):
        resubscribe_by_link(mailer, bad, ONE_CLICK)
    assert status(mailer, "ada@example.com") == {"weekly": "confirmed"}
    assert events(mailer) == []


def test_a_test_copy_link_acts_on_nobody(mailer: Mailer) -> None:
    url = link_url("https://x", mailer.signing_key, UNSUBSCRIBE, 0, "ada@example.com", "weekly")
    with pytest.raises(LinkFromTestCopy):
        unsubscribe_by_link(mailer, url.rsplit("/", 1)[1], ONE_CLICK)
    assert status(mailer, "ada@example.com") == {"weekly": "confirmed"}


def test_a_link_to_a_deleted_list_keeps_them_off_a_list_made_again(mailer: Mailer) -> None:
    link = token(mailer, UNSUBSCRIBE, "ada@example.com")
    delete_list(mailer.engine, "weekly")
    assert unsubscribe_by_link(mailer, link, ONE_CLICK).changed == ()
    create_list(mailer.engine, "weekly")
    assert status(mailer, "ada@example.com") == {"weekly": "unsubscribed"}


def test_the_ip_is_kept_when_the_operator_asks(db_project: Project, mailer: Mailer) -> None:
    keeping = Mailer(
        mailer.settings.model_copy(
            update={"web": mailer.settings.web.model_copy(update={"record_ip": True})}
        ),
        clock=lambda: NOW,
        environ={},
    )
    unsubscribe_by_link(keeping, token(keeping, UNSUBSCRIBE, "ada@example.com"), ONE_CLICK)
    assert events(keeping) == [("weekly", "unsubscribe", "one-click", "203.0.113.9")]
    keeping.close()


def test_preferences_show_public_lists_and_private_ones_only_to_members(mailer: Mailer) -> None:
    shown = prefs.load_preferences(mailer, token(mailer, PREFERENCES, "ada@example.com"))
    assert [(c.name, c.status) for c in shown.lists] == [("daily", None), ("weekly", "confirmed")]
    assert (shown.email, shown.name) == ("ada@example.com", "Ada")


def test_saving_preferences_joins_and_leaves_lists_and_stores_name_and_zone(
    mailer: Mailer,
) -> None:
    link = token(mailer, PREFERENCES, "ada@example.com")
    saved = prefs.save_preferences(
        mailer, link, name="Ada  Lin", timezone="Asia/Shanghai", wanted={"daily"}, origin=PAGE
    )
    assert (saved.name, saved.timezone) == ("Ada Lin", "Asia/Shanghai")
    assert status(mailer, "ada@example.com") == {"daily": "confirmed", "weekly": "unsubscribed"}
    assert [event[:2] for event in events(mailer)] == [
        ("daily", "subscribe"),
        ("weekly", "unsubscribe"),
    ]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"name": "x" * 201}, "name"),
        ({"name": "Ada\x00Lin"}, "name"),  # no database stores a NUL
        ({"name": "Ada \ud800"}, "name"),  # nor half a character
        ({"wanted": {"staff"}}, "lists"),  # private, and not theirs: not offered
        ({"wanted": {"nope"}}, "lists"),
    ],
)
def test_bad_preferences_name_the_field_and_store_nothing(
    mailer: Mailer, changes: dict[str, object], field: str
) -> None:
    arguments: dict[str, object] = {"name": "Ada", "timezone": "", "wanted": {"weekly"}}
    arguments.update(changes)
    with pytest.raises(FieldError) as raised:
        prefs.save_preferences(
            mailer,
            token(mailer, PREFERENCES, "ada@example.com"),
            origin=PAGE,
            **arguments,  # type: ignore[arg-type]
        )
    assert raised.value.field == field
    assert status(mailer, "ada@example.com") == {"weekly": "confirmed"}


def test_leaving_everything_suppresses_and_choosing_again_lifts_only_that(
    mailer: Mailer,
) -> None:
    link = token(mailer, PREFERENCES, "ada@example.com")
    prefs.leave_everything(mailer, link, PAGE)
    detail = show_subscriber(mailer.engine, "ada@example.com")
    assert detail.suppression is not None and detail.suppression.reason == "unsubscribe"
    prefs.save_preferences(mailer, link, name="Ada", timezone="", wanted={"weekly"}, origin=PAGE)
    assert show_subscriber(mailer.engine, "ada@example.com").suppression is None
    assert status(mailer, "ada@example.com") == {"weekly": "confirmed"}
    # A bounce is not the reader's to lift.
    suppress(mailer.engine, "bo@example.com", "bounce")
    bo = token(mailer, PREFERENCES, "bo@example.com")
    prefs.save_preferences(
        mailer, bo, name="Bo", timezone="", wanted={"weekly", "daily"}, origin=PAGE
    )
    assert show_subscriber(mailer.engine, "bo@example.com").suppression is not None


def test_data_download_and_erasure(mailer: Mailer) -> None:
    link = token(mailer, PREFERENCES, "ada@example.com")
    unsubscribe_by_link(mailer, token(mailer, UNSUBSCRIBE, "ada@example.com"), ONE_CLICK)
    data = prefs.data_of(mailer, link)
    assert data["email"] == "ada@example.com"
    assert data["lists"][0]["status"] == "unsubscribed"
    assert data["consent"][0]["action"] == "unsubscribe"
    prefs.erase(mailer, link)
    with pytest.raises(InvalidLink):
        prefs.load_preferences(mailer, link)
    with mailer.engine.connect() as connection:
        assert (
            connection.execute(sa.select(sa.func.count()).select_from(consent_events)).scalar() == 0
        )


def test_a_batch_answers_each_link_on_its_own_and_changes_each_membership_once(
    mailer: Mailer,
) -> None:
    import_csv(
        mailer.engine, io.BytesIO(b"email\nada@example.com\n"), "daily", source="t", confirmed=True
    )
    ada = token(mailer, UNSUBSCRIBE, "ada@example.com")
    everything = token(mailer, UNSUBSCRIBE, "ada@example.com", "")
    test_copy = link_url("https://x", mailer.signing_key, UNSUBSCRIBE, 0, "ada@example.com", "")
    bo = token(mailer, UNSUBSCRIBE, "bo@example.com")
    batch = [ada, ada[:-1], ada, test_copy.rsplit("/", 1)[1], everything, bo]
    results = unsubscribe_links(mailer, [UnsubscribeRequest(t, ONE_CLICK) for t in batch])
    assert isinstance(results[1], InvalidLink) and isinstance(results[3], LinkFromTestCopy)
    changed = [r.changed if isinstance(r, LinkOutcome) else None for r in results]
    # The repeat in the same batch changes nothing; "every list" leaves what is left.
    assert changed == [("weekly",), None, (), None, ("daily",), ("weekly",)]
    assert status(mailer, "ada@example.com") == {"daily": "unsubscribed", "weekly": "unsubscribed"}
    assert status(mailer, "bo@example.com") == {"weekly": "unsubscribed"}
    assert sorted(e[:2] for e in events(mailer)) == [
        ("daily", "unsubscribe"),
        ("weekly", "unsubscribe"),
        ("weekly", "unsubscribe"),
    ]
    # Each outcome carries what its page shows: the list's title and the person's own
    # preferences link.
    first = results[0]
    assert isinstance(first, LinkOutcome) and first.list_title == "Weekly"
    assert prefs.load_preferences(mailer, first.preferences_token).email == "ada@example.com"


def test_downloaded_data_holds_the_events_of_ones_mail_and_erasure_removes_them(
    mailer: Mailer,
) -> None:
    with mailer.engine.begin() as connection:
        ada, bo = (
            connection.execute(
                sa.select(subscribers.c.id).where(subscribers.c.email_key == email)
            ).scalar_one()
            for email in ("ada@example.com", "bo@example.com")
        )
        url_id = connection.execute(
            sa.insert(event_urls).values(url_hash="h" * 64, url="https://example.com/story")
        ).inserted_primary_key[0]
        connection.execute(
            sa.insert(event_rows),
            [
                {
                    "sg_event_id": "a1",
                    "kind": "open",
                    "occurred_at": 1_764_950_400,
                    "subscriber_id": ada,
                    "machine": True,
                    "url_id": None,
                },
                {
                    "sg_event_id": "a2",
                    "kind": "click",
                    "occurred_at": 1_764_950_460,
                    "subscriber_id": ada,
                    "machine": False,
                    "url_id": url_id,
                },
                {
                    "sg_event_id": "b1",
                    "kind": "open",
                    "occurred_at": 1_764_950_400,
                    "subscriber_id": bo,
                    "machine": False,
                    "url_id": None,
                },
            ],
        )
    link = token(mailer, PREFERENCES, "ada@example.com")
    data = prefs.data_of(mailer, link)
    assert [(e["event"], e["at"], e["url"]) for e in data["events"]] == [
        ("open", "2025-12-05T16:00:00Z", None),
        ("click", "2025-12-05T16:01:00Z", "https://example.com/story"),
    ]
    prefs.erase(mailer, link)
    with mailer.engine.connect() as connection:
        left = connection.execute(sa.select(event_rows.c.sg_event_id)).scalars().all()
    assert left == ["b1"]  # Bo's events are his, and stay
