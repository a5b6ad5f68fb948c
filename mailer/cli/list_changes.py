"""``mailer lists edit`` and ``mailer lists rename``: change a list's title, description,
opt-in and visibility, or its name. Both go through the actions the admin app uses, so each
change is in the audit log (as the command line)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from mailer.cli.context import app_context, out_console, print_json

JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


class OptIn(StrEnum):
    single = "single"
    double = "double"


def edit_command(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The list to change.")],
    title: Annotated[
        str | None, typer.Option(help="Title shown to subscribers ('' for the name).")
    ] = None,
    description: Annotated[str | None, typer.Option(help="What the list is about.")] = None,
    opt_in: Annotated[
        OptIn | None,
        typer.Option(
            "--opt-in",
            help="double: new subscribers confirm by email first (members stay as they are).",
        ),
    ] = None,
    public: Annotated[
        bool | None,
        typer.Option("--public/--private", help="Whether the public pages offer the list."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Change a list's title, description, opt-in or visibility; what is not given stays."""
    from mailer.accounts.roles import Principal
    from mailer.actions import lists as actions
    from mailer.audience.lists import ListChanges

    changes = ListChanges(
        title=title,
        description=description,
        double_opt_in=None if opt_in is None else opt_in is OptIn.double,
        public=public,
    )
    changed = actions.change_list(app_context(ctx).mailer, Principal.cli(), name, changes)
    if as_json:
        print_json(changed.as_json())
        return
    kind = "double" if changed.double_opt_in else "single"
    shown = "public" if changed.public else "private"
    out_console().print(
        f"List {changed.name!r}: title {changed.title!r}, {kind} opt-in, {shown}.", markup=False
    )


def rename_command(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The list's name now.")],
    new_name: Annotated[str, typer.Argument(help="Its new name.")],
    as_json: JsonOption = False,
) -> None:
    """Rename a list; its members, campaigns and schedules follow it."""
    from mailer.accounts.roles import Principal
    from mailer.actions import lists as actions

    renamed = actions.rename_list(app_context(ctx).mailer, Principal.cli(), name, new_name)
    if as_json:
        print_json(renamed.as_json())
        return
    out_console().print(f"Renamed list {name!r} to {renamed.name!r}.", markup=False)


def register(lists_app: typer.Typer) -> None:
    lists_app.command("edit")(edit_command)
    lists_app.command("rename")(rename_command)
