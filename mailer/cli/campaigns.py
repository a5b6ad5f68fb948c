"""``mailer campaigns``: list, show, pause, resume, cancel and resolve campaigns."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from mailer.cli.context import AppContext, app_context, out_console, print_json
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
# Ids are 32-bit on PostgreSQL: a larger number is no campaign, and must not reach the query.
IdArgument = Annotated[
    int, typer.Argument(min=1, max=2**31 - 1, help="Campaign id (see `mailer campaigns`).")
]


def _when(campaign: Campaign) -> tuple[str, str]:
    """The moment that matters for a campaign (when it goes out, else when it started or was
    made), in its own zone and in UTC."""
    from mailer.scheduling.one_off import local_and_utc

    moment = (
        campaign.scheduled_at
        if campaign.status in ("scheduled", "missed")
        else campaign.started_at or campaign.created_at
    )
    if moment is None:
        return "", ""
    return local_and_utc(moment, campaign.zone)


@campaigns_app.callback(invoke_without_command=True)
def campaigns_command(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Every campaign: upcoming sends first (soonest first), then the rest, newest first."""
    if ctx.invoked_subcommand is not None:
        return
    found = all_campaigns(app_context(ctx).engine)
    if as_json:
        print_json([campaign.as_json() for campaign in found])
        return
    if not found:
        out_console().print("No campaigns yet: `mailer send ISSUE --list NAME` starts one.")
        return
    table = Table("id", "status", "issue", "list", "when (local)", "when (UTC)", "sent/total")
    for column in table.columns[4:6]:
        column.no_wrap = True
    for campaign in found:
        local, utc = _when(campaign)
        status = campaign.status
        if campaign.local_time:
            status += f" ({campaign.local_time} their time)"
        table.add_row(
            str(campaign.id), status, f"#{campaign.issue_number}", campaign.list_name,
            local, utc, f"{campaign.counts['sent']}/{campaign.counts['total']}",
        )  # fmt: skip
    out_console().print(table)


def _print(campaign: Campaign) -> None:
    from mailer.scheduling.one_off import shown

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
        ("schedule", campaign.schedule_name),
        ("created", iso(campaign.created_at)),
        ("scheduled", campaign.scheduled_at and shown(campaign.scheduled_at, campaign.zone)),
        ("delivery", campaign.local_time and f"{campaign.local_time} in each subscriber's zone"),
        ("started", iso(campaign.started_at)),
        ("next wave", campaign.waiting_until and shown(campaign.waiting_until, campaign.zone)),
        ("finished", iso(campaign.finished_at)),
        ("content", _content(campaign)),
    ]
    for label, value in rows:
        if value:
            console.print(f"  {label + ':':11}{value}", markup=False, highlight=False)
    counts = ", ".join(f"{name} {count}" for name, count in campaign.counts.items())
    console.print(f"  {'counts:':11}{counts}", markup=False)
    if campaign.message:
        console.print(f"  {'message:':11}{campaign.message}", markup=False, highlight=False)


def _content(campaign: Campaign) -> str:
    if campaign.started_at is not None:
        return "as stored when it started (what went out)"
    if campaign.status in ("scheduled", "paused"):
        return (
            f"{campaign.issue_file} as it is when it starts (when scheduled, its subject "
            f"was \u201c{campaign.subject}\u201d)"
        )
    return "none: it never started"


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
    from mailer.clock import utc_now
    from mailer.delivery.sending import resume_campaign
    from mailer.delivery.transports.factory import make_transport

    context = app_context(ctx)
    campaign = show_campaign(context.engine, campaign_id)
    transport = make_transport(campaign.transport, context.settings)
    if campaign.status == "paused" and campaign.started_at is None:
        if campaign.scheduled_at is not None and campaign.scheduled_at > utc_now():
            transport.close()  # paused before its time: it goes back to waiting for it
            _unpause_scheduled(context, campaign)
            return
        _start_paused(context, campaign)
    else:
        resume_campaign(context.engine, campaign_id)
    if campaign.local_time:
        transport.close()
        out_console().print(
            f"Campaign {campaign_id} is sending at {campaign.local_time} in each subscriber's "
            "zone; `mailer worker` sends each wave when it is due."
        )
        return
    raise typer.Exit(run_campaign(context, campaign_id, transport, as_json=as_json))


def _unpause_scheduled(context: AppContext, campaign: Campaign) -> None:
    from mailer.clock import utc_now
    from mailer.db.engine import write_transaction
    from mailer.delivery.campaigns import move_campaign
    from mailer.scheduling.one_off import shown

    assert campaign.scheduled_at is not None
    with write_transaction(context.engine) as connection:
        move_campaign(connection, campaign.id, ("paused",), "scheduled", utc_now(), message="")
    out_console().print(
        f"Campaign {campaign.id} is scheduled again for "
        f"{shown(campaign.scheduled_at, campaign.zone)}."
    )


def _start_paused(context: AppContext, campaign: Campaign) -> None:
    """A scheduled campaign that could not start at its time (the issue had errors, the list
    was empty): render and start it now."""
    from mailer.errors import MailerError
    from mailer.scheduling.one_off import begin_sending

    start = begin_sending(
        context.engine, context.settings, context.renderer, campaign.id,
        owner=None, from_state="paused",
    )  # fmt: skip
    if start.outcome != "started":
        raise MailerError(start.message)


@campaigns_app.command("reschedule")
def reschedule_command(
    ctx: typer.Context,
    campaign_id: IdArgument,
    at: Annotated[
        str, typer.Option("--at", help="New time: 2026-11-23T09:00, 'tomorrow 09:00', +2h...")
    ],
    tz: Annotated[
        str | None,
        typer.Option("--tz", help="Zone of --at (default: the campaign's, else the newsletter's)."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Move a scheduled (or missed) campaign to another time."""
    from mailer.clock import utc_now
    from mailer.scheduling.one_off import reschedule_campaign, shown
    from mailer.scheduling.when import parse_when, zone_named

    context = app_context(ctx)
    current = show_campaign(context.engine, campaign_id)
    zone_name = tz or current.zone or context.settings.newsletter.timezone
    zone = zone_named(zone_name, "--tz" if tz else "the campaign's zone")
    when = parse_when(at, zone, utc_now())
    campaign = reschedule_campaign(context.engine, campaign_id, when, zone_name)
    if as_json:
        print_json(campaign.as_json())
    else:
        out_console().print(f"Campaign {campaign_id} is scheduled for {shown(when, zone_name)}.")


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
