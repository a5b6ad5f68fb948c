"""Engines for SQLite (the embedded default) and PostgreSQL, set up the same way everywhere."""

from __future__ import annotations

from contextlib import AbstractContextManager
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


def write_transaction(engine: sa.Engine) -> AbstractContextManager[sa.Connection]:
    """A transaction that means to write (SQLite takes its write lock at BEGIN)."""
    return engine.execution_options(**{WRITE_OPTION: True}).begin()


def create_db_engine(url: str) -> sa.Engine:
    """An engine for ``url``; SQLite files get their folder created and their pragmas set."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise MailerError(f"database.url {url!r} is not a database URL") from None
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(parsed, **_JSON_CODEC)
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        sa.event.listen(engine, "begin", _sqlite_begin)
        return engine
    if parsed.get_backend_name() == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        return sa.create_engine(parsed, pool_pre_ping=True, **_JSON_CODEC)
    raise MailerError(
        f"database.url {url!r}: only sqlite:/// and postgresql:// databases are supported"
    )
