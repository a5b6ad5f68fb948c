"""Admin search benchmark: prints JSON.

Builds, in a fresh database (SQLite, then PostgreSQL) at the newest schema, ``--subscribers``
(1,000,000) people on one list with bulk inserts: addresses made of a few syllables and a
number at one of fifty domains, names from 24 given and 24 family names (Latin and Chinese
script), a country attribute, and memberships 97% confirmed, 2.5% unsubscribed and 0.5%
unconfirmed. Then times the search service (mailer.audience.subscriber_search), each case the
median of ``--runs`` (5) calls of 50 subscribers: the first page, and the 50th page (reached
by following ``next_after``; only the last call is timed). Cases: an address prefix of one
letter ("m": with the names starting with it, 17% of the people), of three letters ("kol"),
a whole address, a name prefix ("Kenji", 4%), a rare one ("Zoe Ros", 0.2%), the list alone,
the list and a rare status (unconfirmed, then unsubscribed), a segment (country = "SG"), and
the list with a prefix and a segment together. ``--explain`` adds each case's reading and
query plans (EXPLAIN QUERY PLAN on SQLite, EXPLAIN ANALYZE on PostgreSQL).

The build adds ``--campaigns`` (12) sent campaigns of ``--ledger`` (100,000) recipients each
to the list (bench/admin_campaigns.py: their ledgers with what the events left on them; the
newest paused, one with recipients in doubt). The dashboard's service is timed (median of
``--runs``) as it reads now and as it read before (``reference=True``: the lists counted in one
grouped pass over every membership, after the campaigns).

Under ``http`` (bench/admin_http.py), ``mailer serve`` on the same database: ``GET /admin``
(the dashboard) for a logged-in owner, and for an address prefix ("m") and a name prefix
("Kenji") the admin subscribers page and ``GET /api/v1/subscribers`` (page of 50, an API
token), first and 50th page, timed by the client on loopback over a warm keep-alive
connection (the server's time plus well under a millisecond). A route the server does not
have yet is reported as skipped. ``--no-http`` leaves this out.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from itertools import islice
from pathlib import Path
from typing import Any

from admin_campaigns import build_campaigns
from admin_http import measure_http
from web_parts import database

LIST_NAME = "bench"
WHEN = "2025-12-05 15:00:00"
SEED = 11
PAGE = 50
DEEP_PAGE = 50
SYLLABLES = ["ma", "ri", "ko", "lin", "chen", "an", "wei", "sa", "to", "el", "jo", "yu", "zh"]
GIVEN = ["Ada", "Mary", "Kenji", "Sam", "María", "Li", "Wei", "Anna", "Tom", "Yuki", "Omar"]
GIVEN += ["Lea", "Ivan", "Zoe", "Raj", "Emma", "芳", "伟", "娜", "敏", "静", "强", "磊", "洋"]
FAMILY = ["Lin", "Chen", "Wang", "Sato", "García", "Taylor", "Smith", "Kim", "Nguyen", "Ali"]
FAMILY += ["Müller", "Rossi", "Silva", "Khan", "Lee", "Brown", "王", "李", "张", "刘"]
FAMILY += ["陈", "杨", "黄", "赵"]
COUNTRIES = ["CN", "HK", "TW", "SG", "US", "JP", "DE", "ES"]
SUBSCRIBER_COLUMNS = "id, email, email_key, name, attributes, created_at, updated_at"
MEMBERSHIP_COLUMNS = "list_id, subscriber_id, status, source, created_at, updated_at"


def _person(rng: random.Random, number: int) -> tuple[str, str]:
    local = "".join(rng.choice(SYLLABLES) for _ in range(rng.randrange(1, 4)))
    email = f"{local.capitalize()}{number}@example{number % 50}.com"
    given, family = rng.choice(GIVEN), rng.choice(FAMILY)
    # Chinese names are written family name first, without a space.
    name = f"{family}{given}" if ord(given[0]) > 0x2E80 else f"{given} {family}"
    return email, name


def _subscriber_rows(count: int) -> Iterator[tuple[Any, ...]]:
    rng = random.Random(SEED)
    for number in range(1, count + 1):
        email, name = _person(rng, number)
        attributes = json.dumps({"country": rng.choice(COUNTRIES)})
        yield (number, email, email.lower(), name, attributes, WHEN, WHEN)


def _membership_rows(list_id: int, count: int) -> Iterator[tuple[Any, ...]]:
    rng = random.Random(SEED + 1)
    for number in range(1, count + 1):
        draw = rng.random()
        status = "unsubscribed" if draw < 0.025 else "unconfirmed" if draw < 0.03 else "confirmed"
        yield (list_id, number, status, "import", WHEN, WHEN)


def _copy(cursor: Any, table: str, columns: str, rows: Iterator[tuple[Any, ...]]) -> None:
    with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _insert_sqlite(cursor: Any, table: str, columns: str, rows: Iterator[tuple[Any, ...]]) -> None:
    marks = ", ".join("?" for _ in columns.split(","))
    cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows)


def build(engine: Any, count: int, campaigns: int = 0, ledger: int = 0) -> None:
    """The list, its people and its campaigns, inserted in bulk, then the statistics the
    planners read."""
    from mailer.audience.lists import create_list, find_list

    create_list(engine, LIST_NAME)
    with engine.begin() as connection:
        list_id = find_list(connection, LIST_NAME).id
        cursor = connection.connection.driver_connection.cursor()
        put = _insert_sqlite if engine.dialect.name == "sqlite" else _copy
        put(cursor, "subscribers", SUBSCRIBER_COLUMNS, _subscriber_rows(count))
        put(cursor, "memberships", MEMBERSHIP_COLUMNS, _membership_rows(list_id, count))
    build_campaigns(engine, list_id, LIST_NAME, count, campaigns, ledger)
    with engine.connect() as connection:
        connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        connection.exec_driver_sql(
            "ANALYZE" if engine.dialect.name == "sqlite" else "VACUUM ANALYZE"
        )


def cases(count: int) -> dict[str, dict[str, Any]]:
    """Search arguments by case name; the whole address is one the build made."""
    middle = next(islice(_subscriber_rows(count), count // 2, None))
    email = middle[1]
    none: dict[str, Any] = {"query": None, "list_name": None, "status": None, "segment": None}
    return {
        "address_prefix_1_letter": {**none, "query": "m"},
        "address_prefix_3_letters": {**none, "query": "kol"},
        "whole_address": {**none, "query": email},
        "name_prefix": {**none, "query": "Kenji"},
        "name_prefix_rare": {**none, "query": "Zoe Ros"},
        "list_only": {**none, "list_name": LIST_NAME},
        "list_rare_status": {**none, "list_name": LIST_NAME, "status": "unconfirmed"},
        "list_unsubscribed": {**none, "list_name": LIST_NAME, "status": "unsubscribed"},
        "segment": {**none, "segment": 'country = "SG"'},
        "list_name_prefix_and_segment": {
            **none,
            "list_name": LIST_NAME,
            "query": "ma",
            "segment": 'country = "CN"',
        },
    }


def _timed(runs: int, call: Any) -> float:
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - started)
    return round(statistics.median(seconds) * 1000, 2)


def time_case(engine: Any, arguments: dict[str, Any], runs: int) -> dict[str, Any]:
    from mailer.audience.subscriber_search import search_subscribers

    def page(after: str | None) -> Any:
        return search_subscribers(engine, **arguments, after=after, limit=PAGE)

    first = page(None)
    result: dict[str, Any] = {
        "first_page_ms": _timed(runs, lambda: page(None)),
        "first_page_items": len(first.items),
    }
    after, reached = first.next_after, 1
    while after is not None and reached < DEEP_PAGE - 1:
        after, reached = page(after).next_after, reached + 1
    if after is None:
        result["deep_page_ms"] = None  # fewer than 50 pages match
        result["pages"] = reached
    else:
        deep = after
        result["deep_page_ms"] = _timed(runs, lambda: page(deep))
        result["deep_page_items"] = len(page(deep).items)
    return result


def explain(engine: Any, arguments: dict[str, Any]) -> list[str]:
    """Each branch's reading and plan for the first page, as the database words it."""
    from mailer.audience.lists import find_list
    from mailer.audience.search_plan import (
        WALK_SETTINGS,
        SearchTerms,
        choose_driver,
        page_query,
        set_locally,
    )
    from mailer.audience.search_terms import search_words
    from mailer.audience.segment_sql import segment_clause
    from mailer.audience.segments import parse_segment
    from mailer.audience.subscriber_search import search_branches

    list_name, segment = arguments["list_name"], arguments["segment"]
    where = segment_clause(parse_segment(segment), engine.dialect.name) if segment else None
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as connection:
        list_id = find_list(connection, list_name).id if list_name else None
        terms = SearchTerms(list_id, arguments["status"], where, after=None)
        words = search_words(arguments["query"])
        branches = [terms] if words is None else search_branches(connection, terms, words)
        plans = []
        for branch in branches:
            driver = choose_driver(connection, branch)
            query = page_query(connection, branch, driver, PAGE + 1)
            sql = query.compile(engine, compile_kwargs={"literal_binds": True})
            cursor = connection.connection.driver_connection.cursor()
            prefix = "EXPLAIN QUERY PLAN" if sqlite else "EXPLAIN (ANALYZE, COSTS OFF)"
            walk_on_postgres = driver == "walk" and not sqlite
            if walk_on_postgres:  # as search_plan.read_page reads a walk
                before = set_locally(connection, WALK_SETTINGS)
            cursor.execute(f"{prefix} {sql}")
            lines = [str(line[-1] if sqlite else line[0]).strip() for line in cursor.fetchall()]
            if walk_on_postgres:
                set_locally(connection, before)
            plans.append(f"{driver}: {' | '.join(lines)}")
        return plans


