"""``mailer issues``: the issue files with number, title, template, status and the lists each
went to."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from mailer.cli.context import app_context, out_console, print_json

if TYPE_CHECKING:
    from mailer.cli.table_fit import Cell


def issues_command(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """List issue files, each with the lists a campaign of it started sending to."""
    from mailer.catalog import catalog
    from mailer.db.presence import sqlite_file_missing
    from mailer.services.issue_files import file_number, sent_lists

    mailer = app_context(ctx).mailer
    settings = mailer.settings
    entries = catalog(settings.paths.issues, settings.paths.templates)
    # A project with no database yet has sent nothing: `mailer issues` neither creates one nor
    # loads SQLAlchemy for it.
    missing = sqlite_file_missing(settings.database.url)
    sent = {} if missing else sent_lists(mailer.engine)
    # By the file's number: an issue that cannot be read now may still have gone out.
    went = [sent.get(file_number(entry.path), []) for entry in entries]
    if as_json:
        print_json(
            [entry.as_json() | {"sent_to": to} for entry, to in zip(entries, went, strict=True)]
        )
        return
    from rich.text import Text

    from mailer.cli.table_fit import Col, fitted_table

    columns = [
        Col("number", whole=True),
        Col("title"),
        Col("template", whole=True, drop=2),
        Col("status", whole=True),
        Col("date", whole=True, drop=1),
        Col("sent to"),
        Col("file"),
    ]
    rows: list[list[Cell]] = []
    for entry, to in zip(entries, went, strict=True):
        row = entry.as_json()
        lists = ", ".join(to)
        if entry.error:
            error = Text(entry.error, style="red")
            rows.append(["?", error, "", "invalid", "", lists, entry.path.name])
        else:
            shown = [row["number"], row["title"], row["template"], row["status"], row["date"]]
            rows.append([*(str(value) for value in shown), lists, entry.path.name])
    console = out_console()
    console.print(fitted_table(columns, rows, console.width))
    if not entries:
        out_console().print(f"No issue files in {settings.paths.issues}.")


def register(app: typer.Typer) -> None:
    app.command("issues")(issues_command)
