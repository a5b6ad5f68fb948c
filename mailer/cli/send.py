"""``mailer send`` and ``mailer test-send``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from mailer.cli.context import AppContext, app_context, out_console, print_json
from mailer.cli.dispatch_run import run_campaign
from mailer.errors import MailerError

if TYPE_CHECKING:
    from mailer.delivery.sending import SendPlan

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
    at: Annotated[
        str | None,
        typer.Option(
            "--at",
            help="Schedule instead: 2026-11-23T09:00, '2026-11-23 09:00', "
            "'tomorrow 09:00' or +2h (read in --tz).",
        ),
    ] = None,
    tz: Annotated[
        str | None, typer.Option("--tz", help="Zone of --at (default: newsletter.timezone).")
    ] = None,
    local_time: Annotated[
        str | None,
        typer.Option(
            "--local-time",
            help="Deliver to each subscriber at this time (HH:MM) in their own zone, "
            "the next time it comes round after the start (--at, else now).",
        ),
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Send an issue to a list now, in the foreground, or schedule it (--at, --local-time)
    for `mailer worker` to send."""
    from mailer.delivery.sending import plan_send, start_campaign
    from mailer.delivery.transports.factory import make_transport

    context = app_context(ctx)
    settings = context.settings
    if tz is not None and at is None:
        raise MailerError("--tz says which zone --at is in; give --at too")
    plan = plan_send(
        context.engine, settings, context.renderer, issue, list_name,
        segment=segment, transport=transport,
    )  # fmt: skip
    sender = make_transport(plan.transport, settings)
    if at is not None or local_time is not None:
        sender.close()  # made to check the transport's settings now, not at send time
        _schedule(context, plan, at, tz, local_time, yes=yes, as_json=as_json)
        return
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


def _schedule(
    context: AppContext,
    plan: SendPlan,
    at: str | None,
    tz: str | None,
    local_time: str | None,
    *,
    yes: bool,
    as_json: bool,
) -> None:
    from mailer.clock import utc_now
    from mailer.delivery.campaigns import show_campaign
    from mailer.delivery.local_time import parse_clock
    from mailer.scheduling.one_off import schedule_campaign, shown
    from mailer.scheduling.when import parse_when, zone_named

    zone_name = tz or context.settings.newsletter.timezone
    zone = zone_named(zone_name, "--tz" if tz else "newsletter.timezone")
    now = utc_now()
    when = parse_when(at, zone, now) if at is not None else now
    if local_time is not None:
        local_time = f"{parse_clock(local_time):%H:%M}"
    how = f", each subscriber at {local_time} their time" if local_time else ""
    if not yes:
        typer.confirm(
            f"Schedule #{plan.rendered.issue.number} \u201c{plan.rendered.subject}\u201d to "
            f"{plan.recipients} recipients (today) on {plan.mailing_list.name!r} via "
            f"{plan.transport} for {shown(when, zone_name)}{how}?",
            abort=True,
        )
    if at is not None and when <= utc_now():  # the question took longer than the time left
        raise MailerError(f"--at {at!r}: {shown(when, zone_name)} has passed; give a later time")
    campaign_id = schedule_campaign(
        context.engine, plan, when, zone_name, local_clock=local_time, clock=utc_now
    )
    campaign = show_campaign(context.engine, campaign_id)
    if as_json:
        print_json(campaign.as_json())
        return
    out_console().print(
        f"Campaign {campaign_id} is scheduled for {shown(when, zone_name)}{how}. "
        "`mailer worker` sends it; the issue is rendered again then, so later edits go out."
    )


def test_send_command(
    ctx: typer.Context,
    issue: Annotated[str, typer.Argument(help="Issue number or file.")],
    to: Annotated[
        list[str],
        typer.Option("--to", help="Send a test copy to this reader: EMAIL or 'Name <EMAIL>'."),
    ],
    transport: TransportOption = None,
    as_json: JsonOption = False,
) -> None:
    """Send test copies (subject marked [TEST]) to addresses that need not be subscribers."""
    from mailer.audience.named_address import NamedAddress, named_address
    from mailer.delivery.sending import render_checked, send_test_copies
    from mailer.delivery.transports.base import AnswerLost, TransportError
    from mailer.delivery.transports.factory import check_transport_name, make_transport
    from mailer.signing import load_secret_key

    context = app_context(ctx)
    settings = context.settings
    # Each --to held to the rules an import applies; one copy per address however written.
    readers: dict[str, NamedAddress] = {}
    for text in to:
        reader = named_address(text, "--to")
        readers.setdefault(reader.address.key, reader)
    name = check_transport_name(transport or settings.transport.default)
    sender = make_transport(name, settings)
    rendered = render_checked(settings, context.renderer, issue)
    key = load_secret_key(settings.web.secret_key_env, settings.paths.var)
    addresses = [reader.address.email for reader in readers.values()]
    try:
        result = send_test_copies(settings, rendered, list(readers.values()), sender, key)
    except AnswerLost as exc:
        raise MailerError(
            f"the test copies may or may not have gone out via {name}: {exc}"
        ) from None
    except TransportError as exc:  # nothing was sent: a server down, a key refused
        raise MailerError(f"no test copy was sent via {name}: {exc}") from None
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
