"""``mailer subscribers``: find, show, add, unsubscribe, suppress and forget subscribers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from mailer.cli.context import app_context, err_console, out_console, print_json
from mailer.errors import MailerError, NotFoundError

if TYPE_CHECKING:
    from mailer.app import Mailer
    from mailer.audience.attributes import AttributeValue

subscribers_app = typer.Typer(help="Subscribers, imports, exports and suppressions.")
JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
ListOption = Annotated[str | None, typer.Option("--list", "-l", help="Mailing list name.")]


@subscribers_app.callback(invoke_without_command=True)
def subscribers_command(
    ctx: typer.Context,
    list_name: ListOption = None,
    status: Annotated[
        str | None, typer.Option(help="Only members with this status (needs --list).")
    ] = None,
    search: Annotated[
        str | None, typer.Option(help="Text found in the address or the name.")
    ] = None,
    segment: Annotated[
        str | None,
        typer.Option(help='Filter, e.g. \'country = "CN" and "ai" in tags\'.'),
    ] = None,
    limit: Annotated[
        int | None,
        typer.Option(min=1, max=10_000, help="Subscribers a page (default 50)."),
    ] = None,
    after: Annotated[
        str | None,
        typer.Option(help="Where the next page starts: the cursor printed under a page."),
    ] = None,
    offset: Annotated[
        int | None, typer.Option(min=0, max=2**31 - 1, help="Skip this many first.")
    ] = None,
    everyone: Annotated[
        bool, typer.Option("--all", help="Every match, no pages (written as it is read).")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Find subscribers, on a list or everywhere, in address order: a page at a time with how
    many match, or --all."""
    if ctx.invoked_subcommand is not None:
        return
    from mailer.audience.subscriber_listing import Filters
    from mailer.cli.subscriber_listing import PageRequest, print_listing

    context = app_context(ctx)
    print_listing(
        context.engine,
        Filters(list_name=list_name, status=status, search=search, segment=segment),
        PageRequest(limit=limit, after=after, offset=offset, everyone=everyone),
        as_json=as_json,
        config=context.config_path,
    )


def parse_attribute_options(pairs: list[str]) -> dict[str, AttributeValue]:
    """``--attr KEY=VALUE`` options; ``KEY=`` gives an empty value, which removes it."""
    from mailer.audience.attributes import attribute_value, check_attribute_key

    attributes: dict[str, AttributeValue] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise MailerError(f"--attr {pair!r}: write it as KEY=VALUE")
        key = check_attribute_key(key)
        attributes[key] = attribute_value(key, value)
    return attributes


