"""``mailer init``: create or upgrade the database; and the line a command prints when it
created one."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from mailer.cli.context import app_context, err_console, out_console, print_json

if TYPE_CHECKING:
    import sqlalchemy as sa

KINDS = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


def database_name(engine: sa.Engine) -> str:
    """The database as a person would name it: a SQLite file by its path (relative to the
    current folder when it is inside it), a server database by its URL without password."""
    url = engine.url
    if url.get_backend_name() == "sqlite" and url.database:
        path, here = Path(url.database), Path.cwd().resolve()
        return str(path.relative_to(here)) if path.is_relative_to(here) else str(path)
    return url.render_as_string(hide_password=True)


def say_created(engine: sa.Engine) -> None:
    """One line on stderr (never in --json output) when a command created the database."""
    kind = KINDS.get(engine.url.get_backend_name(), engine.url.get_backend_name())
    err_console().print(
        f"Created the database {database_name(engine)} ({kind}); no config file was found "
        "(./mailer.toml, --config or $MAILER_CONFIG).",
        markup=False,
        highlight=False,
    )


def init_command(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Create the database, or upgrade it to the newest schema (safe to run again)."""
    from mailer.db.engine import create_db_engine, probe
    from mailer.db.migrate import migrate

    url = app_context(ctx).settings.database.url
    engine = create_db_engine(url)
    try:
        probe(engine)
        before, after = migrate(engine)
    finally:
        engine.dispose()
    shown = engine.url.render_as_string(hide_password=True)
    if as_json:
        print_json({"database": shown, "from_revision": before, "revision": after})
    elif before == after:
        out_console().print(f"{shown}: up to date (revision {after}).")
    else:
        out_console().print(f"{shown}: upgraded from {before or 'empty'} to revision {after}.")


def register(app: typer.Typer) -> None:
    app.command("init")(init_command)
