"""``mailer send`` and ``mailer test-send``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from mailer.cli.campaign_words import campaign_json
from mailer.cli.context import app_context, out_console, print_json
from mailer.errors import MailerError

if TYPE_CHECKING:
    from mailer.app import Mailer
    from mailer.delivery.sending import SendPlan
    from mailer.services.sends import SendTime

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
    again: Annotated[
        bool,
        typer.Option(
            "--again",
            help="Send even though the list got this issue already (or a campaign of it to "
            "the list is scheduled, sending or paused).",
        ),
    ] = False,
    allow_draft: Annotated[
        bool,
        typer.Option("--allow-draft", help="Send even though the issue says status: draft."),
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Send an issue to a list now, in the foreground, or schedule it (--at, --local-time)
    for `mailer worker` to send."""
    from mailer.cli.dispatch_run import run_campaign
    from mailer.services import sends

    context = app_context(ctx)
    mailer = context.mailer
    if tz is not None and at is None:
        raise MailerError("--tz says which zone --at is in; give --at too")
    plan = sends.plan(
        mailer,
        issue,
        list_name,
        segment=segment,
        transport=transport,
        again=again,
        allow_draft=allow_draft,
    )
    when = sends.send_time(mailer, at, tz, local_time)
    if when is not None:
        _schedule(mailer, plan, when, yes=yes, as_json=as_json)
        return
    if not yes:
        typer.confirm(
            f"Send #{plan.rendered.issue.number} \u201c{plan.rendered.subject}\u201d to "
            f"{plan.recipients} recipients on {list_name!r} via {plan.transport}?",
            abort=True,
        )
    sender = mailer.transport(plan.transport)
    campaign_id = sends.send_now(mailer, plan)
    # The bar's total: the audience just counted (counting the new ledger again takes a
    # while for a large list).
    total = plan.recipients
    raise typer.Exit(run_campaign(context, campaign_id, sender, as_json=as_json, total=total))


def _schedule(mailer: Mailer, plan: SendPlan, when: SendTime, *, yes: bool, as_json: bool) -> None:
    from mailer.services import sends

    how = f", each subscriber at {when.local_time} their time" if when.local_time else ""
    if not yes:
        typer.confirm(
            f"Schedule #{plan.rendered.issue.number} \u201c{plan.rendered.subject}\u201d to "
            f"{plan.recipients} recipients (today) on {plan.mailing_list.name!r} via "
            f"{plan.transport} for {when.shown()}{how}?",
            abort=True,
        )
    campaign = sends.schedule(mailer, plan, when)
    if as_json:
        print_json(campaign_json(campaign))
        return
    out_console().print(
        f"Campaign {campaign.id} is scheduled for {when.shown()}{how}. "
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
    from mailer.delivery.transports.factory import check_transport_name
    from mailer.render.output import stored_readers

    context = app_context(ctx)
    mailer = context.mailer
    settings = mailer.settings
    # Each --to held to the rules an import applies; one copy per address however written.
    readers: dict[str, NamedAddress] = {}
    for text in to:
        reader = named_address(text, "to")
        readers.setdefault(reader.address.key, reader)
    name = check_transport_name(transport or settings.transport.default)
    sender = mailer.transport(name)
    rendered = render_checked(settings, mailer.renderer, issue)
    key = mailer.signing_key
    addresses = [reader.address.email for reader in readers.values()]
    try:
        known = stored_readers(mailer, [reader.address for reader in readers.values()])
        result = send_test_copies(settings, rendered, list(readers.values()), sender, key, known)
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
