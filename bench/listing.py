"""Subscriber listing benchmark (``mailer subscribers``' pages): prints JSON.

Builds, in a fresh database (SQLite, then PostgreSQL) at the newest schema, bench/admin.py's
list of ``--subscribers`` (1,000,000) people, inserted in bulk (97% confirmed, 2.5%
unsubscribed, 0.5% unconfirmed; a country attribute, 1 in 8 "SG"). Then times the listing
service (mailer.audience.subscriber_listing.listing_page), each the median of ``--runs`` (5)
calls of a page of 50 with its total: the list's first page, a page in the middle of the list
reached by its cursor, the same page reached by ``offset``, a page of the list's
unsubscribed members, a page of a segment on the list, and everyone (no list) by cursor.
The counts alone are timed too, as the totals those pages show.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Any

from admin import LIST_NAME, _engine, _timed, backend_options, build, print_each_backend

PAGE = 50
SEGMENT = 'country = "SG"'


def _middle_key(engine: Any, count: int) -> str:
    import sqlalchemy as sa

    from mailer.db.tables import subscribers

    with engine.connect() as connection:
        key = connection.scalar(
            sa.select(subscribers.c.email_key)
            .order_by(subscribers.c.email_key)
            .offset(count // 2 - 1)
            .limit(1)
        )
    assert isinstance(key, str)
    return key


def time_pages(engine: Any, count: int, runs: int) -> dict[str, Any]:
    from mailer.audience.subscriber_listing import Filters, Position, listing_page

    on_list = Filters(list_name=LIST_NAME)
    middle = Position(count // 2, _middle_key(engine, count))
    cases: dict[str, tuple[Filters, dict[str, Any]]] = {
        "list_first_page": (on_list, {}),
        "list_middle_page_by_cursor": (on_list, {"after": middle}),
        "list_middle_page_by_offset": (on_list, {"offset": count // 2}),
        "list_unsubscribed_first_page": (Filters(LIST_NAME, status="unsubscribed"), {}),
        "list_confirmed_first_page": (Filters(LIST_NAME, status="confirmed"), {}),
        "list_segment_first_page": (Filters(LIST_NAME, segment=SEGMENT), {}),
        "everyone_middle_page_by_cursor": (Filters(), {"after": middle}),
    }
    found: dict[str, Any] = {}
    for name, (filters, where) in cases.items():
        page = listing_page(engine, filters, limit=PAGE, **where)
        found[name] = {
            "ms": _timed(runs, lambda f=filters, w=where: listing_page(engine, f, limit=PAGE, **w)),
            "total": page.total,
            "showing": f"{page.offset + 1}-{page.offset + len(page.items)}",
        }
    return found


def time_counts(engine: Any, runs: int) -> dict[str, float]:
    from mailer.audience.subscriber_listing import Filters, _terms, count_matches

    cases = {
        "everyone": Filters(),
        "list": Filters(list_name=LIST_NAME),
        "list_unsubscribed": Filters(LIST_NAME, status="unsubscribed"),
        "list_confirmed": Filters(LIST_NAME, status="confirmed"),
        "list_segment": Filters(LIST_NAME, segment=SEGMENT),
        "search_text": Filters(search="kol"),
    }
    timed = {}
    with engine.connect() as connection:
        for name, filters in cases.items():
            terms = _terms(connection, filters, None)
            timed[name] = _timed(runs, lambda t=terms: count_matches(connection, t))
    return timed


def measure(backend: str, options: argparse.Namespace) -> dict[str, Any]:
    import time

    count = options.subscribers
    with (
        tempfile.TemporaryDirectory(prefix="mailer-listing-") as folder,
        _engine(backend, Path(folder)) as (engine, _url),
    ):
        started = time.perf_counter()
        build(engine, count)
        built = time.perf_counter() - started
        return {
            "backend": backend,
            "subscribers": count,
            "page": PAGE,
            "build_seconds": round(built, 1),
            "page_ms_median": time_pages(engine, count, options.runs),
            "count_ms_median": time_counts(engine, options.runs),
        }


def main() -> None:
    print_each_backend(backend_options(__doc__.splitlines()[0]), measure)


if __name__ == "__main__":
    main()
