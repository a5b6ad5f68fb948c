"""Opening a database tells whether it is at the newest schema without loading alembic; one
that is behind is still brought up to date on first use."""

from __future__ import annotations

from alembic import command
from alembic.script import ScriptDirectory

from mailer.db.engine import create_db_engine
from mailer.db.migrate import (
    _alembic_config,
    current_revision,
    head_revision,
    head_revision_from_scripts,
    open_database,
)


def test_the_quick_reading_names_the_newest_revision_alembic_names() -> None:
    assert head_revision_from_scripts() == head_revision()


def test_a_database_one_revision_behind_is_upgraded_on_first_use(database_url: str) -> None:
    newest = head_revision()
    assert newest is not None
    previous = ScriptDirectory.from_config(_alembic_config()).get_revision(newest).down_revision
    assert isinstance(previous, str)
    engine = create_db_engine(database_url)
    with engine.begin() as connection:
        command.upgrade(_alembic_config(connection), previous)
    engine.dispose()
    engine = open_database(database_url)
    with engine.connect() as connection:
        assert current_revision(connection) == newest
    engine.dispose()
