"""Subscriber search: every filter agrees with a plain Python filter of the same people, pages
walk every match once in address order whichever index leads, and hostile text is harmless."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailer.audience import search_plan
from mailer.audience.lists import create_list
from mailer.audience.segment_sql import segment_clause
from mailer.audience.segments import SegmentError, parse_segment
from mailer.audience.subscriber_search import SearchPage, search_subscribers
from mailer.audience.subscribers import add_subscribers, find_subscribers, unsubscribe
from mailer.db.tables import lists, memberships, subscribers
from mailer.errors import FieldError, NotFoundError

# (address, name, country): names and addresses with characters LIKE or SQL would misread.
PEOPLE = [
    ("ada@example.com", "Ada Lin", "CN"),
    ("Ada.Lin@example.org", "ada lovelace", "GB"),
    ("ada_lin@example.net", "ADAM Smith", "US"),
    ("adam+news@example.com", "Lin Wei", "CN"),
    ("a_b@example.com", "100% Pure", "US"),
    ("a%b@example.com", "100_percent", "DE"),
    ("axb@example.com", "a\\b", "DE"),
    ("o'brien@example.com", "O'Brien", "IE"),
    ("dwayne@example.com", 'Dwayne "Rock" J', "US"),
    ("maria@example.es", "María García", "ES"),
    ("MARIA.jose@example.es", "MARÍA José", "ES"),
    ("fang@example.cn", "王芳", "CN"),
    ("wei@example.cn", "王伟", "CN"),
    ("zoe@example.fr", "Zoë", "FR"),
    ("emile@example.fr", "Émile", "FR"),
    ("zola@example.fr", "émile zola", "FR"),
    ("under@example.com", "_under", "US"),
    ("pct@example.com", "%pct", "US"),
    ("nameless@example.com", "", "US"),
    ("Zed@Example.com", "zed", "US"),
] + [(f"user{n:02d}@example.com", f"User {n:02d}", "CN" if n % 3 else "SG") for n in range(24)]

# Who is on the double opt-in list "other", and who confirmed there.
ON_OTHER = [email for number, (email, _, _) in enumerate(PEOPLE) if number % 3 == 0]
CONFIRMED_ON_OTHER = ON_OTHER[::2]
UNSUBSCRIBED_FROM_WEEKLY = [PEOPLE[n][0] for n in (1, 4, 9, 17, 30)]


@dataclass(frozen=True)
class Stored:
    id: int
    email: str
    email_key: str
    name: str
    name_key: str


@pytest.fixture(scope="module")
def audience(module_engine: sa.Engine) -> sa.Engine:
    """The module's database with PEOPLE on "weekly", a third of them on "other"; read only."""
    create_list(module_engine, "weekly")
    create_list(module_engine, "other", double_opt_in=True)
    for email, name, country in PEOPLE:
        add_subscribers(
            module_engine, [email], "weekly", name=name, attributes={"country": country}
        )
    add_subscribers(module_engine, CONFIRMED_ON_OTHER, "other", confirmed=True)
    add_subscribers(module_engine, [e for e in ON_OTHER if e not in CONFIRMED_ON_OTHER], "other")
    for email in UNSUBSCRIBED_FROM_WEEKLY:
        unsubscribe(module_engine, email, "weekly")
    return module_engine


def _stored(engine: sa.Engine) -> list[Stored]:
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(
                subscribers.c.id,
                subscribers.c.email,
                subscribers.c.email_key,
                subscribers.c.name,
                subscribers.c.name_key,
            )
        )
        return [Stored(*row) for row in rows]


def _statuses(engine: sa.Engine, list_name: str) -> dict[int, str]:
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(memberships.c.subscriber_id, memberships.c.status)
            .join(lists, lists.c.id == memberships.c.list_id)
            .where(lists.c.name == list_name)
        )
        return {int(row.subscriber_id): row.status for row in rows}


def _db_lower(engine: sa.Engine, text: str) -> str:
    with engine.connect() as connection:
        return str(connection.scalar(sa.select(sa.func.lower(sa.literal(text, sa.String)))))


