"""``mailer init``: create or upgrade the database."""

from __future__ import annotations

from typing import Annotated

import typer

from mailer.cli.context import app_context, out_console, print_json


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