@contextmanager
def _engine(backend: str, work: Path) -> Iterator[tuple[Any, str]]:
    """The bench database's engine, and its URL."""
    from mailer.db.migrate import open_database

    with database(backend, work) as url:
        url = url or f"sqlite:///{work / 'mailer.db'}"
        engine = open_database(url)
        try:
            yield engine, url
        finally:
            engine.dispose()


def time_dashboard(engine: Any, runs: int) -> dict[str, float]:
    """The dashboard's service call, as it reads now and by its reference path: the median
    wall time, and this process's CPU time a call (all of the work on SQLite; on PostgreSQL
    the server's processes do most of it)."""
    from types import SimpleNamespace

    from mailer.clock import utc_now
    from mailer.config import Settings
    from mailer.services.dashboard import dashboard

    # What the dashboard reads of the app: the database, the clock and the worker's silence.
    app: Any = SimpleNamespace(engine=engine, clock=utc_now, settings=Settings())
    found = {}
    for name, reference in (("service", False), ("reference_service", True)):
        cpu = time.process_time()
        found[f"{name}_ms"] = _timed(runs, partial(dashboard, app, reference=reference))
        found[f"{name}_cpu_ms"] = round((time.process_time() - cpu) / runs * 1000, 1)
    return found


def measure(backend: str, options: argparse.Namespace) -> dict[str, Any]:
    count, runs = options.subscribers, options.runs
    with (
        tempfile.TemporaryDirectory(prefix="mailer-admin-") as folder,
        _engine(backend, Path(folder)) as (engine, url),
    ):
        started = time.perf_counter()
        build(engine, count, options.campaigns, options.ledger)
        built = time.perf_counter() - started
        timings = {}
        for name, arguments in cases(count).items():
            timings[name] = time_case(engine, arguments, runs)
            if options.explain:
                timings[name]["plans"] = explain(engine, arguments)
        queries = {"address_prefix": "m", "name_prefix": "Kenji"}
        http = (
            None
            if options.no_http
            else measure_http(Path(folder), url, queries, runs, DEEP_PAGE, PAGE)
        )
        return {
            "backend": backend,
            "subscribers": count,
            "campaigns": options.campaigns,
            "ledger_rows_each": options.ledger,
            "page": PAGE,
            "deep_page": DEEP_PAGE,
            "build_seconds": round(built, 1),
            "search_ms_median": timings,
            "dashboard_ms_median": time_dashboard(engine, runs),
            "http": http,
        }


def backend_options(description: str) -> argparse.ArgumentParser:
    """The options every one-database-after-another benchmark takes: the list's size, the runs
    a median is taken of, and the databases."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--subscribers", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--backends", default="sqlite,postgresql")
    return parser


def print_each_backend(
    parser: argparse.ArgumentParser, measure: Callable[[str, argparse.Namespace], Any]
) -> None:
    """Measure each database the options name, one after another, and print the results as
    one JSON array."""
    options = parser.parse_args()
    results = [measure(backend, options) for backend in options.backends.split(",")]
    json.dump(results, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


def main() -> None:
    parser = backend_options(__doc__.splitlines()[0])
    parser.add_argument("--campaigns", type=int, default=12)
    parser.add_argument("--ledger", type=int, default=100_000, help="Recipients a campaign.")
    parser.add_argument("--explain", action="store_true", help="Add each case's query plans.")
    parser.add_argument("--no-http", action="store_true", help="Time the services alone.")
    print_each_backend(parser, measure)


if __name__ == "__main__":
    main()
