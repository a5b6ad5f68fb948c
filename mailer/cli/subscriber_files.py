"""``mailer subscribers import`` and ``export``: CSV in and out."""

from __future__ import annotations

import sys
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, BinaryIO, TextIO

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

from mailer.cli.context import app_context, err_console, out_console, print_json
from mailer.cli.output_file import replaced
from mailer.errors import MailerError

if TYPE_CHECKING:
    from mailer.audience.csv_encoding import NotDecodable
    from mailer.audience.csv_import import RowProblem

# Problems are printed as they come, up to this many; --json carries all of them.
PRINTED_PROBLEMS = 200


def import_command(
    ctx: typer.Context,
    file: Annotated[str, typer.Argument(help="CSV file with a header row, or - for stdin.")],
    list_name: Annotated[str, typer.Option("--list", "-l", help="Mailing list name.")],
    confirmed: Annotated[
        bool, typer.Option("--confirmed", help="Skip double opt-in: they already agreed.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    column_map: Annotated[
        list[str] | None,
        typer.Option(
            "--map",
            help="COLUMN=FIELD: read a column as email, name, first_name, last_name, timezone, "
            "tags or attribute:<name>; COLUMN= ignores it. Repeatable.",
        ),
    ] = None,
    delimiter: Annotated[
        str | None,
        typer.Option(help="',', ';', '|' or tab ('\\t'); else found from the header line."),
    ] = None,
    encoding: Annotated[
        str, typer.Option(help="The file's encoding, e.g. latin-1 or cp1252.")
    ] = "utf-8",
) -> None:
    """Import subscribers; invalid rows are reported by line and skipped. Headers of
    Mailchimp and listmonk exports are understood."""
    from mailer.audience.csv_encoding import NotDecodable
    from mailer.audience.csv_import import import_csv
    from mailer.audience.csv_reading import (
        CsvReading,
        check_delimiter,
        check_encoding,
        parse_column_map,
    )

    reading = CsvReading(
        delimiter=None if delimiter is None else check_delimiter(delimiter),
        encoding=check_encoding(encoding),
        columns=parse_column_map(column_map or []),
    )

    engine = app_context(ctx).engine
    problems: list[RowProblem] = []
    label = "<stdin>" if file == "-" else file
    printed = 0

    def on_problem(problem: RowProblem) -> None:
        nonlocal printed
        if as_json:
            problems.append(problem)
        elif printed < PRINTED_PROBLEMS:
            printed += 1
            shown = f" {problem.email!r}" if problem.email else ""
            err_console().print(
                f"{label}:{problem.line}: {problem.outcome}{shown}: {problem.reason}",
                markup=False,
                highlight=False,
            )

    with ExitStack() as stack:
        stream: BinaryIO
        if file == "-":
            stream, size = sys.stdin.buffer, None
        else:
            path = Path(file)
            if not path.is_file():
                raise MailerError(f"{file}: no such file")
            stream, size = stack.enter_context(path.open("rb")), path.stat().st_size
        progress = stack.enter_context(
            Progress(
                "[progress.description]{task.description}",
                BarColumn(),
                DownloadColumn(),
                TimeRemainingColumn(),
                console=err_console(),
                transient=True,
                # Redrawn from the import's own progress calls: a refresh thread would keep
                # the import from reading the file in a child process.
                auto_refresh=False,
                disable=as_json or not err_console().is_terminal,
            )
        )
        task = progress.add_task(f"Importing {label}", total=size)
        try:
            summary = import_csv(
                engine,
                stream,
                list_name,
                source=f"import:{Path(label).name}",
                file_label=label,
                confirmed=confirmed,
                on_problem=on_problem,
                on_progress=lambda done: progress.update(task, completed=done, refresh=True),
                reading=reading,
            )
        except NotDecodable as exc:
            raise MailerError(_encoding_hint(exc, stream)) from None
    if as_json:
        print_json(
            {
                "file": label,
                "list": list_name,
                **summary.as_json(),
                "problems": [problem.as_json() for problem in problems],
            }
        )
        return
    counts = summary.counts
    hidden = counts["rejected"] + counts["suppressed"] - printed
    if hidden > 0:
        err_console().print(f"... and {hidden} more rows not imported (see --json).")
    out_console().print(
        f"{label} -> {list_name}: {counts['imported']} imported, {counts['updated']} updated, "
        f"{counts['unchanged']} unchanged, {counts['rejected']} rejected, "
        f"{counts['suppressed']} suppressed or unsubscribed ({summary.rows} rows)."
    )


def _encoding_hint(error: NotDecodable, stream: BinaryIO) -> str:
    hint = (
        f"{error}; if it is in Latin-1 or Windows-1252 (as Excel saves CSV), import it with "
        "--encoding latin-1 (or --encoding cp1252)"
    )
    if not stream.seekable():  # read as it came: batches before that line may be written
        hint += "; rows before that line may be imported already (importing again keeps them)"
    return hint


def export_command(
    ctx: typer.Context,
    list_name: Annotated[str, typer.Option("--list", "-l", help="Mailing list name.")],
    status: Annotated[
        str | None, typer.Option(help="Only confirmed, unconfirmed or unsubscribed members.")
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File to write (else stdout).")
    ] = None,
    segment: Annotated[
        str | None,
        typer.Option(help="Only members in this segment, e.g. 'country = \"CN\"'."),
    ] = None,
) -> None:
    """Export a list as CSV that imports back to the same data."""
    from mailer.audience.csv_export import export_csv

    engine = app_context(ctx).engine
    if output is None:
        export_csv(engine, list_name, sys.stdout, status=status, segment=segment)
        return
    # Written beside the target and renamed, so a failed export never leaves half a file.
    out: TextIO
    with (
        replaced(output, "--output") as partial,
        partial.open("w", encoding="utf-8", newline="") as out,
    ):
        count = export_csv(engine, list_name, out, status=status, segment=segment)
    err_console().print(f"Wrote {count} subscribers to {output}.")


def register(app: typer.Typer) -> None:
    app.command("import")(import_command)
    app.command("export")(export_command)
