"""``mailer schedules``: recurring sends (from the config file and added here)."""

from __future__ import annotations

import re
from typing import Annotated, Literal

import typer
from rich.table import Table

from mailer.cli.context import app_context, out_console, print_json

schedules_app = typer.Typer(help="Recurring sends: a cron time, a zone, a list.")
JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
SCHEDULE_NAME = re.compile(r"[A-Za-z0-9_.-]{1,100}")
# Where each field of a schedule comes from on the command line, to name it in an error.
OPTION_OF = {
    "cron": "--cron",
    "timezone": "--tz",
    "list": "--list",
    "issues": "--issues",
    "segment": "--segment",
    "transport": "--transport",
}


@schedules_app.callback(invoke_without_command=True)
def schedules_command(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Every recurring schedule with its next tick and what its last tick did."""
    if ctx.invoked_subcommand is not None:
        return
    from mailer.clock import utc_now
    from mailer.scheduling.one_off import shown
    from mailer.scheduling.recurring import all_schedules, sync_config

    context = app_context(ctx)
    sync_config(context.engine, context.settings)
    found = all_schedules(context.engine)
    now = utc_now()
    if as_json:
        print_json([schedule.as_json(now) for schedule in found])
        return
    if not found:
        out_console().print(
            "No schedules: add one with `mailer schedules add NAME --cron '0 9 * * MON' "
            "--list NAME`, or under [[schedule.recurring]] in the config."
        )
        return
    table = Table("name", "cron", "zone", "list", "next tick", "last tick", "from")
    for schedule in found:
        upcoming = schedule.next_tick(now)
        table.add_row(
            schedule.name, schedule.cron, schedule.zone,
            schedule.list_name + (f" ({schedule.segment})" if schedule.segment else ""),
            shown(upcoming, schedule.zone) if upcoming else "never",
            schedule.last_result or "none yet", schedule.origin,
        )  # fmt: skip
    out_console().print(table)


@schedules_app.command("add")
def add_command(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="A name for the schedule.")],
    cron: Annotated[
        str, typer.Option("--cron", help="minute hour day month weekday, e.g. '0 9 * * MON'.")
    ],
    list_name: Annotated[str, typer.Option("--list", "-l", help="Mailing list to send to.")],
    tz: Annotated[
        str | None, typer.Option("--tz", help="Zone of the cron times (default: newsletter's).")
    ] = None,
    issues: Annotated[
        Literal["next-ready"],
        typer.Option(help="Which issue each tick sends: the oldest ready one not yet sent."),
    ] = "next-ready",
    segment: Annotated[str | None, typer.Option(help="Only members matching.")] = None,
    transport: Annotated[
        str | None, typer.Option("--transport", "-t", help="sendgrid, smtp or outbox.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Add a recurring send; `mailer worker` acts on its ticks."""
    from pydantic import ValidationError

    from mailer.audience.lists import find_list
    from mailer.audience.segments import parse_segment
    from mailer.clock import utc_now
    from mailer.config import RecurringSchedule
    from mailer.delivery.transports.factory import check_transport_name
    from mailer.errors import MailerError
    from mailer.scheduling.one_off import shown
    from mailer.scheduling.recurring import add_schedule, sync_config
    from mailer.scheduling.when import zone_named

    if not SCHEDULE_NAME.fullmatch(name):
        raise MailerError(f"schedule name {name!r}: use 1-100 letters, digits, '.', '_' or '-'")
    context = app_context(ctx)
    settings = context.settings
    # The config's schedules first, so a name taken there is refused here.
    sync_config(context.engine, settings)
    zone = tz or settings.newsletter.timezone
    zone_named(zone, "--tz" if tz else "newsletter.timezone")
    if transport:
        check_transport_name(transport)
    if segment:
        parse_segment(segment)
    try:
        entry = RecurringSchedule(
            name=name, cron=cron, timezone=zone, list=list_name, issues=issues,
            segment=segment or "", transport=transport or "",
        )  # fmt: skip
    except ValidationError as exc:
        problems = "; ".join(
            f"{OPTION_OF.get(str(error['loc'][0]), str(error['loc'][0]))}: "
            f"{str(error['msg']).removeprefix('Value error, ')}"
            for error in exc.errors()
        )
        raise MailerError(problems) from None
    with context.engine.connect() as connection:
        find_list(connection, list_name)
    schedule = add_schedule(context.engine, entry, zone, "cli")
    if as_json:
        print_json(schedule.as_json(utc_now()))
        return
    upcoming = schedule.next_tick(utc_now())
    out_console().print(
        f"Schedule {name!r} added; next tick "
        f"{shown(upcoming, schedule.zone) if upcoming else 'never'}. `mailer worker` acts on it."
    )


@schedules_app.command("remove")
def remove_command(
    ctx: typer.Context, name: Annotated[str, typer.Argument(help="The schedule's name.")]
) -> None:
    """Remove a schedule added with `schedules add` (config ones are removed in the file)."""
    from mailer.scheduling.recurring import remove_schedule, sync_config

    context = app_context(ctx)
    sync_config(context.engine, context.settings)
    remove_schedule(context.engine, name, context.settings)
    out_console().print(f"Schedule {name!r} removed; campaigns it started are kept.")


def register(app: typer.Typer) -> None:
    app.add_typer(schedules_app, name="schedules")
