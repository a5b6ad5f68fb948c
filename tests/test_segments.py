"""Segments: parsed by mailer, compiled to bound SQL, same answers on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailer.audience.attributes import AttributeValue
from mailer.audience.lists import create_list
from mailer.audience.segment_sql import segment_clause
from mailer.audience.segments import (
    MAX_DEPTH,
    AllOf,
    AnyOf,
    Contains,
    Equals,
    HasItem,
    Not,
    OneOf,
    Present,
    Segment,
    SegmentError,
    parse_segment,
)
from mailer.audience.subscribers import add_subscribers, find_subscribers

# (address, name, timezone, attributes): a small audience with every kind of value.
PEOPLE: list[tuple[str, str, str, dict[str, AttributeValue]]] = [
    ("Ada@example.com", "Ada Lin", "Asia/Shanghai", {"country": "CN", "tags": ["ai", "policy"]}),
    ("bo@example.com", "Bo Wang", "", {"country": "US", "tags": ["chips"], "city": "Austin"}),
    ("cy@example.net", "", "Europe/Paris", {"country": "FR", "tags": []}),
    ("di@example.net", "Di Wang", "", {"city": "Wang's Town", "tags": ["ai"]}),
    ("ed@example.org", "Ed", "", {"country": "", "plan": "100%_off"}),
    ("fa@example.org", "王芳", "Asia/Shanghai", {"country": "CN", "tags": "ai"}),
]


@pytest.fixture(scope="module")
def audience(module_engine: sa.Engine) -> sa.Engine:
    """The module's database with PEOPLE on the list weekly: the tests below only read it."""
    create_list(module_engine, "weekly")
    for email, name, timezone, attributes in PEOPLE:
        add_subscribers(
            module_engine, [email], "weekly", name=name, timezone=timezone, attributes=attributes
        )
    return module_engine


def matching(engine: sa.Engine, expression: str) -> list[str]:
    clause = segment_clause(parse_segment(expression), engine.dialect.name)
    return [s.email for s in find_subscribers(engine, list_name="weekly", where=clause)]


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ('country = "CN"', ["Ada@example.com", "fa@example.org"]),
        ('country = "cn"', []),
        (
            'country != "CN"',
            ["bo@example.com", "cy@example.net", "di@example.net", "ed@example.org"],
        ),
        ('country in ("FR", "US")', ["bo@example.com", "cy@example.net"]),
        ('country not in ("FR", "US", "CN")', ["di@example.net", "ed@example.org"]),
        ('"ai" in tags', ["Ada@example.com", "di@example.net", "fa@example.org"]),
        ('"ai" not in tags', ["bo@example.com", "cy@example.net", "ed@example.org"]),
        ('country = "CN" and "ai" in tags', ["Ada@example.com", "fa@example.org"]),
        ('country = "CN" AND "policy" IN tags', ["Ada@example.com"]),
        ('name contains "wang"', ["bo@example.com", "di@example.net"]),
        ('city contains "\'s"', ["di@example.net"]),
        ('plan contains "%"', ["ed@example.org"]),
        ('plan contains "_"', ["ed@example.org"]),
        ('name contains "%"', []),
        ("has timezone", ["Ada@example.com", "cy@example.net", "fa@example.org"]),
        ("has country", ["Ada@example.com", "bo@example.com", "cy@example.net", "fa@example.org"]),
        ("has tags", ["Ada@example.com", "bo@example.com", "di@example.net", "fa@example.org"]),
        ("not has name", ["cy@example.net"]),
        ('email = "ADA@example.COM"', ["Ada@example.com"]),
        ('timezone = "Asia/Shanghai" and not (name = "王芳")', ["Ada@example.com"]),
        ('name = "王芳"', ["fa@example.org"]),
        ('(country = "US" or country = "FR") and has city', ["bo@example.com"]),
        ('tags = "ai"', ["fa@example.org"]),
        ('"chips" in tags or "x" in city', ["bo@example.com"]),
        ('missing = "x"', []),
        ('not missing = "x"', [p[0] for p in sorted(PEOPLE, key=lambda p: p[0].lower())]),
    ],
)
def test_segment_selects_the_right_members(
    audience: sa.Engine, expression: str, expected: list[str]
) -> None:
    assert matching(audience, expression) == expected


def test_values_are_bound_parameters_not_sql(audience: sa.Engine) -> None:
    hostile = "x' OR '1'='1"
    assert matching(audience, f'country = "{hostile}"') == []
    assert matching(audience, f'country = "{hostile}" or "\\" OR 1=1 --" in tags') == []
    assert matching(audience, 'country = "CN\\"; DROP TABLE subscribers; --"') == []
    assert len(matching(audience, "has email")) == len(PEOPLE)


