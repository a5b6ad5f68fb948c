"""``mailer campaigns report ID``: what happened to a campaign's mail, from SendGrid's
events (see ``mailer.events.report`` for how each number is counted)."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from mailer.cli.context import app_context, out_console, print_json

IdArgument = Annotated[
    int, typer.Argument(min=1, max=2**31 - 1, help="Campaign id (see `mailer campaigns`).")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


def _percent(rate: float | None) -> str:
    return "-" if rate is None else f"{rate * 100:.2f}%"


def _summary(data: dict[str, Any]) -> Table:
    bounced, dropped, unsubscribes = data["bounced"], data["dropped"], data["unsubscribes"]
    opens, clicks = data["opens"], data["clicks"]
    table = Table("", "recipients", "detail", title="Outcome")
    rows = [
        ("sent", data["sent"], "per the ledger"),
        ("delivered", data["delivered"], ""),
        ("deferred", data["deferred"]["recipients"], f"{data['deferred']['events']} deferrals"),
        ("bounced: permanent", bounced["permanent"], ""),
        ("bounced: temporary", bounced["temporary"], "blocked and other temporary failures"),
        ("dropped", dropped["recipients"], ""),
        ("spam reports", data["spam_reports"], ""),
        ("unsubscribed: one-click", unsubscribes["one_click"], "from the list, since the send"),
        ("unsubscribed: page", unsubscribes["page"], "from the list, since the send"),
        ("unsubscribed: SendGrid", unsubscribes["sendgrid"], "SendGrid's own links"),
        ("opened", opens["unique"], f"{opens['total']} opens"),
        (
            "opened (no machine opens)",
            opens["unique_without_machine"],
            f"{opens['total_without_machine']} opens",
        ),
        ("clicked", clicks["unique"], f"{clicks['total']} clicks"),
        (
            "clicked (no automated clicks)",
            clicks["unique_without_automated"],
            f"{clicks['total_without_automated']} clicks",
        ),
        ("click-through rate", _percent(data["click_through_rate"]), "clickers / delivered"),
        (
            "click-through rate (no automated)",
            _percent(data["click_through_rate_without_automated"]),
            "",
        ),
    ]
    for label, value, detail in rows:
        table.add_row(label, str(value), detail)
    return table


def _reasons(data: dict[str, Any]) -> Table:
    table = Table("bounce or drop", "reason", "recipients", "events", title="Why")
    for row in data["bounced"]["by_classification"]:
        kind = "permanent" if row["type"] == "bounce" else f"temporary ({row['type']})"
        table.add_row(
            kind, row["classification"] or "-", str(row["recipients"]), str(row["events"])
        )
    for row in data["dropped"]["by_reason"]:
        table.add_row("dropped", row["reason"] or "-", str(row["recipients"]), str(row["events"]))
    return table


def _links(data: dict[str, Any]) -> Table:
    table = Table("url", "unique", "total", "unique (no automated)", title="Links")
    for link in data["links"]:
        counts = (link["unique"], link["total"], link["unique_without_automated"])
        table.add_row(link["url"], *(str(count) for count in counts))
    return table


def _timeline(data: dict[str, Any], console: Console) -> None:
    """One line per hour: a table with a column per kind would be too wide for a terminal."""
    console.print("Events by hour (UTC):")
    for hour in data["timeline"]:
        counts = ", ".join(f"{kind} {count}" for kind, count in sorted(hour["events"].items()))
        console.print(f"  {hour['hour']}  {counts}", markup=False)


def _print(data: dict[str, Any], console: Console) -> None:
    campaign = data["campaign"]
    console.print(
        f"Campaign {campaign['id']}: issue #{campaign['issue']} to {campaign['list']} "
        f"({campaign['status']}, started {campaign['started_at'] or 'never'})",
        markup=False,
    )
    console.print(_summary(data))
    if data["bounced"]["by_classification"] or data["dropped"]["by_reason"]:
        console.print(_reasons(data))
    if data["links"]:
        console.print(_links(data))
    if data["timeline"]:
        _timeline(data, console)
    else:
        console.print("No events from SendGrid for this campaign yet.")


RecountOption = Annotated[
    bool,
    typer.Option(
        "--recount",
        help="Count from the stored events themselves rather than the tallies kept as they "
        "arrive (slow on a big campaign; a check of the tallies).",
    ),
]


def report_command(
    ctx: typer.Context,
    campaign_id: IdArgument,
    as_json: JsonOption = False,
    recount: RecountOption = False,
) -> None:
    """What happened to a campaign's mail: delivered, bounced, dropped, complaints,
    unsubscribes, opens, clicks per link, and a timeline by hour (UTC)."""
    from mailer.events.report import campaign_report

    report = campaign_report(app_context(ctx).engine, campaign_id, recount=recount)
    data = report.as_json()
    if as_json:
        print_json(data)
    else:
        _print(data, out_console())


def register(campaigns_app: typer.Typer) -> None:
    campaigns_app.command("report")(report_command)
