"""``mailer schedules``: recurring sends (from the config file and added here)."""

from __future__ import annotations

from typing import Annotated, Literal

import typer

from mailer.cli.context import app_context, out_console, print_json

schedules_app = typer.Typer(help="Recurring sends: a cron time, a zone, a list.")
JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


@schedules_app.callback(invoke_without_command=True)
def schedules_command(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Every recurring schedule with its next tick and what its last tick did."""
    if ctx.invoked_subcommand is not None:
        return
    from mailer.scheduling.one_off import shown
    from mailer.services.schedules import schedules

    mailer = app_context(ctx).mailer
    found = schedules(mailer)
    now = mailer.clock()
    if as_json:
        print_json([schedule.as_json(now) for schedule in found])
        return
    if not found:
        out_console().print(
            "No schedules: add one with `mailer schedules add NAME --cron '0 9 * * MON' "
            "--list NAME`, or under [[schedule.recurring]] in the config."
        )
        return
    from mailer.cli.table_fit import Col, fitted_table

    columns = [
        Col("name", whole=True),
        Col("cron", whole=True),
        Col("zone", whole=True, drop=2),  # the next tick names it
        Col("list"),
        Col("next tick"),
        Col("last tick", drop=1),
        Col("from", whole=True, drop=3),
    ]
    rows = []
    for schedule in found:
        upcoming = schedule.next_tick(now)
        rows.append(
            [
                schedule.name,
                schedule.cron,
                schedule.zone,
                schedule.list_name + (f" ({schedule.segment})" if schedule.segment else ""),
                shown(upcoming, schedule.zone) if upcoming else "never",
                schedule.last_result or "none yet",
                schedule.origin,
            ]
        )
    console = out_console()
    console.print(fitted_table(columns, rows, console.width))


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
    from mailer.scheduling.one_off import shown
    from mailer.services.schedules import add

    mailer = app_context(ctx).mailer
    schedule = add(
        mailer,
        name,
        cron=cron,
        list_name=list_name,
        timezone=tz,
        issues=issues,
        segment=segment,
        transport=transport,
    )
    if as_json:
        print_json(schedule.as_json(mailer.clock()))
        return
    upcoming = schedule.next_tick(mailer.clock())
    out_console().print(
        f"Schedule {name!r} added; next tick "
        f"{shown(upcoming, schedule.zone) if upcoming else 'never'}. `mailer worker` acts on it."
    )


@schedules_app.command("remove")
def remove_command(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The schedule's name.")],
    as_json: JsonOption = False,
) -> None:
    """Remove a schedule added with `schedules add` (config ones are removed in the file)."""
    from mailer.services.schedules import remove

    remove(app_context(ctx).mailer, name)
    if as_json:
        print_json({"name": name, "removed": True})
        return
    out_console().print(f"Schedule {name!r} removed; campaigns it started are kept.")


def register(app: typer.Typer) -> None:
    app.add_typer(schedules_app, name="schedules")
