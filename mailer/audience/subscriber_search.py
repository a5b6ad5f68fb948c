"""Subscriber search for the admin pages and the API: by address or name prefix, list, status
and segment, a page at a time in address order, fast on a million subscribers.

``query`` matches a subscriber whose address starts with it, or whose name starts with it,
both ignoring case (the address as its key is lower-cased; the name as the database's
``lower()`` does, which on SQLite folds only A-Z). The name is matched from its start, not
word by word: "lin" finds "Lin Wei", not "Ada Lin". Each match is a range of an index
(``subscribers.email_key``, ``subscribers.name_key``), so no character of the search has a
special meaning.

Pages follow the address key: ``after`` is the last key of the previous page
(``SearchPage.next_after``), so a deep page costs what the first one does, and people added or
removed meanwhile never shift a page.

How a page is read (:mod:`mailer.audience.search_plan` decides): either by walking the
addresses in order from ``after`` and keeping those that match, which is quick when matches
are common; or, when one condition picks few people (a rare name prefix, a small list, a rare
status), by reading those few from their index and sorting them. Each condition's count is
read from its index, stopping at :data:`~mailer.audience.search_plan.FEW`, so choosing costs
little whatever the answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from mailer.audience.lists import find_list
from mailer.audience.search_plan import Driver, SearchTerms, choose_driver, read_page
from mailer.audience.search_terms import (
    EMAIL_MAX,
    NAME_MAX,
    check_segment_text,
    is_storable,
    search_words,
)
from mailer.audience.segment_sql import segment_clause
from mailer.audience.segments import parse_segment
from mailer.db.tables import MEMBERSHIP_STATUSES
from mailer.errors import FieldError, NotFoundError

#: The largest page a caller may ask for.
MAX_LIMIT = 500


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class SubscriberSummary:
    id: int
    email: str
    name: str
    created_at: datetime
    status: str | None
    """The membership's status on the list searched, None when no list was given."""

    def as_json(self) -> dict[str, object]:
        data: dict[str, object] = {
            "id": self.id,
            "email": self.email,
            "name": self.name,
            "created_at": _iso(self.created_at),
        }
        if self.status is not None:
            data["status"] = self.status
        return data


@dataclass(frozen=True)
class SearchPage:
    items: tuple[SubscriberSummary, ...]
    next_after: str | None
    """Pass as ``after`` for the next page; None when this page is the last."""


def _check_request(
    status: str | None, list_name: str | None, after: str | None, limit: int
) -> None:
    if status is not None and status not in MEMBERSHIP_STATUSES:
        raise FieldError("status", f"use one of {', '.join(MEMBERSHIP_STATUSES)}", status)
    if status is not None and list_name is None:
        raise FieldError("status", "a status belongs to a list membership: choose a list too")
    if not 1 <= limit <= MAX_LIMIT:
        raise FieldError("limit", f"ask for 1 to {MAX_LIMIT} subscribers a page", str(limit))
    if after is not None and not is_storable(after):
        raise FieldError("after", "this is not a position a search gave")


def search_subscribers(
    engine: sa.Engine,
    *,
    query: str | None,
    list_name: str | None,
    status: str | None,
    segment: str | None,
    after: str | None,
    limit: int,
) -> SearchPage:
    """One page of the subscribers matching every filter given, in address order.

    Wrong input is a :class:`~mailer.errors.FieldError` (status, limit, after), a
    :class:`~mailer.audience.segments.SegmentError` saying where the segment is wrong, or a
    :class:`~mailer.errors.NotFoundError` for an unknown list."""
    _check_request(status, list_name, after, limit)
    where = None
    if segment is not None and segment.strip():
        check_segment_text(segment)
        where = segment_clause(parse_segment(segment), engine.dialect.name)
    words = search_words(query)
    if words is not None and not is_storable(words):
        # Nothing stored holds a NUL or a lone surrogate: no one matches.
        return SearchPage((), None)
    with engine.connect() as connection:
        list_id = _list_id(connection, list_name)
        terms = SearchTerms(list_id=list_id, status=status, segment=where, after=after)
        # A search matches by address or by name: each is one branch, read on its own and
        # merged by address key.
        branches = [terms] if words is None else search_branches(connection, terms, words)
        rows: dict[str, Any] = {}
        for branch in branches:
            driver: Driver = choose_driver(connection, branch)
            for row in read_page(connection, branch, driver, limit + 1):
                rows[row.email_key] = row
    ordered = [rows[key] for key in sorted(rows)][: limit + 1]
    items = tuple(
        SubscriberSummary(
            id=int(row.id),
            email=row.email,
            name=row.name,
            created_at=row.created_at,
            status=row.status,
        )
        for row in ordered[:limit]
    )
    next_after = ordered[limit - 1].email_key if len(ordered) > limit else None
    return SearchPage(items, next_after)


def search_branches(connection: sa.Connection, terms: SearchTerms, words: str) -> list[SearchTerms]:
    """The search's two branches: the address prefix and the name prefix (a text too long
    for one of them leaves it out)."""
    branches = []
    if len(words) <= EMAIL_MAX:
        branches.append(terms.with_email_prefix(words.lower()))
    if len(words) <= NAME_MAX:
        # Lower-cased by the database's own lower(), the function name_key is made with.
        folded = connection.scalar(sa.select(sa.func.lower(sa.literal(words, sa.String))))
        assert isinstance(folded, str)
        branches.append(terms.with_name_prefix(folded))
    return branches


def _list_id(connection: sa.Connection, list_name: str | None) -> int | None:
    if list_name is None:
        return None
    if not is_storable(list_name):
        raise NotFoundError(f"no list named {list_name!r}")
    return find_list(connection, list_name).id
