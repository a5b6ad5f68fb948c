"""The database: migrations match the tables, run on first use, and SQLite is set up safely."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from mailer.db.engine import create_db_engine
from mailer.db.migrate import head_revision, migrate, open_database
from mailer.db.tables import metadata


def test_migrations_create_exactly_the_tables_the_code_uses(database_url: str) -> None:
    engine = open_database(database_url)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), metadata)
    assert differences == []
    engine.dispose()


def test_migrating_twice_changes_nothing(database_url: str) -> None:
    engine = create_db_engine(database_url)
    assert migrate(engine) == (None, head_revision())
    assert migrate(engine) == (head_revision(), head_revision())
    engine.dispose()


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: object) -> None:
    engine = open_database(f"sqlite:///{tmp_path}/nested/folder/mailer.db")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
        try:
            connection.execute(
                sa.text("INSERT INTO memberships VALUES (1, 1, 'confirmed', '', '', '')")
            )
        except sa.exc.IntegrityError as exc:
            assert "FOREIGN KEY" in str(exc)
        else:
            raise AssertionError("a membership without list or subscriber was accepted")
    engine.dispose()
