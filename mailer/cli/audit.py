"""``mailer audit``: who changed what in users and tokens (and, as the admin app and the API
record theirs, everything else), newest first."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Column, Table

from mailer.cli.account_options import JsonOption, shown_time
from mailer.cli.context import app_context, out_console, print_json


def audit_command(
    ctx: typer.Context,
    as_json: JsonOption = False,
    limit: Annotated[
        int, typer.Option("--limit", min=1, max=1000, help="How many entries, newest first.")
    ] = 50,
    action: Annotated[
        str | None,
        typer.Option("--action", help="Only actions starting with this, e.g. 'user.' or 'token.'."),
    ] = None,
    before: Annotated[
        int | None,
        typer.Option(
            "--before",
            min=1,
            max=2**63 - 1,
            help="Only entries older than this id (the next page).",
        ),
    ] = None,
) -> None:
    """The audit log: who changed what, when."""
    from mailer.accounts.audit import entries

    found = entries(app_context(ctx).mailer, limit=limit, before_id=before, action_prefix=action)
    if as_json:
        print_json([entry.as_json() for entry in found])
        return
    if not found:
        which = f" with an action starting with {action!r}" if action else ""
        out_console().print(f"No audit entries{which}.")
        return
    # Who and what are never cut short with "…": a long address folds onto the next line.
    table = Table(
        "id",
        "at",
        Column("actor", overflow="fold"),
        "action",
        Column("target", overflow="fold"),
        Column("detail", overflow="fold"),
    )
    for entry in found:
        detail = "" if entry.detail is None else json.dumps(entry.detail, ensure_ascii=False)
        table.add_row(
            str(entry.id), shown_time(entry.at), entry.actor, entry.action, entry.target, detail
        )
    out_console().print(table)


def register(app: typer.Typer) -> None:
    app.command("audit")(audit_command)
