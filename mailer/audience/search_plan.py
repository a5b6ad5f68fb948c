"""How one branch of a subscriber search is read: the query, and which index leads it.

Three ways to read a page, ``limit`` subscribers in address order after ``after``:

- ``walk``: the address index in order from ``after`` (within the address prefix, if any),
  each subscriber checked against the other conditions until the page is full. It reads about
  ``limit`` divided by the share of people who match: quick when matches are common.
- ``names``: the name prefix's range of ``ix_subscribers_name_key``, sorted by address.
- ``members``: the list's memberships (``ix_memberships_list_status`` for a status other than
  confirmed), sorted by address.

The last two read every match (deep pages too), so they are taken only for a condition that
fewer than :data:`FEW` people meet, counted from its index up to :data:`FEW`. A condition met
by at least :data:`FEW` of the people leaves a walk of at most ``limit`` * people / FEW rows
for it alone (5,000 for a page of 50 among a million).

Which index leads is imposed by the query's shape (see :func:`page_query`), on SQLite and
PostgreSQL alike: neither planner knows how many people a prefix or a status picks, and both
misjudge a page of a join.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any, Literal

import sqlalchemy as sa

from mailer.audience.search_terms import successor
from mailer.db.tables import memberships, subscribers

Driver = Literal["walk", "names", "members"]
#: A SELECT of any columns.
Rows = sa.Select[*tuple[Any, ...]]

#: Below this many matches, a condition's own index leads; at or above it, the address order.
FEW = 10_000

#: The statuses ix_memberships_list_status holds (it leaves out confirmed, the common one).
#: Compared as literals: SQLite uses a partial index only for a WHERE clause that visibly
#: implies the index's own.
_INDEXED_STATUSES = ("unconfirmed", "unsubscribed")
_NOT_CONFIRMED = sa.text("memberships.status <> 'confirmed'")


@dataclass(frozen=True)
class SearchTerms:
    list_id: int | None
    status: str | None
    segment: sa.ColumnElement[bool] | None
    after: str | None
    email_prefix: str | None = None
    name_prefix: str | None = None

    def with_email_prefix(self, prefix: str) -> SearchTerms:
        return replace(self, email_prefix=prefix)

    def with_name_prefix(self, prefix: str) -> SearchTerms:
        return replace(self, name_prefix=prefix)


def _prefix(
    column: sa.ColumnElement[str], prefix: str, dialect: str, *, bounded_below: bool = False
) -> sa.ColumnElement[bool]:
    """``column`` starts with ``prefix``: a range from ``prefix``, or only up to the end of
    the prefix's texts when the caller bounds it from below by a greater text."""
    condition: sa.ColumnElement[bool] = sa.true() if bounded_below else column >= prefix
    upper = successor(prefix)
    if upper is not None:
        condition = sa.and_(condition, column < upper)
    if dialect != "sqlite":
        # The range is exact in code point order (a C or C.UTF-8 database); under another
        # collation this keeps it from ever matching a text that does not start with prefix.
        condition = sa.and_(condition, sa.func.starts_with(column, prefix))
    return condition


def _status_condition(status: str) -> sa.ColumnElement[bool]:
    wanted = memberships.c.status == sa.literal(status, literal_execute=True)
    if status in _INDEXED_STATUSES:
        return sa.and_(wanted, _NOT_CONFIRMED)
    return wanted


def _member_conditions(terms: SearchTerms) -> list[sa.ColumnElement[bool]]:
    conditions = [memberships.c.list_id == terms.list_id]
    if terms.status is not None:
        conditions.append(_status_condition(terms.status))
    return conditions


def _capped_count(connection: sa.Connection, query: Rows) -> int:
    counted = query.limit(FEW).subquery()
    return int(connection.scalar(sa.select(sa.func.count()).select_from(counted)) or 0)


def _member_count(connection: sa.Connection, terms: SearchTerms) -> int:
    if terms.status in _INDEXED_STATUSES:
        conditions = _member_conditions(terms)
    else:
        # Confirmed people are not in the status index: the list's size stands for them.
        conditions = [memberships.c.list_id == terms.list_id]
    return _capped_count(connection, sa.select(sa.literal(1)).where(*conditions))


def choose_driver(connection: sa.Connection, terms: SearchTerms) -> Driver:
    """The reading that touches fewest rows, judged from counts stopped at :data:`FEW`."""
    dialect = connection.dialect.name
    counts: dict[Driver, int] = {}
    if terms.list_id is not None:
        counts["members"] = _member_count(connection, terms)
    if terms.name_prefix is not None:
        in_range = _prefix(subscribers.c.name_key, terms.name_prefix, dialect)
        counts["names"] = _capped_count(connection, sa.select(sa.literal(1)).where(in_range))
    if terms.email_prefix is not None and "members" in counts:
        # The address prefix's range is already in order: walking it is reading it.
        in_range = _prefix(subscribers.c.email_key, terms.email_prefix, dialect)
        counts["walk"] = _capped_count(connection, sa.select(sa.literal(1)).where(in_range))
    if not counts:
        return "walk"
    fewest = min(counts, key=lambda driver: counts[driver])
    return fewest if counts[fewest] < FEW else "walk"


