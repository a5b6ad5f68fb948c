"""Bring a database to the newest schema; run by `mailer init` and on first use."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from mailer.db.engine import create_db_engine, probe, write_transaction

MIGRATIONS = Path(__file__).parent / "migrations"
# Any constant will do: it only has to be the same in every process that migrates.
PG_MIGRATION_LOCK = 0x6D61696C


def _alembic_config(connection: sa.Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(_alembic_config()).get_current_head()


def current_revision(connection: sa.Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def migrate(engine: sa.Engine) -> tuple[str | None, str | None]:
    """Upgrade to the newest revision; returns (before, after). Safe to run concurrently."""
    with write_transaction(engine) as connection:
        if connection.dialect.name == "postgresql":
            # Serializes processes that start at once against a fresh database.
            connection.execute(sa.select(sa.func.pg_advisory_xact_lock(PG_MIGRATION_LOCK)))
        before = current_revision(connection)
        head = head_revision()
        if before != head:
            command.upgrade(_alembic_config(connection), "head")
        return before, head


def open_database(url: str) -> sa.Engine:
    """An engine on a database at the newest schema, migrating it first if needed."""
    engine = create_db_engine(url)
    probe(engine)
    with engine.connect() as connection:
        up_to_date = current_revision(connection) == head_revision()
    if not up_to_date:
        migrate(engine)
    return engine
