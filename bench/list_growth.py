"""List growth benchmark (the dashboard's ``mailer.services.list_growth``): prints JSON.

Builds, in a fresh database (SQLite, then PostgreSQL), bench/admin.py's list of
``--subscribers`` (1,000,000) people, and their consent record as two years of signups would
leave it, written in the order of its times: each person's subscribe, spread evenly over the
730 days before the bench's moment, a confirm for 3% an hour later and an unsubscribe for
2.5% some days later (about 1,055,000 rows, some 45,000 of them in the last 31 days). Then
times the growth read (median of ``--runs``, 5) and prints its query plans (EXPLAIN QUERY
PLAN on SQLite, EXPLAIN ANALYZE on PostgreSQL).
"""

from __future__ import annotations

import argparse
import random
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from admin import _engine, _timed, backend_options, build, print_each_backend

NOW = datetime(2026, 12, 5, 15, 0, tzinfo=UTC)
SPAN = timedelta(days=730)
SEED = 13
CONSENT_COLUMNS = "id, subscriber_id, list_name, action, source, ip, created_at"


def _consent_rows(count: int, list_name: str, sqlite: bool) -> Iterator[tuple[Any, ...]]:
    rng = random.Random(SEED)
    start = NOW - SPAN
    events: list[tuple[datetime, int, str]] = []
    for number in range(1, count + 1):
        joined = start + SPAN * (number / (count + 1))
        events.append((joined, number, "subscribe"))
        draw = rng.random()
        if draw < 0.03:
            events.append((joined + timedelta(hours=1), number, "confirm"))
        elif draw < 0.055:
            left = joined + timedelta(days=rng.uniform(0.5, 60))
            if left < NOW:
                events.append((left, number, "unsubscribe"))
    events.sort()
    for row_id, (at, subscriber_id, action) in enumerate(events, start=1):
        naive = at.replace(tzinfo=None)
        stored: Any = naive.strftime("%Y-%m-%d %H:%M:%S.%f") if sqlite else naive
        yield (row_id, subscriber_id, list_name, action, "signup form", None, stored)


def build_consent(engine: Any, count: int) -> int:
    from admin import LIST_NAME, _copy, _insert_sqlite

    sqlite = engine.dialect.name == "sqlite"
    with engine.begin() as connection:
        cursor = connection.connection.driver_connection.cursor()
        put = _insert_sqlite if sqlite else _copy
        put(cursor, "consent_events", CONSENT_COLUMNS, _consent_rows(count, LIST_NAME, sqlite))
        rows = cursor.execute("SELECT COUNT(*) FROM consent_events").fetchone()[0]
        # Made before its record (an action before the list's making does not count).
        made = (NOW - SPAN - timedelta(days=1)).replace(tzinfo=None)
        cursor.execute(
            f"UPDATE lists SET created_at = {'?' if sqlite else '%s'}",
            (made.strftime("%Y-%m-%d %H:%M:%S.%f") if sqlite else made,),
        )
    with engine.connect() as connection:
        connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        connection.exec_driver_sql("ANALYZE" if sqlite else "VACUUM ANALYZE")
        if not sqlite:  # the ids were given: the sequence must follow
            connection.exec_driver_sql(
                "SELECT setval(pg_get_serial_sequence('consent_events', 'id'), "
                "(SELECT MAX(id) FROM consent_events))"
            )
    return int(rows)


def plans(engine: Any) -> list[str]:
    """The growth read's statements, as the engine runs them, with their plans."""
    import sqlalchemy as sa

    from mailer.services.list_growth import list_growth

    statements: list[tuple[str, Any]] = []

    def keep(conn: Any, cursor: Any, statement: str, parameters: Any, *rest: Any) -> None:
        statements.append((statement, parameters))

    sa.event.listen(engine, "before_cursor_execute", keep)
    try:
        with engine.connect() as connection:
            list_growth(connection, NOW)
    finally:
        sa.event.remove(engine, "before_cursor_execute", keep)
    prefix = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN ANALYZE "
    found = []
    with engine.connect() as connection:
        driver = connection.connection.driver_connection
        for statement, parameters in statements:
            rows = driver.execute(prefix + statement, parameters).fetchall()
            found.append(" | ".join(str(row[-1]) for row in rows))
    return [plan for plan in found if plan]


def measure(backend: str, options: argparse.Namespace) -> dict[str, Any]:
    from mailer.services.list_growth import growth_of

    with (
        tempfile.TemporaryDirectory(prefix="mailer-growth-") as folder,
        _engine(backend, Path(folder)) as (engine, _url),
    ):
        build(engine, options.subscribers)
        rows = build_consent(engine, options.subscribers)
        growth = growth_of(engine, NOW)
        return {
            "backend": backend,
            "subscribers": options.subscribers,
            "consent_rows": rows,
            "growth": {
                name: [(g.days, g.joined, g.confirmed, g.left, g.net) for g in windows]
                for name, windows in growth.items()
            },
            "growth_ms_median": _timed(options.runs, partial(growth_of, engine, NOW)),
            "plans": plans(engine),
        }


def main() -> None:
    print_each_backend(backend_options(__doc__.splitlines()[0]), measure)


if __name__ == "__main__":
    main()
