"""``mailer campaigns recipients ID``: who a campaign was for, what happened to each, and why
(the reason a delivery failed, was skipped or is in doubt). Printed as the rows are read, a
page at a time, so a million-recipient campaign is never held in memory."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from mailer.cli.context import app_context

# mailer.db.tables.DELIVERY_STATUSES, for the help of --status (a test holds the two equal):
# importing the tables would load SQLAlchemy for every `mailer --help`.
DELIVERY_STATUSES = ("waiting", "pending", "in_flight", "sent", "failed", "skipped", "in_doubt")
IdArgument = Annotated[
    int, typer.Argument(min=1, max=2**31 - 1, help="Campaign id (see `mailer campaigns`).")
]
COLUMNS = ("email", "name", "status", "batch", "updated (UTC)", "reason")


def recipients_command(
    ctx: typer.Context,
    campaign_id: IdArgument,
    status: Annotated[
        str | None,
        typer.Option(
            "--status",
            help=f"Only recipients in this state: {', '.join(DELIVERY_STATUSES)}.",
            show_default=False,
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Who the campaign was for: address, name, state, batch, when it last changed, and the
    reason (why it failed, was skipped or is in doubt). Tab-separated, one line each."""
    from mailer.delivery.campaigns import iso
    from mailer.services.campaign_recipients import recipients

    rows = recipients(app_context(ctx).mailer, campaign_id, status)
    out = sys.stdout
    if as_json:
        # A JSON array written as it is read: one recipient per line.
        separator = "[\n"
        for row in rows:
            out.write(separator + json.dumps(row.as_json(), ensure_ascii=False))
            separator = ",\n"
        out.write("[]\n" if separator == "[\n" else "\n]\n")
        return
    out.write("\t".join(COLUMNS) + "\n")
    for row in rows:
        batch = "" if row.batch_id is None else str(row.batch_id)
        cells = (
            row.email,
            row.name,
            row.status,
            batch,
            iso(row.updated_at) or "",
            row.reason or "",
        )
        # A tab or line break in a name or a provider's reason would split the line.
        out.write("\t".join(" ".join(cell.split()) for cell in cells) + "\n")


def register(app: typer.Typer) -> None:
    app.command("recipients")(recipients_command)
