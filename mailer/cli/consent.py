"""Consent, reversibly: ``mailer subscribers resubscribe`` brings back someone who left a
list (with the reason kept in the audit log), and ``mailer suppressions`` lists who is never
mailed."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING, Annotated

import typer

from mailer.cli.account_options import shown_time
from mailer.cli.context import app_context, out_console, print_json, print_json_array
from mailer.cli.errors import fields_as_options

if TYPE_CHECKING:
    import sqlalchemy as sa

    from mailer.audience.suppressions import Suppression

JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


def resubscribe_command(
    ctx: typer.Context,
    email: Annotated[str, typer.Argument(help="The address.")],
    list_name: Annotated[str, typer.Option("--list", "-l", help="The list they left.")],
    reason: Annotated[
        str, typer.Option(help="Why, e.g. 'asked by email' (kept in the audit log).")
    ],
    confirmed: Annotated[
        bool,
        typer.Option("--confirmed", help="On a double opt-in list: they already agreed again."),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Subscribe someone who unsubscribed from a list again, saying why. A suppression for
    leaving every list is lifted with it; any other suppression must be lifted first."""
    from mailer.accounts.roles import Principal
    from mailer.actions import subscribers as actions

    with fields_as_options({"email": "EMAIL", "reason": "--reason"}):
        view = actions.resubscribe(
            app_context(ctx).mailer,
            Principal.cli(),
            email,
            list_name=list_name,
            reason=reason,
            confirmed=confirmed,
        )
    if as_json:
        print_json(view.as_json())
        return
    detail = view.detail
    status = next(m.status for m in detail.memberships if m.list_name == list_name)
    out_console().print(
        f"Resubscribed {detail.subscriber.email} to {list_name} ({status}).", markup=False
    )


def _line(address: str, reason: str, when: str, detail: str, width: int | None) -> str:
    # A plain line per row, so a table of any size is written as it is read; an address
    # longer than its column pushes the rest of its own line only, and a detail that does
    # not fit the terminal goes below.
    from mailer.cli.table_fit import row_lines

    return row_lines(f"{address:<32} {reason:<11} {when:<20}", detail, width)


def _table(found: Iterable[Suppression]) -> int:
    from mailer.cli.table_fit import line_width

    width = line_width()
    write = sys.stdout.write
    write(_line("address", "reason", "since", "detail", width))
    count = 0
    for suppression in found:
        address = suppression.email or "(erased)"
        detail = " ".join(suppression.detail.split())  # one line each, whatever the note holds
        since = shown_time(suppression.created_at)
        write(_line(address, suppression.reason, since, detail, width))
        count += 1
    return count


def suppressions_command(
    ctx: typer.Context,
    reason: Annotated[
        str | None,
        typer.Option(help="Only these: bounce, spamreport, unsubscribe, manual or invalid."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Every suppressed address (never mailed, whatever list it is on) by address, with why
    and since when; those erased on request, of which only a hash is left, come last."""
    from mailer.audience.suppression_listing import iter_suppressions

    found = iter_suppressions(app_context(ctx).engine, reason)
    if as_json:
        print_json_array(suppression.as_json() for suppression in found)
        return
    count = _table(found)
    out_console().print(f"{count} suppression{'s' if count != 1 else ''}.")


def suppression_note(engine: sa.Engine, email: str) -> str:
    """For ``subscribers show`` on an address that is no subscriber: what to add to "no
    subscriber" when the address is suppressed all the same (else "")."""
    from mailer.audience.addresses import require_address
    from mailer.audience.suppressions import find_suppression

    with engine.connect() as connection:
        found = find_suppression(connection, require_address(email).key)
    if found is None:
        return ""
    note = " ".join(found.detail.split())
    detail = f": {note}" if note else ""
    when = shown_time(found.created_at)
    return f", but the address is suppressed ({found.reason} since {when}{detail})"


def register(app: typer.Typer) -> None:
    from mailer.cli.subscribers import subscribers_app

    subscribers_app.command("resubscribe")(resubscribe_command)
    app.command("suppressions")(suppressions_command)
