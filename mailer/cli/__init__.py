"""The ``mailer`` command line: a thin face over the core modules.

Exit codes: 0 ok, 1 the input or the state was wrong (the message says what and where), 2 usage.

Every command is registered at each start, so the command modules import the core inside the
commands that use it: building the app loads typer and rich only, and a command loads what it
needs (the render pipeline, alembic, the web server and the scheduler take half a second
together). tests/test_cli_startup.py holds to it.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer

from mailer.cli import (
    audit,
    campaigns,
    check,
    consent,
    database,
    emulate,
    issues,
    lists,
    preview,
    render,
    schedules,
    send,
    serve,
    subscribers,
    tokens,
    users,
    worker,
)
from mailer.cli.argv_text import refuse_words_that_are_not_text
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
    if isinstance(ctx.obj, AppContext):  # made by main(), which reports what went wrong
        ctx.obj.config_path = config
    else:
        ctx.obj = AppContext(config_path=config)
    ctx.call_on_close(ctx.obj.close)


for module in (
    render, preview, check, issues, database, lists, subscribers, send, campaigns, schedules,
    emulate, worker, serve, users, tokens, audit, consent,
):  # fmt: skip
    module.register(app)


def _database_failure(exc: Exception, context: AppContext) -> MailerError | None:
    """The error to show for a database that failed during a command (the server went away,
    a lock was held longer than the busy timeout), or None when ``exc`` is something else."""
    errors = sys.modules.get("sqlalchemy.exc")  # not loaded: the command never used a database
    if errors is None or not isinstance(exc, errors.OperationalError):
        return None
    from mailer.db.engine import database_failed

    return database_failed(context.database_url, exc)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit code (tests call this directly)."""
    args = list(sys.argv[1:] if argv is None else argv)
    command = typer.main.get_command(app)
    context = AppContext(config_path=None)
    # Standalone mode lets click print usage errors its own way (exit 2); it ends by raising
    # SystemExit, whose code is the answer.
    try:
        refuse_words_that_are_not_text(command, args)
        command.main(args=args, prog_name="mailer", obj=context)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except MailerError as exc:
        _report(exc)
        return 1
    except Exception as exc:
        failure = _database_failure(exc, context)
        if failure is None:
            raise
        _report(failure)
        return 1
    return 0


def _report(exc: MailerError) -> None:
    from mailer.cli.errors import command_line_message

    message = command_line_message(exc)
    err_console().print(f"error: {message}", style="red", markup=False, highlight=False)


def console_main() -> None:
    sys.exit(main())
