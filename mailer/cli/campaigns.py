"""``mailer campaigns``: list, show, pause, resume, cancel and resolve campaigns."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from mailer.cli.context import app_context, out_console, print_json
from mailer.delivery.campaigns import (
    Campaign,
    all_campaigns,
    cancel_campaign,
    iso,
    pause_campaign,
    show_campaign,
)

campaigns_app = typer.Typer(help="Campaigns: what was sent, what is sending, what is paused.")
JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
IdArgument = Annotated[int, typer.Argument(help="Campaign id (see `mailer campaigns`).")]


@campaigns_app.callback(invoke_without_command=True)
def campaigns_command(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Every campaign, newest first."""
    if ctx.invoked_subcommand is not None:
        return
    found = all_campaigns(app_context(ctx).engine)
    if as_json:
        print_json([campaign.as_json() for campaign in found])
        return
    if not found:
        out_console().print("No campaigns yet: `mailer send ISSUE --list NAME` starts one.")
        return
    table = Table("id", "status", "issue", "list", "transport", "created (UTC)", "sent", "total")
    for campaign in found:
        table.add_row(
            str(campaign.id), campaign.status, f"#{campaign.issue_number}", campaign.list_name,
            campaign.transport, iso(campaign.created_at) or "", str(campaign.counts["sent"]),
            str(campaign.counts["total"]),
        )  # fmt: skip
    out_console().print(table)


def _print(campaign: Campaign) -> None:
    console = out_console()
    console.print(f"Campaign {campaign.id}: {campaign.status}", markup=False)
    rows = [
        ("issue", f"#{campaign.issue_number} ({campaign.issue_file})"),
        ("subject", campaign.subject or ""),
        (
            "list",
            campaign.list_name + (f" (segment {campaign.segment})" if campaign.segment else ""),
        ),
        ("transport", campaign.transport),
        ("created", iso(campaign.created_at)),
        ("scheduled", iso(campaign.scheduled_at)),
        ("started", iso(campaign.started_at)),
        ("finished", iso(campaign.finished_at)),
    ]
    for label, value in rows:
        if value:
            console.print(f"  {label + ':':11}{value}", markup=False, highlight=False)
    counts = ", ".join(f"{name} {count}" for name, count in campaign.counts.items())
    console.print(f"  {'counts:':11}{counts}", markup=False)
    if campaign.message:
        console.print(f"  {'message:':11}{campaign.message}", markup=False, highlight=False)


@campaigns_app.command("show")
def show_command(ctx: typer.Context, campaign_id: IdArgument, as_json: JsonOption = False) -> None:
    """One campaign: state, issue, list, times (UTC) and ledger counts."""
    campaign = show_campaign(app_context(ctx).engine, campaign_id)
    if as_json:
        print_json(campaign.as_json())
    else:
        _print(campaign)


@campaigns_app.command("pause")
def pause_command(ctx: typer.Context, campaign_id: IdArgument) -> None:
    """Stop sending before the next batch; `resume` continues."""
    campaign = pause_campaign(app_context(ctx).engine, campaign_id)
    out_console().print(f"Campaign {campaign.id} is paused.")


@campaigns_app.command("cancel")
def cancel_command(ctx: typer.Context, campaign_id: IdArgument) -> None:
    """Stop for good before the next batch; what was sent stays sent."""
    campaign = cancel_campaign(app_context(ctx).engine, campaign_id)
    out_console().print(
        f"Campaign {campaign.id} is cancelled ({campaign.counts['sent']} were sent before)."
    )


@campaigns_app.command("resume")
def resume_command(
    ctx: typer.Context, campaign_id: IdArgument, as_json: JsonOption = False
) -> None:
    """Continue a paused or interrupted campaign in the foreground."""
    from mailer.cli.dispatch_run import run_campaign
    from mailer.delivery.sending import resume_campaign
    from mailer.delivery.transports.factory import make_transport

    context = app_context(ctx)
    name = show_campaign(context.engine, campaign_id).transport
    transport = make_transport(name, context.settings)
    resume_campaign(context.engine, campaign_id)
    raise typer.Exit(run_campaign(context, campaign_id, transport, as_json=as_json))


@campaigns_app.command("resolve")
def resolve_command(
    ctx: typer.Context,
    campaign_id: IdArgument,
    resend: Annotated[
        bool, typer.Option("--resend", help="Send the in-doubt recipients again.")
    ] = False,
    mark_sent: Annotated[
        bool, typer.Option("--mark-sent", help="Count the in-doubt recipients as sent.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Decide what happened to recipients whose request's answer was lost."""
    from mailer.cli.dispatch_run import run_campaign
    from mailer.delivery.sending import resolve_campaign
    from mailer.delivery.transports.factory import make_transport
    from mailer.errors import MailerError

    if resend == mark_sent:
        raise MailerError("say what happened: --resend or --mark-sent (one of them)")
    context = app_context(ctx)
    transport = None
    if resend:  # set up first: a missing key must fail before anything changes
        transport = make_transport(show_campaign(context.engine, campaign_id).transport,
                                   context.settings)  # fmt: skip
    count, _ = resolve_campaign(context.engine, campaign_id, resend=resend)
    if transport is None:
        campaign = show_campaign(context.engine, campaign_id)
        if as_json:
            print_json(campaign.as_json())
        else:
            out_console().print(f"Campaign {campaign_id}: {count} in-doubt recipients marked sent.")
        return
    if not as_json:
        out_console().print(f"Campaign {campaign_id}: resending {count} in-doubt recipients.")
    raise typer.Exit(run_campaign(context, campaign_id, transport, as_json=as_json))


def register(app: typer.Typer) -> None:
    app.add_typer(campaigns_app, name="campaigns")
