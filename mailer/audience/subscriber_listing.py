"""``mailer subscribers``' listing: a page at a time in address order with the number that
match, or everyone, read in chunks.

A page is read the way the admin search reads one (:mod:`mailer.audience.search_plan`): from
the address index in order, or from the list's members when few match, so the first page and
a page deep in a million people cost about the same. Where a page starts is a
:class:`Position`: the last address key shown and how many came before, printed as an opaque
cursor, so the next page is a range of the index (never an offset to walk) and still knows
its place in the count. ``offset`` is there too, for jumping: it walks what it skips.

The count is read from an index wherever one answers it: the address index for everyone, the
list's primary key range for a list, the index of the statuses other than confirmed for a
status (confirmed is the list less those). A segment or a search text has no index: the
count then checks every subscriber (or every member of the list).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from mailer.audience.lists import find_list
from mailer.audience.search_plan import SearchTerms, choose_driver, page_query, walking
from mailer.audience.search_terms import check_segment_text, is_storable
from mailer.audience.segment_sql import segment_clause
from mailer.audience.segments import parse_segment
from mailer.audience.subscribers import Subscriber, subscriber_from_row
from mailer.db.tables import MEMBERSHIP_STATUSES, memberships, subscribers
from mailer.errors import FieldError

#: The largest page; everyone is a listing of its own (:func:`iter_listing`).
MAX_LIMIT = 10_000
#: Rows fetched from the database at a time when listing everyone.
CHUNK = 2000
#: The columns a listing shows besides those every search page reads.
_DETAIL = (
    subscribers.c.timezone,
    subscribers.c.attributes,
    subscribers.c.updated_at,
)
# Compared as literals: SQLite uses the partial index ix_memberships_list_status only for a
# WHERE clause that visibly implies the index's own condition.
_NOT_CONFIRMED = sa.text("memberships.status <> 'confirmed'")


@dataclass(frozen=True)
class Filters:
    """Which subscribers a listing shows; all are optional and combine with AND."""

    list_name: str | None = None
    status: str | None = None
    """Status on ``list_name``."""
    search: str | None = None
    """Text anywhere in the address or the name, ignoring case."""
    segment: str | None = None


@dataclass(frozen=True)
class Position:
    """Where a page ends: ``shown`` subscribers come up to and including ``key``."""

    shown: int
    key: str

    def cursor(self) -> str:
        payload = json.dumps([self.shown, self.key], ensure_ascii=False, separators=(",", ":"))
        return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")

    @classmethod
    def from_cursor(cls, cursor: str) -> Position:
        """The position a page's cursor stands for; FieldError("after") for any other text."""
        try:
            raw = base64.b64decode(cursor + "=" * (-len(cursor) % 4), b"-_", validate=True)
            shown, key = json.loads(raw.decode())
        except (binascii.Error, ValueError, TypeError):
            shown = key = None
        if isinstance(shown, int) and shown >= 0 and isinstance(key, str) and is_storable(key):
            return cls(shown, key)
        raise FieldError(
            "after", "not a cursor a listing printed; copy it from the foot of a page", cursor
        )


@dataclass(frozen=True)
class ListingPage:
    items: tuple[Subscriber, ...]
    total: int
    """How many subscribers match, on every page."""
    offset: int
    """How many matches come before the first item."""
    next: Position | None
    """Where the next page starts; None when this page is the last."""


def listing_page(
    engine: sa.Engine,
    filters: Filters,
    *,
    limit: int,
    after: Position | None = None,
    offset: int = 0,
) -> ListingPage:
    """``limit`` matches in address order after ``after`` (from the start without it), less
    the first ``offset`` of them, with the number of all matches."""
    if not 1 <= limit <= MAX_LIMIT:
        raise FieldError("limit", f"use 1 to {MAX_LIMIT} (or list everyone)", str(limit))
    if offset < 0:
        raise FieldError("offset", "use 0 or more", str(offset))
    before = (after.shown if after else 0) + offset
    with engine.connect() as connection:
        terms = _terms(connection, filters, after.key if after else None)
        driver = choose_driver(connection, terms)
        with walking(connection, driver):
            query = page_query(connection, terms, driver, limit + 1, offset=offset, extra=_DETAIL)
            rows = list(connection.execute(query))
        total = count_matches(connection, terms)
    items = tuple(subscriber_from_row(row) for row in rows[:limit])
    more = len(rows) > limit
    following = Position(before + len(items), rows[limit - 1].email_key) if more else None
    return ListingPage(items, total, before, following)


