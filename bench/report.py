"""Campaign report benchmark: prints JSON.

Builds, in a fresh database (SQLite, then PostgreSQL) at the schema before the report's
tallies (migration 0013), a campaign of ``--recipients`` (1,000,000) people with bulk
inserts (the campaign row, the subscribers, the ledger rows and ``--events`` (3,000,000)
events: for everyone ``processed``, then deliveries, deferrals, permanent and temporary
bounces, drops, opens (two in five machine opens), clicks on five links (one in twenty
automated), spam reports and unsubscribes, spread over three days). Then upgrades it to the
newest schema, whose migration 0014 counts those events into the tallies (timed: what an
upgrade costs), and times ``mailer campaigns report ID --json`` as a whole command, the
service call alone, and the service call with ``recount`` (the reference path reading every
event), each the median of ``--runs`` (3). Also reported: the size of the events table and
of each of its indexes (SQLite's dbstat, PostgreSQL's pg_relation_size).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from measure import mailer, run_measured
from web_parts import ENV, database, write_config

from mailer.events.kinds import OUTCOME_RANK

START = 1764950400  # 2025-12-05T16:00:00Z
LINKS = [f"https://example.com/article/{number}" for number in range(5)]
# Besides one ``processed`` per recipient: each kind's share of the recipients.
SHARES = {
    "delivered": 0.97,
    "deferred": 0.02,
    "bounce": 0.015,
    "dropped": 0.01,
    "spamreport": 0.001,
    "unsubscribe": 0.002,
    "click": 0.35,
}
BOUNCES = {
    True: {
        "bounce_type": "bounce",
        "classification": "Invalid Address",
        "reason": "550 5.1.1 no such user",
    },
    False: {"bounce_type": "blocked", "classification": "Reputation", "reason": "421 try later"},
}
EVENT_COLUMNS = (
    "sg_event_id, kind, occurred_at, campaign_id, subscriber_id, reason, bounce_type, "
    "classification, url_id, machine"
)
SUBSCRIBER_COLUMNS = "id, email, email_key, name, attributes, created_at, updated_at"
DELIVERY_COLUMNS = (
    "campaign_id, subscriber_id, status, batch_id, updated_at, outcome, outcome_reason, "
    "outcome_at, first_open_at, first_human_open_at, first_click_at, first_human_click_at"
)
WHEN = "2025-12-05 15:00:00"
SEED = 7
FIRSTS = ("first_open_at", "first_human_open_at", "first_click_at", "first_human_click_at")


def _event_rows(
    campaign_id: int, recipients: int, total: int, seed: int
) -> Iterator[tuple[Any, ...]]:
    """(sg_event_id, kind, occurred_at, campaign_id, subscriber_id, reason, bounce_type,
    classification, url_id, machine); opens make up what the other kinds leave of ``total``."""
    rng = random.Random(seed)
    number = 0

    def row(kind: str, subscriber: int, after: int, **fields: Any) -> tuple[Any, ...]:
        nonlocal number
        number += 1
        values = [fields.get(name) for name in ("reason", "bounce_type", "classification")]
        tail = (fields.get("url_id"), fields.get("machine"))
        return (f"ev{number}", kind, START + after, campaign_id, subscriber, *values, *tail)

    for subscriber in range(1, recipients + 1):
        yield row("processed", subscriber, rng.randrange(3600))
    others = 0
    for kind, share in SHARES.items():
        for subscriber in rng.sample(range(1, recipients + 1), int(recipients * share)):
            others += 1
            after = int(rng.expovariate(1 / 14400))  # most within hours, a tail over days
            if kind == "bounce":
                permanent = rng.random() < 0.6
                yield row(kind, subscriber, after, **BOUNCES[permanent])
            elif kind == "dropped":
                yield row(kind, subscriber, after, reason="Bounced Address")
            elif kind == "click":
                url_id = 1 + min(int(rng.expovariate(1)), len(LINKS) - 1)
                yield row(kind, subscriber, after, url_id=url_id, machine=rng.random() < 0.05)
            else:
                yield row(kind, subscriber, after)
    for _ in range(total - recipients - others):
        subscriber = rng.randrange(1, recipients + 1)
        after = int(rng.expovariate(1 / 21600))
        yield row("open", subscriber, after, machine=rng.random() < 0.4)


def _subscriber_rows(recipients: int) -> Iterator[tuple[Any, ...]]:
    for number in range(1, recipients + 1):
        email = f"reader{number}@example.com"
        yield (number, email, email, "", "{}", WHEN, WHEN)


class _Ledger:
    """What the event rules (mailer.events.outcomes and engagement) would have written on
    each delivery row had the events come through the webhook, in the order generated."""

    def __init__(self, recipients: int) -> None:
        size = recipients + 1
        self.outcome: list[str | None] = [None] * size
        self.reason: list[str | None] = [None] * size
        self.outcome_at: list[int | None] = [None] * size
        self.firsts: dict[str, list[int | None]] = {name: [None] * size for name in FIRSTS}

    def apply(self, row: tuple[Any, ...]) -> None:
        _, kind, at, _, subscriber, reason, bounce_type, _, _, machine = row
        if kind in ("open", "click"):
            self._first(f"first_{kind}_at", subscriber, at)
            if not machine:
                self._first(f"first_human_{kind}_at", subscriber, at)
            return
        name = ("blocked" if bounce_type == "blocked" else "bounced") if kind == "bounce" else kind
        if name not in OUTCOME_RANK:
            return
        current = self.outcome[subscriber]
        mine, theirs = OUTCOME_RANK[name], OUTCOME_RANK.get(current or "", -1)
        if mine > theirs or (mine == theirs and at >= (self.outcome_at[subscriber] or 0)):
            self.outcome[subscriber], self.reason[subscriber] = name, reason
            self.outcome_at[subscriber] = at

    def _first(self, column: str, subscriber: int, at: int) -> None:
        firsts = self.firsts[column]
        current = firsts[subscriber]
        if current is None or at < current:
            firsts[subscriber] = at

    def row(self, subscriber: int) -> tuple[Any, ...]:
        outcome = (self.outcome[subscriber], self.reason[subscriber], self.outcome_at[subscriber])
        return (*outcome, *(self.firsts[name][subscriber] for name in FIRSTS))


def _delivery_rows(campaign_id: int, recipients: int, total: int) -> Iterator[tuple[Any, ...]]:
    """The ledger rows, with what the events (``_event_rows`` of the same seed) made of them."""
    ledger = _Ledger(recipients)
    for event in _event_rows(campaign_id, recipients, total, SEED):
        ledger.apply(event)
    for number in range(1, recipients + 1):
        yield (campaign_id, number, "sent", 1 + number // 1000, WHEN, *ledger.row(number))


def _campaign(engine: Any) -> int:
    import sqlalchemy as sa

    from mailer.db.tables import campaigns, event_urls

    moment = datetime(2025, 12, 5, 15, tzinfo=UTC)
    with engine.begin() as connection:
        campaign_id = connection.execute(
            sa.insert(campaigns)
            .values(
                issue_number=87,
                issue_file="087.md",
                list_name="weekly",
                transport="sendgrid",
                status="sent",
                created_at=moment,
                started_at=moment,
                finished_at=moment,
                updated_at=moment,
            )
            .returning(campaigns.c.id)
        ).scalar_one()
        connection.execute(
            sa.insert(event_urls),
            [{"id": n + 1, "url_hash": f"{n:064d}", "url": url} for n, url in enumerate(LINKS)],
        )
    return int(campaign_id)


def _copy(cursor: Any, table: str, columns: str, rows: Iterator[tuple[Any, ...]]) -> None:
    with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _insert_sqlite(cursor: Any, table: str, columns: str, rows: Iterator[tuple[Any, ...]]) -> None:
    marks = ", ".join("?" for _ in columns.split(","))
    cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows)


def build(engine: Any, recipients: int, total: int) -> int:
    """The campaign, its people, ledger and events, inserted in bulk; the campaign's id."""
    campaign_id = _campaign(engine)
    with engine.begin() as connection:
        cursor = connection.connection.driver_connection.cursor()
        put = _insert_sqlite if engine.dialect.name == "sqlite" else _copy
        put(cursor, "subscribers", SUBSCRIBER_COLUMNS, _subscriber_rows(recipients))
        deliveries = _delivery_rows(campaign_id, recipients, total)
        put(cursor, "deliveries", DELIVERY_COLUMNS, deliveries)
        put(cursor, "events", EVENT_COLUMNS, _event_rows(campaign_id, recipients, total, SEED))
    with engine.connect() as connection:
        connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        connection.exec_driver_sql(
            "ANALYZE" if engine.dialect.name == "sqlite" else "VACUUM ANALYZE"
        )
    return campaign_id