@subscribers_app.command("add")
def add_command(
    ctx: typer.Context,
    emails: Annotated[list[str], typer.Argument(help="One or more addresses.")],
    list_name: Annotated[str, typer.Option("--list", "-l", help="Mailing list name.")],
    name: Annotated[str, typer.Option(help="The subscriber's name.")] = "",
    timezone: Annotated[str, typer.Option(help="IANA time zone, e.g. Asia/Shanghai.")] = "",
    attr: Annotated[
        list[str] | None,
        typer.Option("--attr", help="KEY=VALUE attribute; KEY= removes it. Repeatable."),
    ] = None,
    confirmed: Annotated[
        bool, typer.Option("--confirmed", help="Skip double opt-in: they already agreed.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Add addresses to a list (suppressed or unsubscribed ones are refused). On a double
    opt-in list, each is mailed a link to confirm, unless --confirmed."""
    from mailer.audience.subscribers import add_subscribers
    from mailer.audience.upsert import Outcome
    from mailer.services.confirmation import needs_confirmation

    attributes = parse_attribute_options(attr or [])
    mailer = app_context(ctx).mailer
    asking = not confirmed and needs_confirmation(mailer, list_name)
    if asking:
        mailer.transport().close()  # a transport that cannot work is refused before any add
    outcomes = add_subscribers(
        mailer.engine,
        emails,
        list_name,
        name=name,
        timezone=timezone,
        attributes={key: value for key, value in attributes.items() if value},
        confirmed=confirmed,
        remove_attributes=[key for key, value in attributes.items() if not value],
    )
    if as_json:
        print_json(
            [{"email": o.email, "outcome": o.outcome.value, "detail": o.detail} for o in outcomes]
        )
    else:
        for o in outcomes:
            detail = f" ({o.detail})" if o.detail else ""
            out_console().print(f"{o.email}: {o.outcome.value}{detail}")
    # Outcomes that leave the address off the list: exit code 1.
    off_the_list = (Outcome.SUPPRESSED, Outcome.UNSUBSCRIBED)
    refused = any(o.outcome in off_the_list for o in outcomes)
    if asking:
        added = [o.email for o in outcomes if o.outcome not in off_the_list]
        refused = not _mail_confirmations(mailer, list_name, added, as_json) or refused
    if refused:
        raise typer.Exit(1)


def _mail_confirmations(mailer: Mailer, list_name: str, emails: list[str], as_json: bool) -> bool:
    """Mail the unconfirmed among ``emails`` their link; False if any mail was not sent."""
    from mailer.services.confirmation import request_confirmations
    from mailer.services.notice_mail import NoticeNotSent

    try:
        sent = request_confirmations(mailer, list_name, emails)
    except NoticeNotSent as exc:
        raise MailerError(
            f"added to {list_name!r}, but no confirmation mail was sent: {exc}; "
            "adding them again sends it"
        ) from None
    said = err_console() if as_json else out_console()  # JSON output stays what it was
    for email in sent.sent:
        said.print(f"{email}: mailed a link to confirm")
    for email, reason in sent.refused.items():
        err_console().print(f"{email}: the confirmation mail was not sent: {reason}")
    return not sent.refused


@subscribers_app.command("confirm")
def confirm_command(
    ctx: typer.Context,
    email: Annotated[str, typer.Argument(help="The address.")],
    list_name: Annotated[str, typer.Option("--list", "-l", help="Mailing list name.")],
    as_json: JsonOption = False,
) -> None:
    """Confirm a member of a double opt-in list who said yes some other way (the consent
    record names the command line). Someone who unsubscribed is not brought back."""
    from mailer.services.confirmation import confirm_member
    from mailer.services.consent import Origin

    changed = confirm_member(app_context(ctx).mailer, email, list_name, Origin("command line"))
    if as_json:
        print_json(
            {"email": email.strip(), "list": list_name, "status": "confirmed", "changed": changed}
        )
        return
    state = "Confirmed" if changed else "Already confirmed:"
    out_console().print(f"{state} {email.strip()} on {list_name}.")


@subscribers_app.command("show")
def show_command(
    ctx: typer.Context,
    email: Annotated[str, typer.Argument(help="The address.")],
    as_json: JsonOption = False,
) -> None:
    """Everything stored about one subscriber, with the latest 50 deliveries and events."""
    from mailer.audience.subscriber_history import subscriber_history
    from mailer.audience.subscribers import show_subscriber
    from mailer.cli.consent import suppression_note

    engine = app_context(ctx).engine
    try:
        detail = show_subscriber(engine, email)
    except NotFoundError as exc:  # no subscriber: still say if the address is never mailed
        raise NotFoundError(f"{exc}{suppression_note(engine, email)}") from None
    with engine.connect() as connection:
        history = subscriber_history(connection, detail.subscriber.id)
    if as_json:
        print_json({**detail.as_json(), **history.as_json()})
        return
    console = out_console()
    subscriber = detail.subscriber
    console.print(f"{subscriber.email}  {subscriber.name}")
    console.print(f"  time zone: {subscriber.timezone or '-'}")
    for key, value in sorted(subscriber.attributes.items()):
        console.print(f"  {key}: {value}")
    for membership in detail.memberships:
        console.print(f"  list {membership.list_name}: {membership.status}")
    if detail.suppression:
        console.print(f"  suppressed: {detail.suppression.reason} {detail.suppression.detail}")
    for delivery in history.deliveries:
        outcome = f", {delivery.outcome}" if delivery.outcome else ""
        error = f": {delivery.error}" if delivery.error else ""
        line = f"  campaign {delivery.campaign_id} (#{delivery.issue_number}): {delivery.status}"
        console.print(line + outcome + error, markup=False)
    for event in history.events:
        said = event.as_json()
        where = f" campaign {event.campaign_id}" if event.campaign_id is not None else ""
        link = f" {event.url}" if event.url else ""
        console.print(f"  {said['at']} {event.kind}{where}{link}", markup=False)


@subscribers_app.command("unsubscribe")
def unsubscribe_command(
    ctx: typer.Context,
    email: Annotated[str, typer.Argument(help="The address.")],
    list_name: Annotated[
        str | None, typer.Option("--list", "-l", help="Only this list (else all of them).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Unsubscribe from one list, or from every list (which also suppresses the address)."""
    from mailer.audience.subscribers import unsubscribe

    changed = unsubscribe(app_context(ctx).engine, email, list_name)
    if as_json:
        # Leaving every list is a global opt-out: the address is suppressed with it.
        print_json(
            {"email": email.strip(), "unsubscribed_from": changed, "suppressed": list_name is None}
        )
        return
    where = ", ".join(changed) if changed else "no list they were still on"
    out_console().print(f"Unsubscribed {email.strip()} from {where}.")


@subscribers_app.command("suppress")
def suppress_command(
    ctx: typer.Context,
    email: Annotated[str, typer.Argument(help="The address.")],
    reason: Annotated[
        str, typer.Option(help="bounce, spamreport, unsubscribe, manual or invalid.")
    ],
    detail: Annotated[str, typer.Option(help="A note kept with the suppression.")] = "",
    as_json: JsonOption = False,
) -> None:
    """Never mail this address again, whatever list it is on."""
    from mailer.audience.suppressions import suppress

    added = suppress(app_context(ctx).engine, email, reason, detail)
    if as_json:
        # An address suppressed already keeps its first reason: "added" says which it was.
        print_json({"email": email.strip(), "suppressed": True, "added": added})
        return
    state = "Suppressed" if added else "Already suppressed:"
    out_console().print(f"{state} {email.strip()}.")


@subscribers_app.command("unsuppress")
def unsuppress_command(
    ctx: typer.Context,
    email: Annotated[str, typer.Argument(help="The address.")],
    as_json: JsonOption = False,
) -> None:
    """Lift a suppression, so the address can be mailed again."""
    from mailer.audience.suppressions import unsuppress

    lifted = unsuppress(app_context(ctx).engine, email)
    if as_json:
        print_json({"email": email.strip(), "suppressed": False, "lifted": lifted.as_json()})
        return
    out_console().print(f"Lifted the {lifted.reason} suppression of {email.strip()}.")


@subscribers_app.command("forget")
def forget_command(
    ctx: typer.Context,
    email: Annotated[str, typer.Argument(help="The address.")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Erase a person and all their data; a one-way hash keeps them from being re-imported."""
    from mailer.audience.subscribers import forget_subscriber

    if not yes:
        # With --json the question goes to stderr, so what stdout holds still parses.
        typer.confirm(
            f"Erase {email.strip()} and everything stored about them?", abort=True, err=as_json
        )
    forget_subscriber(app_context(ctx).engine, email)
    if as_json:
        print_json({"email": email.strip(), "erased": True, "hash_suppressed": True})
        return
    out_console().print(f"Erased {email.strip()}; a hash of the address stays suppressed.")


def register(app: typer.Typer) -> None:
    from mailer.cli import subscriber_edit, subscriber_files

    subscriber_edit.register(subscribers_app)
    subscriber_files.register(subscribers_app)
    app.add_typer(subscribers_app, name="subscribers")
