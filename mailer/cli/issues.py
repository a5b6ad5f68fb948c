"""``mailer issues``: the issue files with number, title, template, status and the lists each
went to."""

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
    """List issue files, each with the lists a campaign of it started sending to."""
    from mailer.catalog import catalog
    from mailer.services.issue_files import file_number, sent_lists

    mailer = app_context(ctx).mailer
    settings = mailer.settings
    entries = catalog(settings.paths.issues, settings.paths.templates)
    sent = sent_lists(mailer.engine)
    # By the file's number: an issue that cannot be read now may still have gone out.
    went = [sent.get(file_number(entry.path), []) for entry in entries]
    if as_json:
        print_json(
            [entry.as_json() | {"sent_to": to} for entry, to in zip(entries, went, strict=True)]
        )
        return
    table = Table("number", "title", "template", "status", "date", "sent to", "file")
    for entry, to in zip(entries, went, strict=True):
        row = entry.as_json()
        lists = ", ".join(to)
        if entry.error:
            table.add_row(
                "?", Text(entry.error, style="red"), "", "invalid", "", lists, entry.path.name
            )
        else:
            table.add_row(
                str(row["number"]),
                row["title"],
                row["template"],
                row["status"],
                row["date"],
                lists,
                entry.path.name,
            )
    out_console().print(table)
    if not entries:
        out_console().print(f"No issue files in {settings.paths.issues}.")


def register(app: typer.Typer) -> None:
    app.command("issues")(issues_command)
