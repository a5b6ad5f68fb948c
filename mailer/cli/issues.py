"""``mailer issues``: the issue files with number, title, template and status."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from mailer.cli.context import app_context, out_console, print_json


def issues_command(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """List issue files."""
    from mailer.catalog import catalog

    settings = app_context(ctx).settings
    entries = catalog(settings.paths.issues, settings.paths.templates)
    if as_json:
        print_json([entry.as_json() for entry in entries])
        return
    table = Table("number", "title", "template", "status", "date", "file")
    for entry in entries:
        row = entry.as_json()
        if entry.error:
            table.add_row("?", Text(entry.error, style="red"), "", "invalid", "", entry.path.name)
        else:
            table.add_row(
                str(row["number"]),
                row["title"],
                row["template"],
                row["status"],
                row["date"],
                entry.path.name,
            )
    out_console().print(table)
    if not entries:
        out_console().print(f"No issue files in {settings.paths.issues}.")


def register(app: typer.Typer) -> None:
    app.command("issues")(issues_command)
