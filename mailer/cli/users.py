"""``mailer users``: the admin app's accounts. The first owner is added here."""

from __future__ import annotations

from typing import Annotated

import typer

from mailer.cli.account_options import (
    CanSendOption,
    JsonOption,
    RoleOption,
    can_send_option,
    new_password,
    options_named,
    sending,
    shown_time,
)
from mailer.cli.context import app_context, out_console, print_json

users_app = typer.Typer(help="Accounts of the admin app, with their roles.", no_args_is_help=False)
EmailArgument = Annotated[str, typer.Argument(help="The user's email address.")]
PasswordStdinOption = Annotated[
    bool,
    typer.Option(
        "--password-stdin",
        help="Read the password from the first line of standard input instead of asking.",
    ),
]
# Every change made here is recorded as the shell's user's.
ACTOR = "cli"


@users_app.callback(invoke_without_command=True)
def users_command(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Show every user: role, sending right, when added, password age, sessions open now."""
    if ctx.invoked_subcommand is not None:
        return
    from mailer.accounts.sessions import active_sessions
    from mailer.accounts.users import list_users

    mailer = app_context(ctx).mailer
    found = list_users(mailer)
    open_sessions = active_sessions(mailer)
    if as_json:
        print_json(
            [user.as_json() | {"active_sessions": open_sessions.get(user.id, 0)} for user in found]
        )
        return
    if not found:
        out_console().print(
            "No users yet: add the first owner with `mailer users add EMAIL --role owner`."
        )
        return
    from mailer.cli.table_fit import Col, fitted_table

    # Every cell whole, however narrow the terminal: the times, then the sessions, go first.
    columns = [
        Col("email", whole=True),
        Col("role", whole=True),
        Col("sends", whole=True, drop=1),
        Col("created", whole=True, drop=4),
        Col("password changed", whole=True, drop=3),
        Col("sessions", whole=True, drop=2),
    ]
    rows = [
        [
            user.email,
            str(user.role),
            "yes" if user.can_send else "no",
            shown_time(user.created_at),
            shown_time(user.password_changed_at),
            str(open_sessions.get(user.id, 0)),
        ]
        for user in found
    ]
    console = out_console()
    console.print(fitted_table(columns, rows, console.width))


@users_app.command("add")
def add_command(
    ctx: typer.Context,
    email: EmailArgument,
    role: RoleOption,
    can_send: CanSendOption = None,
    password_stdin: PasswordStdinOption = False,
    as_json: JsonOption = False,
) -> None:
    """Add a user (asks for the password twice, unless --password-stdin)."""
    from mailer.accounts.roles import Role, can_send_for
    from mailer.accounts.users import add_user, checked_address

    mailer = app_context(ctx).mailer
    with options_named(role="--role", can_send=can_send_option(can_send)):
        # What can be refused is, before a password is asked for.
        checked_address(email)
        can_send_for(Role(role), can_send)
        password = new_password(password_stdin, email)
        user = add_user(mailer, email, role, password, can_send, actor=ACTOR)
    if as_json:
        print_json(user.as_json())
        return
    out_console().print(f"Added {user.email} as {user.role} ({sending(user.can_send)}).")


@users_app.command("remove")
def remove_command(ctx: typer.Context, email: EmailArgument, as_json: JsonOption = False) -> None:
    """Remove a user; their sessions end at once (the only owner cannot be removed)."""
    from mailer.accounts.users import remove_user

    removed = remove_user(app_context(ctx).mailer, email, ACTOR)
    if as_json:
        print_json({"email": removed.email, "removed": True})
        return
    out_console().print(f"Removed {removed.email}; any session of theirs has ended.")


@users_app.command("password")
def password_command(
    ctx: typer.Context,
    email: EmailArgument,
    password_stdin: PasswordStdinOption = False,
    as_json: JsonOption = False,
) -> None:
    """Set a user's password; every session of theirs ends."""
    from mailer.accounts.users import find_user, set_password, shown
    from mailer.errors import FieldError

    mailer = app_context(ctx).mailer
    if find_user(mailer, email) is None:  # said before a password is asked for
        raise FieldError("email", "no user has this address", shown(email.strip()))
    password = new_password(password_stdin, email)
    ended = set_password(mailer, email, password, ACTOR)
    if as_json:
        print_json({"email": email.strip(), "password_changed": True, "sessions_ended": ended})
        return
    out_console().print(f"Changed the password of {email.strip()}; {_sessions(ended)} ended.")


@users_app.command("role")
def role_command(
    ctx: typer.Context,
    email: EmailArgument,
    role: RoleOption,
    can_send: CanSendOption = None,
    as_json: JsonOption = False,
) -> None:
    """Change a user's role (and sending right); it holds from their next request."""
    from mailer.accounts.users import change_role

    with options_named(role="--role", can_send=can_send_option(can_send)):
        user = change_role(app_context(ctx).mailer, email, role, can_send, ACTOR)
    if as_json:
        print_json(user.as_json())
        return
    out_console().print(f"{user.email} is {user.role} ({sending(user.can_send)}).")


@users_app.command("logout")
def logout_command(ctx: typer.Context, email: EmailArgument, as_json: JsonOption = False) -> None:
    """End every session of a user (they must log in again)."""
    from mailer.accounts.users import log_out_everywhere

    ended = log_out_everywhere(app_context(ctx).mailer, email, ACTOR)
    if as_json:
        print_json({"email": email.strip(), "sessions_ended": ended})
        return
    out_console().print(f"Ended {_sessions(ended)} of {email.strip()}.")


def _sessions(count: int) -> str:
    return "1 session" if count == 1 else f"{count} sessions"


def register(app: typer.Typer) -> None:
    app.add_typer(users_app, name="users")
