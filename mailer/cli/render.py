"""``mailer render``: one issue as HTML, text, a complete .eml, or the MJML it compiles from."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from mailer.cli.context import app_context, err_console
from mailer.cli.output_file import replaced
from mailer.render.formats import OutputFormat


def render_command(
    ctx: typer.Context,
    issue: Annotated[str, typer.Argument(help="Issue file path, or issue number (87).")],
    output_format: Annotated[
        OutputFormat, typer.Option("--format", "-f", help="What to write.")
    ] = OutputFormat.html,
    to: Annotated[
        str | None,
        typer.Option("--to", help="Personalize for this reader: EMAIL or 'Name <EMAIL>'."),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")
    ] = None,
) -> None:
    """Render an issue."""
    from mailer.render.output import parse_reader, render_output, render_reference

    app = app_context(ctx)
    rendered = render_reference(app.settings, app.renderer, issue)
    data = render_output(app.settings, rendered, output_format, parse_reader(app.mailer, to))
    if output is None:
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    with replaced(output, "--output", create_folder=True) as partial:
        partial.write_bytes(data)
    err_console().print(f"wrote {output} ({len(data):,} bytes)")


def register(app: typer.Typer) -> None:
    app.command("render")(render_command)
