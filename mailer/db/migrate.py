"""Bring a database to the newest schema; run by `mailer init` and on first use.

Alembic is loaded only when it has work to do: a process that opens a database already at the
newest schema (every command but the first after an upgrade) reads the version itself, which
spares it the tenth of a second alembic takes to load and to read its scripts."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa

from mailer.db.engine import create_db_engine, probe, write_transaction

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
# Any constant will do: it only has to be the same in every process that migrates.
PG_MIGRATION_LOCK = 0x6D61696C
# Alembic's defaults, which env.py keeps: where the version is stored, and which files in
# versions/ are scripts.
VERSION_TABLE = "alembic_version"
_SCRIPT_NAME = re.compile(r"(?!\.#|__init__).*\.py")
# A script's own revision and the one it follows, as `alembic revision` writes them.
_REVISION_LINE = re.compile(r"""^(revision|down_revision) = (None|"[^"\\]*")$""", re.MULTILINE)


def _alembic_config(connection: sa.Connection | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_alembic_config()).get_current_head()


def current_revision(connection: sa.Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()


def migrate(engine: sa.Engine) -> tuple[str | None, str | None]:
    """Upgrade to the newest revision; returns (before, after). Safe to run concurrently."""
    from alembic import command

    with write_transaction(engine) as connection:
        if connection.dialect.name == "postgresql":
            # Serializes processes that start at once against a fresh database.
            connection.execute(sa.select(sa.func.pg_advisory_xact_lock(PG_MIGRATION_LOCK)))
        before = current_revision(connection)
        head = head_revision()
        if before != head:
            command.upgrade(_alembic_config(connection), "head")
        return before, head


def head_revision_from_scripts() -> str | None:
    """The newest revision, read from the scripts' ``revision`` and ``down_revision`` lines
    without loading alembic; None when the scripts are not the one plain chain this reading
    understands (a merge, a branch, a line written some other way), and alembic must say."""
    scripts = [
        script
        for script in (MIGRATIONS / "versions").iterdir()
        if _SCRIPT_NAME.fullmatch(script.name)
    ]
    revisions: set[str] = set()
    followed: set[str] = set()
    for script in scripts:
        found = _REVISION_LINE.findall(script.read_text(encoding="utf-8"))
        lines = dict(found)
        if len(found) != 2 or len(lines) != 2 or lines["revision"] == "None":
            return None
        revisions.add(lines["revision"].strip('"'))
        if lines["down_revision"] != "None":
            followed.add(lines["down_revision"].strip('"'))
    heads = revisions - followed
    plain_chain = len(revisions) == len(scripts) and followed <= revisions and len(heads) == 1
    return heads.pop() if plain_chain else None


def _known_to_be_newest(connection: sa.Connection) -> bool:
    """Whether the database's one stored version is the newest revision, told without
    alembic. False also when that is not sure: alembic then looks, as it always did."""
    head = head_revision_from_scripts()
    if head is None or not sa.inspect(connection).has_table(VERSION_TABLE):
        return False
    stored = connection.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}")).all()
    return [row.version_num for row in stored] == [head]


def open_database(url: str, on_created: Callable[[sa.Engine], None] | None = None) -> sa.Engine:
    """An engine on a database at the newest schema, migrating it first if needed;
    ``on_created`` hears of a database this call created (one that had no schema at all)."""
    engine = create_db_engine(url)
    probe(engine)
    with engine.connect() as connection:
        up_to_date = _known_to_be_newest(connection) or (
            current_revision(connection) == head_revision()
        )
    if not up_to_date:
        before, _ = migrate(engine)
        # Of processes that start at once on a new database, only the one that migrated it.
        if before is None and on_created is not None:
            on_created(engine)
    return engine