def iter_listing(engine: sa.Engine, filters: Filters) -> Iterator[Subscriber]:
    """Every match in address order, read :data:`CHUNK` rows at a time: memory stays flat
    and the first rows come at once, however many match. Wrong filters are refused before
    the first one is yielded."""
    with engine.connect() as connection:
        terms = _terms(connection, filters, None)
    return _every(engine, terms)


def _every(engine: sa.Engine, terms: SearchTerms) -> Iterator[Subscriber]:
    with engine.connect() as connection:
        driver = choose_driver(connection, terms)
        with walking(connection, driver):
            query = page_query(connection, terms, driver, None, extra=_DETAIL)
            # Chunked on the statement, not the connection: the settings put back after it
            # are read whole. Closed explicitly: PostgreSQL reads it through a server-side
            # cursor.
            with connection.execute(query.execution_options(yield_per=CHUNK)) as rows:
                for row in rows:
                    yield subscriber_from_row(row)


def count_matches(connection: sa.Connection, terms: SearchTerms) -> int:
    """How many subscribers ``terms`` selects (its ``after`` aside)."""
    if terms.segment is not None:
        counted = sa.select(sa.func.count()).select_from(subscribers).where(*_filtered(terms))
        return _count(connection, counted)
    if terms.list_id is None:
        return _count(connection, sa.select(sa.func.count()).select_from(subscribers))
    on_list = memberships.c.list_id == terms.list_id
    members = sa.select(sa.func.count()).select_from(memberships).where(on_list)
    if terms.status is None:
        return _count(connection, members)
    if terms.status != "confirmed":
        status = memberships.c.status == sa.literal(terms.status, literal_execute=True)
        return _count(connection, members.where(status, _NOT_CONFIRMED))
    # Confirmed people are not in the status index: the list less those who are.
    return _count(connection, members) - _count(connection, members.where(_NOT_CONFIRMED))


def _filtered(terms: SearchTerms) -> list[sa.ColumnElement[bool]]:
    """The conditions on ``subscribers`` of a count that has to check each one."""
    assert terms.segment is not None
    conditions = [terms.segment]
    if terms.list_id is not None:
        member = sa.select(memberships.c.subscriber_id).where(
            memberships.c.list_id == terms.list_id,
            memberships.c.subscriber_id == subscribers.c.id,
        )
        if terms.status is not None:
            member = member.where(memberships.c.status == terms.status)
        conditions.append(member.exists())
    return conditions


def _count(connection: sa.Connection, query: sa.Select[Any]) -> int:
    return int(connection.scalar(query) or 0)


def _terms(connection: sa.Connection, filters: Filters, after: str | None) -> SearchTerms:
    status, list_name = filters.status, filters.list_name
    if status is not None and status not in MEMBERSHIP_STATUSES:
        raise FieldError("status", f"use one of {', '.join(MEMBERSHIP_STATUSES)}", status)
    if status is not None and list_name is None:
        raise FieldError("status", "a status belongs to a list membership: choose a list too")
    list_id = None if list_name is None else find_list(connection, list_name).id
    conditions: list[sa.ColumnElement[bool]] = []
    if filters.segment is not None and filters.segment.strip():
        check_segment_text(filters.segment)
        parsed = parse_segment(filters.segment)
        conditions.append(segment_clause(parsed, connection.dialect.name))
    if filters.search:
        conditions.append(text_anywhere(filters.search))
    where = sa.and_(*conditions) if conditions else None
    return SearchTerms(list_id=list_id, status=status, segment=where, after=after)


def text_anywhere(text: str) -> sa.ColumnElement[bool]:
    """The address or the name holds ``text``, ignoring case; ``%``, ``_`` and ``\\`` stand
    for themselves. No index serves it: each subscriber is checked."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    pattern = f"%{escaped}%"
    return sa.or_(
        subscribers.c.email_key.like(pattern, escape="\\"),
        sa.func.lower(subscribers.c.name).like(pattern, escape="\\"),
    )
