"""``mailer campaigns``: list, show, pause, resume, cancel and resolve campaigns."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from mailer.cli.campaign_words import campaign_json, campaign_message, counts_line, not_sent
from mailer.cli.context import app_context, err_console, out_console, print_json

if TYPE_CHECKING:
    from rich.table import Table

    from mailer.delivery.campaigns import Campaign

campaigns_app = typer.Typer(help="Campaigns: what was sent, what is sending, what is paused.")
JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
# Ids are 32-bit on PostgreSQL: a larger number is no campaign, and must not reach the query.
IdArgument = Annotated[
    int, typer.Argument(min=1, max=2**31 - 1, help="Campaign id (see `mailer campaigns`).")
]


def _when(campaign: Campaign) -> tuple[str, str]:
    """The moment that matters for a campaign (when it goes out, or a draft's planned time;
    else when it started or was made), in its own zone and in UTC."""
    from mailer.scheduling.one_off import local_and_utc

    moment = (
        campaign.scheduled_at
        if campaign.status in ("scheduled", "missed", "draft") and campaign.scheduled_at
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
    from mailer.cli.worker_warning import overdue_warnings
    from mailer.services.campaigns import all_campaigns

    mailer = app_context(ctx).mailer
    found = all_campaigns(mailer)
    warnings = overdue_warnings(mailer, found)
    for warning in warnings.values():
        err_console().print(f"warning: {warning}", markup=False)
    if as_json:
        print_json(
            [campaign_json(campaign) | {"warning": warnings.get(campaign.id)} for campaign in found]
        )
        return
    if not found:
        out_console().print("No campaigns yet: `mailer send ISSUE --list NAME` starts one.")
        return
    console = out_console()
    console.print(_table(found, console.width))


def _table(found: list[Campaign], width: int) -> Table:
    """The campaigns, with a time in the campaign's zone and in UTC; where both do not fit,
    one: the zone's (named in it) or else UTC."""
    from mailer.cli.table_fit import Col, fits, fitted_table

    def columns(*when: Col) -> list[Col]:
        return [
            Col("id", whole=True),
            Col("status"),
            Col("issue", whole=True),
            Col("list", whole=True),
            *when,
            Col("sent/total", whole=True),
        ]

    def row(campaign: Campaign, when: list[str]) -> list[str]:
        status = campaign.status
        if campaign.local_time:
            status += f" ({campaign.local_time} their time)"
        sent = f"{campaign.counts['sent']}/{campaign.counts['total']}"
        return [
            str(campaign.id),
            status,
            f"#{campaign.issue_number}",
            campaign.list_name,
            *when,
            sent,
        ]

    times = [_when(campaign) for campaign in found]
    both = columns(Col("when (local)", whole=True), Col("when (UTC)", whole=True))
    rows = [row(campaign, list(when)) for campaign, when in zip(found, times, strict=True)]
    if fits(both, rows, width):
        return fitted_table(both, rows, width)
    one = [
        row(campaign, [local or utc]) for campaign, (local, utc) in zip(found, times, strict=True)
    ]
    return fitted_table(columns(Col("when", whole=True)), one, width)


def _print(campaign: Campaign) -> None:
    from mailer.delivery.campaigns import iso
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
    console.print(f"  {'counts:':11}{counts_line(campaign)}", markup=False)
    if campaign.confirmed_by_events:
        console.print(
            f"  {'confirmed:':11}{campaign.confirmed_by_events} in-doubt recipients, "
            "by SendGrid's events (counted as sent)",
            markup=False,
        )
    if message := campaign_message(campaign):
        console.print(f"  {'message:':11}{message}", markup=False, highlight=False)


def _content(campaign: Campaign) -> str:
    if campaign.started_at is not None:
        return "as stored when it started (what went out)"
    if campaign.status == "draft":
        return f"{campaign.issue_file} as it is when it is sent (a draft: nothing is due)"
    if campaign.status in ("scheduled", "paused"):
        return (
            f"{campaign.issue_file} as it is when it starts (when scheduled, its subject "
            f"was \u201c{campaign.subject}\u201d)"
        )
    return "none: it never started"


@campaigns_app.command("show")
def show_command(ctx: typer.Context, campaign_id: IdArgument, as_json: JsonOption = False) -> None:
    """One campaign: state, issue, list, times (UTC) and ledger counts."""
    from mailer.services.campaigns import show

    campaign = show(app_context(ctx).mailer, campaign_id)
    if as_json:
        print_json(campaign_json(campaign))
    else:
        _print(campaign)