def expected(
    engine: sa.Engine,
    query: str | None = None,
    list_name: str | None = None,
    status: str | None = None,
    segment: str | None = None,
) -> list[tuple[str, str | None]]:
    """(address, status) of the matches, by a plain filter of every stored subscriber."""
    people = _stored(engine)
    words = " ".join(query.split()) if query is not None else ""
    if words:
        folded = _db_lower(engine, words)
        people = [
            p
            for p in people
            if p.email_key.startswith(words.lower()) or p.name_key.startswith(folded)
        ]
    statuses: dict[int, str] = {}
    if list_name is not None:
        statuses = _statuses(engine, list_name)
        people = [p for p in people if p.id in statuses]
        if status is not None:
            people = [p for p in people if statuses[p.id] == status]
    if segment is not None:
        clause = segment_clause(parse_segment(segment), engine.dialect.name)
        chosen = {s.id for s in find_subscribers(engine, where=clause)}
        people = [p for p in people if p.id in chosen]
    return [(p.email, statuses.get(p.id)) for p in sorted(people, key=lambda p: p.email_key)]


def pages(engine: sa.Engine, limit: int = 50, **filters: str | None) -> Iterator[SearchPage]:
    arguments: dict[str, str | None] = {
        "query": None,
        "list_name": None,
        "status": None,
        "segment": None,
        **filters,
    }
    after = None
    while True:
        page = search_subscribers(engine, **arguments, after=after, limit=limit)
        yield page
        if page.next_after is None:
            return
        after = page.next_after


def found(
    engine: sa.Engine, limit: int = 50, **filters: str | None
) -> list[tuple[str, str | None]]:
    walked = [item for page in pages(engine, limit, **filters) for item in page.items]
    return [(item.email, item.status) for item in walked]


@pytest.mark.parametrize(
    ("query", "emails"),
    [
        (
            "ada",
            [
                "ada@example.com",
                "Ada.Lin@example.org",
                "ada_lin@example.net",
                "adam+news@example.com",
            ],
        ),
        ("ADA L", ["ada@example.com", "Ada.Lin@example.org"]),
        ("ada_", ["ada_lin@example.net"]),
        ("a_", ["a_b@example.com"]),
        ("a%", ["a%b@example.com"]),
        ("%", ["pct@example.com"]),
        ("_", ["under@example.com"]),
        ("100%", ["a_b@example.com"]),
        ("a\\", ["axb@example.com"]),
        ("o'", ["o'brien@example.com"]),
        ('dwayne "rock"', ["dwayne@example.com"]),
        ("王", ["fang@example.cn", "wei@example.cn"]),
        ("zoë", ["zoe@example.fr"]),
        ("zo", ["zoe@example.fr", "zola@example.fr"]),
        ("lin", ["adam+news@example.com"]),
        ("ZED@EXAMPLE.COM", ["Zed@example.com"]),
        ("  user   01 ", ["user01@example.com"]),
    ],
)
def test_a_search_matches_the_start_of_the_address_or_of_the_name_ignoring_case(
    audience: sa.Engine, query: str, emails: list[str]
) -> None:
    assert [email for email, _ in found(audience, query=query)] == sorted(emails, key=str.lower)


def test_a_name_is_matched_from_its_start_not_word_by_word(audience: sa.Engine) -> None:
    # "Ada Lin" is not found by "lin": only "Lin Wei" starts with it.
    assert "ada@example.com" not in [email for email, _ in found(audience, query="lin")]


def test_non_ascii_letters_fold_as_the_database_folds_them(audience: sa.Engine) -> None:
    emails = [email for email, _ in found(audience, query="maría")]
    if audience.dialect.name == "sqlite":
        # SQLite's lower() folds only A-Z: "MARÍA José" keeps its capital Í.
        assert emails == ["maria@example.es"]
    else:
        assert emails == ["MARIA.jose@example.es", "maria@example.es"]


