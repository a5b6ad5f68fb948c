"""``mailer send`` and ``mailer test-send``."""

from __future__ import annotations

from typing import Annotated

import typer

from mailer.cli.context import app_context, out_console, print_json
from mailer.cli.dispatch_run import run_campaign

JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
TransportOption = Annotated[
    str | None,
    typer.Option("--transport", "-t", help="sendgrid, smtp or outbox (default: from config)."),
]


def send_command(
    ctx: typer.Context,
    issue: Annotated[str, typer.Argument(help="Issue number or file.")],
    list_name: Annotated[str, typer.Option("--list", "-l", help="Mailing list name.")],
    segment: Annotated[
        str | None, typer.Option(help="Only members matching, e.g. 'country = \"CN\"'.")
    ] = None,
    transport: TransportOption = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Send an issue to a list now, in the foreground."""
    from mailer.delivery.sending import plan_send, start_campaign
    from mailer.delivery.transports.factory import make_transport

    context = app_context(ctx)
    settings = context.settings
    plan = plan_send(
        context.engine, settings, context.renderer, issue, list_name,
        segment=segment, transport=transport,
    )  # fmt: skip
    sender = make_transport(plan.transport, settings)
    if not yes:
        typer.confirm(
            f"Send #{plan.rendered.issue.number} \u201c{plan.rendered.subject}\u201d to "
            f"{plan.recipients} recipients on {list_name!r} via {plan.transport}?",
            abort=True,
        )
    campaign_id = start_campaign(context.engine, plan)
    # The bar's total: the audience just counted (counting the new ledger again takes a
    # while for a large list).
    total = plan.recipients
    raise typer.Exit(run_campaign(context, campaign_id, sender, as_json=as_json, total=total))


def test_send_command(
    ctx: typer.Context,
    issue: Annotated[str, typer.Argument(help="Issue number or file.")],
    to: Annotated[list[str], typer.Option("--to", help="Address to send a test copy to.")],
    transport: TransportOption = None,
    as_json: JsonOption = False,
) -> None:
    """Send test copies (subject marked [TEST]) to addresses that need not be subscribers."""
    from mailer.delivery.sending import render_checked, send_test_copies
    from mailer.delivery.transports.factory import check_transport_name, make_transport
    from mailer.signing import load_secret_key

    context = app_context(ctx)
    settings = context.settings
    name = check_transport_name(transport or settings.transport.default)
    sender = make_transport(name, settings)
    rendered = render_checked(settings, context.renderer, issue)
    key = load_secret_key(settings.web.secret_key_env, settings.paths.var)
    addresses = list(dict.fromkeys(to))
    result = send_test_copies(settings, rendered, addresses, sender, key)
    refused = {addresses[index]: reason for index, reason in result.rejected.items()}
    if as_json:
        print_json(
            {"transport": name, "sent": [a for a in addresses if a not in refused],
             "refused": refused, "message_id": result.message_id}
        )  # fmt: skip
    else:
        sent = len(addresses) - len(refused)
        out_console().print(f"Sent {sent} test cop{'y' if sent == 1 else 'ies'} via {name}.")
        for address, reason in refused.items():
            out_console().print(f"  {address}: {reason}", markup=False)
    if refused:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("send")(send_command)
    app.command("test-send")(test_send_command)
