"""Subscriber search's parts on their own: people stored before migration 0016 are found by
name after it, and an address or name prefix becomes an index range that holds exactly the
texts starting with it."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import command
from hypothesis import given, settings
from hypothesis import strategies as st

from mailer.audience.search_terms import successor
from mailer.audience.subscriber_search import search_subscribers
from mailer.db.engine import create_db_engine
from mailer.db.migrate import _alembic_config, migrate


def test_people_stored_before_the_upgrade_are_found_by_name(database_url: str) -> None:
    engine = create_db_engine(database_url)
    with engine.begin() as connection:
        command.upgrade(_alembic_config(connection), "0015")
        now = datetime(2026, 1, 1, tzinfo=UTC)
        connection.execute(
            sa.text(
                "INSERT INTO subscribers (email, email_key, name, attributes, created_at, "
                "updated_at) VALUES ('kim@example.com', 'kim@example.com', 'Kim Lee', '{}', "
                ":now, :now)"
            ),
            {"now": now},
        )
    migrate(engine)
    page = search_subscribers(
        engine, query="KIM L", list_name=None, status=None, segment=None, after=None, limit=5
    )
    engine.dispose()
    assert [(item.email, item.name) for item in page.items] == [("kim@example.com", "Kim Lee")]


_STORABLE_TEXT = st.text(
    st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), max_size=6
)
_EDGE_CHARACTERS = st.sampled_from(["\ud7ff", "\ue000", "\U0010ffff", "a", "\x7f", "\x01"])


@settings(max_examples=500, deadline=None)
@given(
    prefix=st.lists(
        st.one_of(_EDGE_CHARACTERS, st.characters(blacklist_categories=["Cs"])), max_size=4
    ).map("".join),
    rest=_STORABLE_TEXT,
    other=_STORABLE_TEXT,
)
def test_the_prefix_range_holds_exactly_the_texts_that_start_with_it(
    prefix: str, rest: str, other: str
) -> None:
    upper = successor(prefix)
    for text in (prefix + rest, other, prefix[:-1] + other):
        in_range = prefix <= text and (upper is None or text < upper)
        assert in_range == text.startswith(prefix)
    if upper is not None:
        upper.encode("utf-8")  # never a surrogate: it can be sent to the database