def _unindexed(column: sa.ColumnElement[str]) -> sa.ColumnElement[str]:
    """The same text, as an expression no index serves: the planner cannot lead with it."""
    return column.concat("")


def page_query(
    connection: sa.Connection,
    terms: SearchTerms,
    driver: Driver,
    limit: int | None,
    *,
    offset: int = 0,
    extra: tuple[sa.ColumnElement[Any], ...] = (),
) -> Rows:
    """Up to ``limit`` matches (all of them for None) after ``terms.after`` in address order,
    less the first ``offset``: id, email, email_key, name, created_at, ``extra`` columns of
    subscribers and the membership's status (NULL without a list).

    The reading chosen is imposed through which columns appear bare: only the leading index's
    column does, the others are compared through :func:`_unindexed`; the membership is a
    lookup by its primary key for each subscriber, or, when the members lead, a materialized
    CTE. SQLite ignores SQLAlchemy's index hints, and neither planner knows how many people a
    prefix or a status picks."""
    dialect = connection.dialect.name
    address = subscribers.c.email_key if driver == "walk" else _unindexed(subscribers.c.email_key)
    name = subscribers.c.name_key if driver == "names" else _unindexed(subscribers.c.name_key)
    conditions: list[sa.ColumnElement[bool]] = []
    prefix = terms.email_prefix
    if terms.after is not None and (prefix is None or terms.after >= prefix):
        conditions.append(address > terms.after)
    if prefix is not None:
        # One lower bound, the greater: SQLite's index range takes only one of two.
        after_prefix = terms.after is not None and terms.after >= prefix
        conditions.append(_prefix(address, prefix, dialect, bounded_below=after_prefix))
    if terms.name_prefix is not None:
        conditions.append(_prefix(name, terms.name_prefix, dialect))
    if terms.segment is not None:
        conditions.append(terms.segment)
    people = subscribers.c
    columns = (people.id, people.email, people.email_key, people.name, people.created_at, *extra)
    query: Rows
    if driver == "members":
        members = (
            sa.select(memberships.c.subscriber_id, memberships.c.status)
            .where(*_member_conditions(terms))
            .cte("members")
            .prefix_with("MATERIALIZED")
        )
        query = sa.select(*columns, members.c.status).select_from(
            members.join(subscribers, people.id == members.c.subscriber_id)
        )
    elif terms.list_id is None:
        query = sa.select(*columns, sa.null().label("status"))
    else:
        # A lookup for each subscriber, not a join: given a join, both planners would rather
        # read the whole list (or every subscriber) and sort.
        status = (
            sa.select(memberships.c.status)
            .where(memberships.c.list_id == terms.list_id, memberships.c.subscriber_id == people.id)
            .scalar_subquery()
        )
        if terms.status is None:
            conditions.append(status.is_not(None))
        else:
            conditions.append(status == sa.literal(terms.status, literal_execute=True))
        query = sa.select(*columns, status.label("status"))
    return query.where(*conditions).order_by(address).limit(limit).offset(offset or None)


#: How PostgreSQL is made to walk (see :func:`read_page`), for one statement.
WALK_SETTINGS = {"enable_sort": "off", "max_parallel_workers_per_gather": "0", "jit": "off"}


def set_locally(connection: sa.Connection, settings: dict[str, str]) -> dict[str, str]:
    """Sets these until the transaction ends (or they are set again); the values before."""
    before = connection.execute(
        sa.select(*(sa.func.current_setting(name).label(name) for name in settings))
    ).one()
    connection.execute(
        sa.select(*(sa.func.set_config(name, value, True) for name, value in settings.items()))
    )
    return {name: str(before._mapping[name]) for name in settings}


def read_page(
    connection: sa.Connection, terms: SearchTerms, driver: Driver, limit: int
) -> list[sa.Row[Any]]:
    """The rows of :func:`page_query`, read the way ``driver`` says."""
    with walking(connection, driver):
        return list(connection.execute(page_query(connection, terms, driver, limit)))


@contextmanager
def walking(connection: sa.Connection, driver: Driver) -> Iterator[None]:
    """Within it, a query of :func:`page_query` is read the way ``driver`` says."""
    if driver != "walk" or connection.dialect.name != "postgresql":
        yield
        return
    # PostgreSQL cannot tell how many people a segment or a membership lookup keeps, so it
    # misjudges how far the walk goes: it would rather read every subscriber and sort them,
    # or start parallel workers, or compile the query, each costing more than the walk. With
    # those priced out or off, only the address index in order is left.
    before = set_locally(connection, WALK_SETTINGS)
    try:
        yield
    finally:
        set_locally(connection, before)