def sizes(engine: Any) -> dict[str, float]:
    """Megabytes of the events table and of each of its indexes."""
    if engine.dialect.name == "sqlite":
        query = (
            "SELECT name, SUM(pgsize) FROM dbstat WHERE name = 'events' OR name IN "
            "(SELECT name FROM sqlite_master WHERE tbl_name = 'events') GROUP BY name"
        )
    else:
        query = (
            "SELECT c.relname, pg_relation_size(c.oid) FROM pg_class c "
            "WHERE c.relname = 'events' OR c.oid IN (SELECT indexrelid FROM pg_index i "
            "JOIN pg_class t ON t.oid = i.indrelid WHERE t.relname = 'events' "
            "AND t.relnamespace = c.relnamespace) AND pg_table_is_visible(c.oid)"
        )
    with engine.connect() as connection:
        return {name: round(size / 2**20, 1) for name, size in connection.exec_driver_sql(query)}


BEFORE_TALLIES = "0013"


@contextmanager
def _project(backend: str, work: Path) -> Iterator[tuple[Path, Any]]:
    """A project whose database is at the schema before the tallies."""
    from alembic import command

    from mailer.db.engine import create_db_engine
    from mailer.db.migrate import _alembic_config

    with database(backend, work) as url:
        config = write_config(work, url, "http://127.0.0.1:1")
        (work / "var").mkdir(exist_ok=True)
        engine = create_db_engine(url or f"sqlite:///{work / 'var' / 'mailer.db'}")
        with engine.begin() as connection:
            command.upgrade(_alembic_config(connection), BEFORE_TALLIES)
        try:
            yield config, engine
        finally:
            engine.dispose()