@pytest.mark.parametrize(
    ("expression", "column", "words"),
    [
        ('country = = "CN"', 11, "expected a quoted value"),
        ("country = CN", 11, 'values are quoted, as in "CN"'),
        ('country = "CN', 11, "never closed"),
        ('(country = "CN"', 16, "ends too early; expected ')'"),
        ('country ~ "CN"', 9, "unexpected '~'"),
        ('country = "CN" and', 19, "ends too early"),
        ('country = "CN" "US"', 16, "unexpected"),
        ('"ai" in', 8, "expected a field name"),
        ("", 1, "empty"),
        ("   ", 1, "empty"),
        ('country = "CN" or or', 21, "ends too early; expected '!=', '='"),
        ("drop table subscribers", 6, "unexpected 'table'"),
    ],
)
def test_bad_expressions_point_at_the_column(expression: str, column: int, words: str) -> None:
    with pytest.raises(SegmentError) as caught:
        parse_segment(expression)
    message = str(caught.value)
    assert message.startswith(f"segment, column {column}: ")
    assert words in message
    # The caret sits under the column named.
    caret_line = message.splitlines()[-1]
    assert caret_line.index("^") - 2 == column - 1


def test_too_deep_or_too_long_is_refused() -> None:
    with pytest.raises(SegmentError, match="nests deeper"):
        parse_segment("not (" * MAX_DEPTH + 'a = "1"' + ")" * MAX_DEPTH)
    with pytest.raises(SegmentError, match="at most 2000"):
        parse_segment(" or ".join(['country = "CN"'] * 200))
    # Brackets alone add no nesting: they only group.
    assert parse_segment("(" * 400 + 'a = "1"' + ")" * 400) == parse_segment('a = "1"')


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_any_text_parses_or_raises_a_segment_error(text: str) -> None:
    try:
        parse_segment(text)
    except SegmentError as error:
        assert 1 <= error.column <= len(text) + 1


# A model of what a segment means, written independently of the SQL, to check it against.
def _text(person: tuple[str, str, str, dict[str, AttributeValue]], field: str) -> str | None:
    email, name, timezone, attributes = person
    if field in ("email", "name", "timezone"):
        return {"email": email.lower(), "name": name, "timezone": timezone or None}[field]
    value = attributes.get(field)
    return value if isinstance(value, str) else None


def _holds(segment: Segment, person: tuple[str, str, str, dict[str, AttributeValue]]) -> bool:
    match segment:
        case Equals(field, value):
            wanted = value.lower() if field.name == "email" else value
            return _text(person, field.name) == wanted
        case OneOf(field, values):
            return _text(person, field.name) in values
        case Contains(field, text):
            found = _text(person, field.name)
            return found is not None and text.lower() in found.lower()
        case HasItem(field, item):
            value = person[3].get(field.name) if field.name not in ("email", "name") else None
            if isinstance(value, list):
                return item in value
            return _text(person, field.name) == item
        case Present(field):
            value = (
                person[3].get(field.name)
                if field.name not in ("email", "name", "timezone")
                else _text(person, field.name)
            )
            return bool(value)
        case Not(inner):
            return not _holds(inner, person)
        case AllOf(parts):
            return all(_holds(part, person) for part in parts)
        case AnyOf(parts):
            return any(_holds(part, person) for part in parts)
    raise AssertionError(segment)


_FIELDS = st.sampled_from(["country", "tags", "city", "name", "timezone", "plan", "nothing"])
_VALUES = st.sampled_from(["CN", "US", "ai", "wang", "Austin", "", "Ed", "%", "Asia/Shanghai"])


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


_CONDITIONS = st.one_of(
    st.builds(lambda f, v: f"{f} = {_quoted(v)}", _FIELDS, _VALUES),
    st.builds(lambda f, v: f"{f} != {_quoted(v)}", _FIELDS, _VALUES),
    st.builds(
        lambda f, vs: f"{f} in ({', '.join(map(_quoted, vs))})",
        _FIELDS,
        st.lists(_VALUES, min_size=1, max_size=3),
    ),
    st.builds(lambda f, v: f"{_quoted(v)} in {f}", _FIELDS, _VALUES),
    st.builds(lambda f, v: f"{_quoted(v)} not in {f}", _FIELDS, _VALUES),
    st.builds(lambda f, v: f"{f} contains {_quoted(v)}", _FIELDS, _VALUES),
    st.builds(lambda f: f"has {f}", _FIELDS),
)
_EXPRESSIONS = st.recursive(
    _CONDITIONS,
    lambda inner: st.one_of(
        st.builds(lambda a, b: f"({a}) and ({b})", inner, inner),
        st.builds(lambda a, b: f"{a} or {b}", inner, inner),
        st.builds(lambda a: f"not ({a})", inner),
    ),
    max_leaves=6,
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(_EXPRESSIONS)
def test_sql_agrees_with_the_meaning_of_the_expression(
    audience: sa.Engine, expression: str
) -> None:
    segment = parse_segment(expression)
    expected = sorted((person[0] for person in PEOPLE if _holds(segment, person)), key=str.lower)
    assert matching(audience, expression) == expected


def test_unsupported_database_is_a_clear_error(tmp_path: Path) -> None:
    from mailer.errors import MailerError

    with pytest.raises(MailerError, match="not supported on the 'mysql'"):
        segment_clause(parse_segment('a = "1"'), "mysql")
