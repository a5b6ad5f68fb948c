"""What the account commands (``users``, ``tokens``, ``audit``) share: the role and sending
options, reading a new password, the core's field errors in the options' words, and times."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Annotated, Literal

import typer

from mailer.errors import FieldError, MailerError

RoleName = Literal["owner", "admin", "editor", "viewer"]
RoleOption = Annotated[
    RoleName,
    typer.Option(
        "--role",
        help="owner: everything; admin: lists, subscribers and campaigns; editor: issues, "
        "previews and drafts; viewer: reads only.",
    ),
]
CanSendOption = Annotated[
    bool | None,
    typer.Option(
        "--can-send/--no-can-send",
        help="May send or schedule campaigns (default: yes for owner and admin, no for editor "
        "and viewer; an owner always may, a viewer never).",
        show_default=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


def can_send_option(can_send: bool | None) -> str:
    """How the command line gave ``can_send``, to name it in an error."""
    return "--no-can-send" if can_send is False else "--can-send"


@contextmanager
def options_named(**options: str) -> Iterator[None]:
    """A FieldError of the core raised again naming the option (or argument) it came from:
    ``options_named(role="--role")``."""
    try:
        yield
    except FieldError as error:
        option = options.get(error.field)
        if option is None:
            raise
        raise FieldError(option, error.problem, error.value) from None


def new_password(password_stdin: bool, email: str) -> str:
    """The new password: the first line of standard input, or typed twice, hidden, at a
    terminal (each is checked by the core when it is stored; a weak one typed is refused
    before it is asked again)."""
    if password_stdin:
        try:
            password = sys.stdin.readline().removesuffix("\n").removesuffix("\r")
        except UnicodeDecodeError:
            raise MailerError("--password-stdin: standard input is not UTF-8 text") from None
        if not password:
            raise MailerError("--password-stdin: standard input holds no password line")
        return password
    if not sys.stdin.isatty():
        raise MailerError(
            "no terminal to type the password at: give it on standard input with --password-stdin"
        )
    from mailer.accounts.passwords import check_new_password

    first: str = typer.prompt("Password", hide_input=True)
    check_new_password(first, email)
    second: str = typer.prompt("The same password again", hide_input=True)
    if first != second:
        raise MailerError("the two passwords typed differ; nothing was changed")
    return first


def shown_time(moment: datetime | None) -> str:
    """A time for a table, in UTC."""
    if moment is None:
        return "never"
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def sending(can_send: bool) -> str:
    return "can send" if can_send else "cannot send"