@pytest.mark.parametrize("few", [0, search_plan.FEW, 10**9], ids=["walk", "default", "index"])
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    query=st.one_of(
        st.none(),
        st.sampled_from(["a", "A", "ada", "u", "user 1", "王", "%", "_", "z", "e", "é", "x"]),
        st.text(max_size=4),
    ),
    list_and_status=st.sampled_from(
        [
            (None, None),
            ("weekly", None),
            ("weekly", "unsubscribed"),
            ("weekly", "confirmed"),
            ("other", None),
            ("other", "unconfirmed"),
            ("other", "confirmed"),
        ]
    ),
    segment=st.sampled_from([None, 'country = "CN"', 'country != "US"']),
    limit=st.integers(1, 7),
)
def test_pages_walk_every_match_once_in_address_order(
    audience: sa.Engine,
    monkeypatch: pytest.MonkeyPatch,
    few: int,
    query: str | None,
    list_and_status: tuple[str | None, str | None],
    segment: str | None,
    limit: int,
) -> None:
    # However the page is read (the address order, or the index of a condition met by few),
    # the answer is the same.
    monkeypatch.setattr(search_plan, "FEW", few)
    list_name, status = list_and_status
    filters = {"query": query, "list_name": list_name, "status": status, "segment": segment}
    walked = list(pages(audience, limit, **filters))
    assert all(len(page.items) <= limit for page in walked)
    assert all(len(page.items) == limit for page in walked[:-1])
    assert [(i.email, i.status) for p in walked for i in p.items] == expected(audience, **filters)


def test_a_page_ends_with_no_next_position_when_nothing_follows(audience: sa.Engine) -> None:
    everyone = len(PEOPLE)
    page = search_subscribers(
        audience, query=None, list_name=None, status=None, segment=None, after=None, limit=everyone
    )
    assert len(page.items) == everyone and page.next_after is None


@pytest.mark.parametrize(
    "query",
    [
        "%",
        "_",
        "\\",
        "'",
        '"',
        "' OR 1=1 --",
        "\x01\x1b[31m",
        "\n",
        "a" * 10240,
        "é" * 201,
        "\x00",
        "a\x00",
        "\ud800",
        "王" * 300,
        "\U0010ffff",
        "\ufeff",
    ],
)
def test_hostile_search_text_finds_only_what_starts_with_it(
    audience: sa.Engine, query: str
) -> None:
    if "\x00" in query or "\ud800" in query:
        assert found(audience, query=query) == []
    else:
        assert found(audience, query=query) == expected(audience, query=query)


@pytest.mark.parametrize("after", ["", "zzzz", "%", "a" * 10240, "王", "\U0010ffff"])
def test_any_storable_position_gives_the_matches_after_it(audience: sa.Engine, after: str) -> None:
    page = search_subscribers(
        audience, query=None, list_name=None, status=None, segment=None, after=after, limit=500
    )
    later = [email for email, _ in expected(audience) if email.lower() > after]
    assert [item.email for item in page.items] == later


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"status": "confirmed"}, "status"),
        ({"list_name": "weekly", "status": "gone"}, "status"),
        ({"limit": 0}, "limit"),
        ({"limit": 501}, "limit"),
        ({"after": "a\x00"}, "after"),
        ({"after": "\udc80"}, "after"),
    ],
)
def test_wrong_requests_name_the_field(
    audience: sa.Engine, arguments: dict[str, object], field: str
) -> None:
    request: dict[str, object] = {
        "query": None,
        "list_name": None,
        "status": None,
        "segment": None,
        "after": None,
        "limit": 50,
        **arguments,
    }
    with pytest.raises(FieldError) as error:
        search_subscribers(audience, **request)  # type: ignore[arg-type]
    assert error.value.field == field


@pytest.mark.parametrize("list_name", ["gone", "\x00", "\ud800", "x" * 10240, "'; --"])
def test_an_unknown_list_is_not_found(audience: sa.Engine, list_name: str) -> None:
    with pytest.raises(NotFoundError, match="no list named"):
        search_subscribers(
            audience,
            query=None,
            list_name=list_name,
            status=None,
            segment=None,
            after=None,
            limit=5,
        )


@pytest.mark.parametrize(
    ("segment", "column"),
    [
        ('country = "CN', 11),
        ("country = CN", 11),
        ('country = "C\x00N"', 13),
        ('country = "\ud800"', 12),
        ("x" * 10240, 81),
    ],
)
def test_a_wrong_segment_says_where(audience: sa.Engine, segment: str, column: int) -> None:
    with pytest.raises(SegmentError) as error:
        search_subscribers(
            audience, query=None, list_name=None, status=None, segment=segment, after=None, limit=5
        )
    assert error.value.column == column
    str(error.value).encode("utf-8")  # printable: no lone surrogate in the message
