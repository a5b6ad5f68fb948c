"""Signed links in mail: they name a subscriber id and a list, never the address; only the
exact token that was signed, for its own purpose and its own subscriber, is accepted."""

from __future__ import annotations

import string

from hypothesis import given, settings
from hypothesis import strategies as st

from mailer.links import (
    CONFIRM,
    PREFERENCES,
    UNSUBSCRIBE,
    LinkTarget,
    SubscriberLinks,
    link_url,
    read_link,
)
from mailer.signing import peek, sign

KEY = b"k" * 43
OTHER_KEY = b"o" * 43
BASE = "https://news.example.com"
PEOPLE = {7: "ada@example.com", 8: "bo@example.net"}


def address_key_of(subscriber_id: int) -> str | None:
    return PEOPLE.get(subscriber_id)


def token_of(url: str) -> str:
    return url.rsplit("/", 1)[1]


def test_a_link_names_the_subscriber_id_and_list_and_reads_back() -> None:
    url = link_url(BASE, KEY, UNSUBSCRIBE, 7, "Ada@Example.com", "weekly")
    assert url.startswith(f"{BASE}/unsubscribe/")
    token = token_of(url)
    assert peek(token) == "#7\nweekly"
    assert "ada" not in token.lower().split(".")[0]
    assert read_link(KEY, UNSUBSCRIBE, token, address_key_of) == LinkTarget(7, None, "weekly")


def test_a_send_s_links_match_the_single_link_helper() -> None:
    links = SubscriberLinks(BASE, KEY, "weekly")
    unsubscribe, preferences = links.urls(8, "bo@example.net")
    assert unsubscribe == link_url(BASE, KEY, UNSUBSCRIBE, 8, "bo@example.net", "weekly")
    assert preferences == link_url(BASE, KEY, PREFERENCES, 8, "bo@example.net", "weekly")


def test_links_in_mail_sent_before_still_work() -> None:
    old = sign(KEY, UNSUBSCRIBE, "ada@example.com\nweekly")
    assert read_link(KEY, UNSUBSCRIBE, old, address_key_of) == LinkTarget(
        None, "ada@example.com", "weekly"
    )


def test_a_link_for_one_purpose_does_nothing_for_another() -> None:
    token = token_of(link_url(BASE, KEY, PREFERENCES, 7, "ada@example.com", "weekly"))
    assert read_link(KEY, UNSUBSCRIBE, token, address_key_of) is None
    assert read_link(KEY, CONFIRM, token, address_key_of) is None
    old = sign(KEY, PREFERENCES, "ada@example.com\nweekly")
    assert read_link(KEY, UNSUBSCRIBE, old, address_key_of) is None


def test_a_link_signed_with_another_key_is_refused() -> None:
    token = token_of(link_url(BASE, OTHER_KEY, UNSUBSCRIBE, 7, "ada@example.com", "weekly"))
    assert read_link(KEY, UNSUBSCRIBE, token, address_key_of) is None


def test_a_link_stops_working_when_its_id_belongs_to_someone_else() -> None:
    token = token_of(link_url(BASE, KEY, UNSUBSCRIBE, 7, "ada@example.com", "weekly"))
    assert read_link(KEY, UNSUBSCRIBE, token, {7: "new@example.org"}.get) is None
    assert read_link(KEY, UNSUBSCRIBE, token, {}.get) is None  # erased


def test_a_test_copy_s_link_is_marked_as_such() -> None:
    token = token_of(link_url(BASE, KEY, UNSUBSCRIBE, 0, "editor@example.com", "weekly"))
    target = read_link(KEY, UNSUBSCRIBE, token, address_key_of)
    assert target is not None and target.test_copy


CHARACTERS = string.ascii_letters + string.digits + "-_.=+/%~ \n\x00é"


@settings(max_examples=400, deadline=None)
@given(data=st.data())
def test_any_changed_or_truncated_link_is_refused(data: st.DataObject) -> None:
    subscriber_id = data.draw(st.sampled_from([7, 8]))
    token = token_of(
        link_url(BASE, KEY, UNSUBSCRIBE, subscriber_id, PEOPLE[subscriber_id], "weekly")
    )
    position = data.draw(st.integers(0, len(token) - 1))
    how = data.draw(st.sampled_from(["replace", "insert", "delete", "truncate"]))
    if how == "truncate":
        changed = token[:position]
    elif how == "delete":
        changed = token[:position] + token[position + 1 :]
    else:
        character = data.draw(st.sampled_from(CHARACTERS))
        rest = token[position + 1 :] if how == "replace" else token[position:]
        changed = token[:position] + character + rest
    if changed != token:
        assert read_link(KEY, UNSUBSCRIBE, changed, address_key_of) is None


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_any_text_as_a_token_is_refused_without_error(text: str) -> None:
    assert read_link(KEY, UNSUBSCRIBE, text, address_key_of) is None
