"""The ``mailer`` command line: a thin face over the core modules.

Exit codes: 0 ok, 1 the input or the state was wrong (the message says what and where), 2 usage.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer

from mailer.cli import (
    campaigns,
    check,
    database,
    emulate,
    issues,
    lists,
    preview,
    render,
    schedules,
    send,
    subscribers,
    worker,
)
from mailer.cli.context import AppContext, err_console
from mailer.errors import MailerError

app = typer.Typer(
    name="mailer",
    help="Write newsletter issues in Markdown; render, check, preview and send them.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


@app.callback()
def root(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            "-c",
            help="Config file (else $MAILER_CONFIG, else ./mailer.toml, else built-in defaults).",
            dir_okay=False,
        ),
    ] = None,
) -> None:
    context = AppContext(config_path=config)
    ctx.obj = context
    ctx.call_on_close(context.close)


for module in (
    render, preview, check, issues, database, lists, subscribers, send, campaigns, schedules,
    emulate, worker,
):  # fmt: skip
    module.register(app)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit code (tests call this directly)."""
    # Standalone mode lets Typer print usage errors its own way (exit 2) on any Typer version;
    # it ends by raising SystemExit, whose code is the answer.
    try:
        app(args=list(argv) if argv is not None else None, prog_name="mailer")
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except MailerError as exc:
        err_console().print(f"error: {exc}", style="red", markup=False, highlight=False)
        return 1
    return 0


def console_main() -> None:
    sys.exit(main())
