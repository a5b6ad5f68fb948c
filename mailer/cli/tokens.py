"""``mailer tokens``: tokens of the REST API, each with a role; a secret is shown only once."""

from __future__ import annotations

from typing import Annotated

import typer

from mailer.cli.account_options import (
    CanSendOption,
    JsonOption,
    RoleOption,
    can_send_option,
    options_named,
    sending,
    shown_time,
)
from mailer.cli.context import app_context, out_console, print_json

tokens_app = typer.Typer(help="Tokens of the REST API, with their roles.", no_args_is_help=False)
NameArgument = Annotated[
    str, typer.Argument(help="The token's name: a-z 0-9 _ . -, starting with a letter or digit.")
]
ACTOR = "cli"


@tokens_app.callback(invoke_without_command=True)
def tokens_command(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Show every token, revoked ones too: role, who made it, when last used."""
    if ctx.invoked_subcommand is not None:
        return
    from mailer.accounts.tokens import list_tokens

    found = list_tokens(app_context(ctx).mailer)
    if as_json:
        print_json([token.as_json() for token in found])
        return
    if not found:
        out_console().print("No tokens yet: make one with `mailer tokens create NAME --role R`.")
        return
    from mailer.cli.table_fit import Col, fitted_table

    columns = [
        Col("name", whole=True),
        Col("role", whole=True),
        Col("sends", whole=True, drop=1),
        Col("created", whole=True, drop=4),
        Col("by", drop=5),
        Col("last used", whole=True, drop=3),
        Col("revoked", whole=True, drop=2),
    ]
    rows = [
        [
            token.name,
            str(token.role),
            "yes" if token.can_send else "no",
            shown_time(token.created_at),
            token.created_by,
            shown_time(token.last_used_at),
            shown_time(token.revoked_at) if token.revoked_at else "",
        ]
        for token in found
    ]
    console = out_console()
    console.print(fitted_table(columns, rows, console.width))


@tokens_app.command("create")
def create_command(
    ctx: typer.Context,
    name: NameArgument,
    role: RoleOption,
    can_send: CanSendOption = None,
    as_json: JsonOption = False,
) -> None:
    """Make a token and print its secret, which is shown this once only."""
    from mailer.accounts.tokens import create_token

    with options_named(role="--role", can_send=can_send_option(can_send), name="token name"):
        token, secret = create_token(app_context(ctx).mailer, name, role, can_send, actor=ACTOR)
    if as_json:
        print_json(token.as_json() | {"secret": secret})
        return
    out = out_console()
    out.print(f"Created token {token.name} ({token.role}, {sending(token.can_send)}). Its secret:")
    out.print(secret)
    out.print("Keep it now: it will not be shown again (only its hash is stored).")


@tokens_app.command("revoke")
def revoke_command(ctx: typer.Context, name: NameArgument, as_json: JsonOption = False) -> None:
    """Revoke a token: requests with its secret are refused from now on."""
    from mailer.accounts.tokens import revoke_token

    with options_named(name="token name"):
        revoked = revoke_token(app_context(ctx).mailer, name, ACTOR)
    if as_json:
        print_json(revoked.as_json())
        return
    out_console().print(f"Revoked token {name}.")


def register(app: typer.Typer) -> None:
    app.add_typer(tokens_app, name="tokens")
