"""The ``mailer`` command line: a thin face over the core modules.

Exit codes (README's table says which command gives which):
0 ok; 1 the input or the state was wrong, and the message on stderr says what and where (also:
`check` found errors, a campaign did not finish sending, `serve`, `preview` or `emulate` found
its port in use, a confirmation was answered no); 2 usage (click's own: an unknown command or
option, a missing or malformed argument). No other code is used.

Only the module of the command named is registered (all of them for the help or a word that
is no command), and the command modules import the core inside the commands that use it: a
command loads what it needs, not the render pipeline, alembic, the web server and the
scheduler (half a second together) nor the other commands. tests/test_cli_startup.py holds to
it.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer

from mailer.cli.argv_text import refuse_words_that_are_not_text
from mailer.cli.context import AppContext, err_console
from mailer.errors import MailerError

_app = typer.Typer(
    name="mailer",
    help="Write newsletter issues in Markdown; render, check, preview and send them.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


@_app.callback()
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


# Each command module (mailer.cli.NAME), in the order the help lists them, with the
# top-level commands it registers (consent adds `resubscribe` to `subscribers`).
COMMAND_MODULES: dict[str, tuple[str, ...]] = {
    "render": ("render",),
    "preview": ("preview",),
    "check": ("check",),
    "issues": ("issues",),
    "database": ("init",),
    "lists": ("lists",),
    "subscribers": ("subscribers",),
    "send": ("send", "test-send"),
    "campaigns": ("campaigns",),
    "schedules": ("schedules",),
    "emulate": ("emulate",),
    "worker": ("worker",),
    "serve": ("serve",),
    "users": ("users",),
    "tokens": ("tokens",),
    "audit": ("audit",),
    "consent": ("suppressions", "subscribers"),
}
_HELP_ORDER = list(dict.fromkeys(name for names in COMMAND_MODULES.values() for name in names))
_registered: set[str] = set()


def _register(modules: list[str]) -> None:
    """Register the command modules not registered yet (each once per process: some add
    commands to another module's group), keeping the help's order whatever came first."""
    for module in modules:
        if module not in _registered:
            importlib.import_module(f"mailer.cli.{module}").register(_app)
            _registered.add(module)
    _app.registered_commands.sort(key=lambda info: _HELP_ORDER.index(str(info.name)))
    _app.registered_groups.sort(key=lambda info: _HELP_ORDER.index(str(info.name)))


def _command_word(args: Sequence[str]) -> str | None:
    """The command ``args`` name, when only --config comes before it (else None: the help,
    or an unknown option, is about every command)."""
    words = iter(args)
    for word in words:
        if word in ("-c", "--config"):
            next(words, None)
        elif not (word.startswith("--config=") or (word.startswith("-c") and word != "-c")):
            return None if word.startswith("-") else word
    return None


def _modules_for(args: Sequence[str]) -> list[str]:
    """The command modules a run of ``args`` needs: the one the command is in, else all.
    Importing all of them and building every command's options takes longer than many a
    command does its work."""
    word = _command_word(args)
    needed = [module for module, names in COMMAND_MODULES.items() if word in names]
    return needed or list(COMMAND_MODULES)


def __getattr__(name: str) -> typer.Typer:
    """``mailer.cli.app``: the app with every command (for what reads the whole tree)."""
    if name == "app":
        _register(list(COMMAND_MODULES))
        return _app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
    _register(_modules_for(args))
    command = typer.main.get_command(_app)
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