@campaigns_app.command("pause")
def pause_command(ctx: typer.Context, campaign_id: IdArgument, as_json: JsonOption = False) -> None:
    """Stop sending before the next batch; `resume` continues."""
    from mailer.services.campaigns import pause

    campaign = pause(app_context(ctx).mailer, campaign_id)
    if as_json:
        print_json(campaign_json(campaign))
        return
    out_console().print(f"Campaign {campaign.id} is paused.")


@campaigns_app.command("cancel")
def cancel_command(
    ctx: typer.Context, campaign_id: IdArgument, as_json: JsonOption = False
) -> None:
    """Stop for good before the next batch; what was sent stays sent."""
    from mailer.services.campaigns import cancel

    campaign = cancel(app_context(ctx).mailer, campaign_id)
    if as_json:
        print_json(campaign_json(campaign))
        return
    unsent = f"; {not_sent(campaign)} will not be" if not_sent(campaign) else ""
    out_console().print(
        f"Campaign {campaign.id} is cancelled ({campaign.counts['sent']} were sent before{unsent})."
    )


@campaigns_app.command("resume")
def resume_command(
    ctx: typer.Context, campaign_id: IdArgument, as_json: JsonOption = False
) -> None:
    """Continue a paused or interrupted campaign in the foreground."""
    from mailer.cli.dispatch_run import run_campaign
    from mailer.scheduling.one_off import shown
    from mailer.services.campaigns import Resumed, resume

    context = app_context(ctx)
    resumed = resume(context.mailer, campaign_id)
    campaign = resumed.campaign
    if as_json and resumed.outcome is not Resumed.sending:
        print_json(campaign_json(campaign))  # the worker sends it: nothing runs here
        return
    if resumed.outcome is Resumed.waiting:
        assert campaign.scheduled_at is not None
        out_console().print(
            f"Campaign {campaign.id} is scheduled again for "
            f"{shown(campaign.scheduled_at, campaign.zone)}."
        )
        return
    if resumed.outcome is Resumed.waves:
        out_console().print(
            f"Campaign {campaign_id} is sending at {campaign.local_time} in each subscriber's "
            "zone; `mailer worker` sends each wave when it is due."
        )
        return
    transport = context.mailer.transport(campaign.transport)
    raise typer.Exit(run_campaign(context, campaign_id, transport, as_json=as_json))


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
    from mailer.scheduling.one_off import shown
    from mailer.services.campaigns import reschedule

    campaign = reschedule(app_context(ctx).mailer, campaign_id, at, tz)
    if as_json:
        print_json(campaign_json(campaign))
    else:
        assert campaign.scheduled_at is not None
        when = shown(campaign.scheduled_at, campaign.zone)
        out_console().print(f"Campaign {campaign_id} is scheduled for {when}.")


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
    resend_unconfirmed: Annotated[
        bool,
        typer.Option(
            "--resend-unconfirmed",
            help="Send again only those SendGrid's events did not confirm, once "
            "[delivery] in_doubt_quiet_minutes have passed.",
        ),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Decide what happened to recipients whose request's answer was lost. Those SendGrid's
    events confirmed are marked sent first, whichever you choose."""
    from mailer.cli.dispatch_run import run_campaign
    from mailer.errors import MailerError
    from mailer.services.campaigns import resolve

    if resend + mark_sent + resend_unconfirmed != 1:
        raise MailerError(
            "say what happened: --resend, --mark-sent or --resend-unconfirmed (one of them)"
        )
    context = app_context(ctx)
    sending = resend or resend_unconfirmed
    resolved = resolve(context.mailer, campaign_id, resend=sending, unconfirmed=resend_unconfirmed)
    campaign, count = resolved.campaign, resolved.count
    confirmed = (
        f"{resolved.confirmed} in-doubt recipients confirmed by SendGrid's events (marked sent); "
    )
    if not sending or not count:
        if as_json:
            print_json(campaign_json(campaign))
        elif not sending:
            out_console().print(
                f"Campaign {campaign_id}: {confirmed}{count} in-doubt recipients marked sent."
            )
        else:
            out_console().print(f"Campaign {campaign_id}: {confirmed}nothing to resend.")
        return
    if not as_json:
        out_console().print(
            f"Campaign {campaign_id}: {confirmed}resending {count} in-doubt recipients."
        )
    transport = context.mailer.transport(campaign.transport)
    raise typer.Exit(run_campaign(context, campaign_id, transport, as_json=as_json))


def register(app: typer.Typer) -> None:
    from mailer.cli import campaign_recipients, campaign_report

    campaign_recipients.register(campaigns_app)
    campaign_report.register(campaigns_app)
    app.add_typer(campaigns_app, name="campaigns")
