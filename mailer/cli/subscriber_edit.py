"""``mailer subscribers edit``: change one subscriber's name, time zone or attributes, through
the action the admin app and the API use (an audit entry names the command line)."""

from __future__ import annotations

from typing import Annotated

import typer

from mailer.cli.context import app_context, out_console, print_json
from mailer.cli.errors import fields_as_options

JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
# The core names its inputs neutrally; here they are an argument and options.
_OPTION_OF = {"email": "EMAIL", "name": "--name", "timezone": "--timezone", "attributes": "--attr"}


def edit_command(
    ctx: typer.Context,
    email: Annotated[str, typer.Argument(help="The address.")],
    name: Annotated[str | None, typer.Option(help="The name ('' clears it).")] = None,
    timezone: Annotated[
        str | None, typer.Option(help="IANA time zone, e.g. Asia/Shanghai ('' clears it).")
    ] = None,
    attr: Annotated[
        list[str] | None,
        typer.Option("--attr", help="KEY=VALUE attribute; KEY= removes it. Repeatable."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Change a subscriber's fields; what is not given stays as it is."""
    from mailer.accounts.roles import Principal
    from mailer.actions import subscribers as actions
    from mailer.cli.subscribers import parse_attribute_options

    with fields_as_options(_OPTION_OF):
        view = actions.edit_subscriber(
            app_context(ctx).mailer,
            Principal.cli(),
            email,
            name=name,
            timezone=timezone,
            attributes=None if attr is None else parse_attribute_options(attr),
        )
    if as_json:
        print_json(view.as_json())
        return
    subscriber = view.detail.subscriber
    out_console().print(f"{subscriber.email}  {subscriber.name}", markup=False)
    out_console().print(f"  time zone: {subscriber.timezone or '-'}", markup=False)
    for key, value in sorted(subscriber.attributes.items()):
        out_console().print(f"  {key}: {value}", markup=False)


def register(subscribers_app: typer.Typer) -> None:
    subscribers_app.command("edit")(edit_command)
