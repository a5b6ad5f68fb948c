"""``mailer lists``: show, create and delete mailing lists."""

from __future__ import annotations

from typing import Annotated

import typer

from mailer.cli.context import app_context, out_console, print_json

lists_app = typer.Typer(help="Mailing lists.", no_args_is_help=False)
JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


@lists_app.callback(invoke_without_command=True)
def lists_command(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Show every list with its member counts by status."""
    if ctx.invoked_subcommand is not None:
        return
    from mailer.audience.lists import all_lists

    found = all_lists(app_context(ctx).engine)
    if as_json:
        print_json([mailing_list.as_json() for mailing_list in found])
        return
    if not found:
        out_console().print("No lists yet: create one with `mailer lists create NAME`.")
        return
    from mailer.cli.table_fit import Col, fitted_table

    columns = [
        Col("name", whole=True),
        Col("title", drop=1),
        Col("opt-in", whole=True),
        *(Col(status, whole=True) for status in ("confirmed", "unconfirmed", "unsubscribed")),
    ]
    rows = [
        [
            mailing_list.name,
            mailing_list.title,
            "double" if mailing_list.double_opt_in else "single",
            str(mailing_list.counts["confirmed"]),
            str(mailing_list.counts["unconfirmed"]),
            str(mailing_list.counts["unsubscribed"]),
        ]
        for mailing_list in found
    ]
    console = out_console()
    console.print(fitted_table(columns, rows, console.width))


@lists_app.command("create")
def create_command(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Short name: lower-case letters, digits, - and _.")],
    title: Annotated[str, typer.Option(help="Title shown to subscribers.")] = "",
    description: Annotated[str, typer.Option(help="What the list is about.")] = "",
    double_opt_in: Annotated[
        bool,
        typer.Option(
            "--double-opt-in/--single-opt-in",
            help="Whether new subscribers must confirm by email before they are mailed.",
        ),
    ] = False,
    public: Annotated[
        bool,
        typer.Option(
            "--public/--private",
            help="Whether the public pages (signup, preferences) offer the list to everyone; "
            "a private list is shown only to its members.",
        ),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Create a list."""
    from mailer.audience.lists import create_list

    created = create_list(
        app_context(ctx).engine,
        name,
        title=title,
        description=description,
        double_opt_in=double_opt_in,
        public=public,
    )
    if as_json:
        print_json(created.as_json())
    else:
        kind = "double" if created.double_opt_in else "single"
        shown = "public" if created.public else "private"
        out_console().print(f"Created list {created.name!r} ({kind} opt-in), {shown}.")


@lists_app.command("delete")
def delete_command(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The list to delete.")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Delete a list and its memberships (subscribers, suppressions and who unsubscribed are
    kept)."""
    from mailer.audience.lists import delete_list

    if not yes:
        # With --json the question goes to stderr, so what stdout holds still parses.
        question = f"Delete the list {name!r} and all its memberships?"
        typer.confirm(question, abort=True, err=as_json)
    deleted = delete_list(app_context(ctx).engine, name)
    if as_json:
        print_json(
            {
                "name": name,
                "deleted": True,
                "memberships": deleted.memberships,
                "unsubscribes_kept": deleted.unsubscribes_kept,
            }
        )
        return
    kept = (
        f"; {deleted.unsubscribes_kept} unsubscribed stay unsubscribed if {name!r} is created again"
        if deleted.unsubscribes_kept
        else ""
    )
    out_console().print(f"Deleted list {name!r} ({deleted.memberships} memberships{kept}).")


def register(app: typer.Typer) -> None:
    from mailer.cli import list_changes

    list_changes.register(lists_app)
    app.add_typer(lists_app, name="lists")
