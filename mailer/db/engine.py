"""Engines for SQLite (the embedded default) and PostgreSQL, set up the same way everywhere."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from mailer.errors import MailerError

# Seconds a writer waits for another process's lock before SQLite reports "database is locked".
SQLITE_BUSY_TIMEOUT_MS = 30_000
WRITE_OPTION = "mailer_write"


def _encode_json(value: Any) -> str:
    return orjson.dumps(value).decode()


# orjson reads and writes the attributes column about ten times faster than the json module,
# which is most of the time of an export.
_JSON_CODEC: dict[str, Any] = {"json_serializer": _encode_json, "json_deserializer": orjson.loads}


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # pysqlite's own transaction handling defers BEGIN and breaks SAVEPOINT; SQLAlchemy's
    # recipe is to switch it off here and issue BEGIN ourselves (see _sqlite_begin).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    # WAL lets the web app read while an import or a send writes; NORMAL is durable in WAL mode
    # up to the last checkpointed commit, which is what every batch relies on.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    # 32 MB of page cache (the default is 2 MB) keeps the address index in memory during
    # large imports.
    cursor.execute("PRAGMA cache_size=-32768")
    cursor.close()


def _sqlite_begin(connection: sa.Connection) -> None:
    # A writer takes the lock up front (IMMEDIATE), so a busy database makes it wait for
    # busy_timeout at the start instead of failing half way through; readers stay deferred
    # so that WAL lets them run beside a writer.
    writing = connection.get_execution_options().get(WRITE_OPTION, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if writing else "BEGIN")


# One writer at a time per SQLite file within this process. SQLite lets one connection write
# at a time, and one that finds the lock taken polls for it, sleeping up to 100 ms between
# tries: threads of one process (a web server's) that queue here instead are woken the moment
# the writer before them commits. Other processes still meet at SQLite's own lock.
_sqlite_writers: dict[str, threading.RLock] = {}
_sqlite_writers_guard = threading.Lock()


def _sqlite_writer(engine: sa.Engine) -> threading.RLock:
    key = str(engine.url)
    with _sqlite_writers_guard:
        return _sqlite_writers.setdefault(key, threading.RLock())


@contextmanager
def write_transaction(engine: sa.Engine) -> Iterator[sa.Connection]:
    """A transaction that means to write (SQLite takes its write lock at BEGIN)."""
    writing = engine.execution_options(**{WRITE_OPTION: True})
    if engine.dialect.name != "sqlite":
        with writing.begin() as connection:
            yield connection
        return
    with _sqlite_writer(engine), writing.begin() as connection:
        yield connection


# The drivers mailer is built and tested with; another driver of the same database is not
# installed, and would fail with an import error deep inside SQLAlchemy.
DRIVERS = {
    "sqlite": "sqlite",
    "sqlite+pysqlite": "sqlite",
    "postgresql": "postgresql",
    "postgresql+psycopg": "postgresql",
}


def shown_url(url: sa.URL | str) -> str:
    """The URL as it may be printed: with its password hidden."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return "(not a URL)"


def _reason(exc: sa.exc.DBAPIError) -> str:
    return " ".join(str(exc.orig).split())  # the driver's reason, on one line


def unreachable(url: sa.URL | str, exc: sa.exc.DBAPIError) -> MailerError:
    """The error for a database that could not be opened."""
    how = "opened" if make_url(url).get_backend_name() == "sqlite" else "reached"
    return MailerError(f"database {shown_url(url)} could not be {how}: {_reason(exc)}")


def database_failed(url: str | None, exc: sa.exc.DBAPIError) -> MailerError:
    """The error for a database that stopped answering, or stayed locked, during a command
    (its transaction is rolled back: nothing of it is stored)."""
    where = shown_url(url) if url else "(database.url)"
    return MailerError(f"database {where} failed: {_reason(exc)}")


def probe(engine: sa.Engine) -> None:
    """Open a connection once, so that a database that cannot be reached (a server that is
    down, a file that cannot be opened) is reported by name, before anything is done."""
    try:
        with engine.connect():
            pass
    except sa.exc.DBAPIError as exc:
        raise unreachable(engine.url, exc) from None


def _create_folder(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise MailerError(
            f"cannot create the folder {folder} for the database: {exc.strerror or exc}"
        ) from None


def create_db_engine(url: str) -> sa.Engine:
    """An engine for ``url``; SQLite files get their folder created and their pragmas set."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        raise MailerError(f"database.url {url!r} is not a database URL") from None
    backend = DRIVERS.get(parsed.drivername)
    if backend is None:
        raise MailerError(
            f"database.url {shown_url(parsed)}: only sqlite:/// and postgresql:// databases "
            "are supported"
        )
    if backend == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            _create_folder(Path(parsed.database).parent)
        engine = sa.create_engine(parsed, **_JSON_CODEC)
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        sa.event.listen(engine, "begin", _sqlite_begin)
        return engine
    return sa.create_engine(
        parsed.set(drivername="postgresql+psycopg"), pool_pre_ping=True, **_JSON_CODEC
    )