def _timed_calls(runs: int, call: Any) -> list[float]:
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - started)
    return seconds


def measure(backend: str, recipients: int, total: int, runs: int) -> dict[str, Any]:
    from mailer.db.migrate import migrate
    from mailer.events.report import campaign_report

    with (
        tempfile.TemporaryDirectory(prefix="mailer-report-") as folder,
        _project(backend, Path(folder)) as (config, engine),
    ):
        started = time.perf_counter()
        campaign_id = build(engine, recipients, total)
        built = time.perf_counter() - started
        started = time.perf_counter()
        migrate(engine)
        migrated = time.perf_counter() - started
        commands = [
            run_measured(mailer(config, "campaigns", "report", str(campaign_id), "--json"), ENV)
            for _ in range(runs)
        ]
        report = json.loads(commands[-1]["stdout"])
        calls = _timed_calls(runs, lambda: campaign_report(engine, campaign_id))
        recounts = _timed_calls(runs, lambda: campaign_report(engine, campaign_id, recount=True))
        same = campaign_report(engine, campaign_id, recount=True).as_json() == report
        service, recount = statistics.median(calls), statistics.median(recounts)
        return {
            "backend": backend,
            "recipients": recipients,
            "events": sum(report["events"].values()),
            "build_seconds": round(built, 1),
            "migration_0014_seconds": round(migrated, 1),
            "command_seconds_median": round(statistics.median(c["seconds"] for c in commands), 3),
            "command_peak_rss_mb": round(max(c["peak_rss_mb"] for c in commands), 1),
            "service_seconds_median": round(service, 3),
            "recount_seconds_median": round(recount, 3),
            "recount_over_tallies": round(recount / service, 1),
            "recount_agrees": same,
            "sizes_mb": sizes(engine),
            "report": {key: report[key] for key in ("sent", "delivered", "opens", "clicks")},
            "timeline_hours": len(report["timeline"]),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=3_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--backends", default="sqlite,postgresql")
    options = parser.parse_args()
    results = [
        measure(backend, options.recipients, options.events, options.runs)
        for backend in options.backends.split(",")
    ]
    json.dump(results, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
