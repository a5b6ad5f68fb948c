"""``mailer preview``: a local web preview that follows edits to the issue and templates."""

from __future__ import annotations

from typing import Annotated

import typer

from mailer.cli.context import app_context, err_console


def preview_command(
    ctx: typer.Context,
    issue: Annotated[str, typer.Argument(help="Issue file path, or issue number (87).")],
    port: Annotated[int, typer.Option("--port", "-p", min=1, max=65535)] = 8025,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    to: Annotated[str | None, typer.Option("--to", help="Preview as this reader.")] = None,
) -> None:
    """Preview an issue in the browser."""
    import contextlib

    import uvicorn

    from mailer.cli.serve import listening_socket
    from mailer.content import find_issue
    from mailer.preview.app import preview_app
    from mailer.render.output import parse_reader

    app = app_context(ctx)
    path = find_issue(issue, app.settings.paths.issues)
    web = preview_app(app.settings, path, parse_reader(app.mailer, to))
    # Bound here, as `serve` does: a port in use is a one-line error and exit code 1.
    listener = listening_socket(host, port)
    err_console().print(f"Previewing {path} at http://{host}:{port}/ (Ctrl+C to stop)")
    config = uvicorn.Config(web, host=host, port=port, log_level="warning")
    with listener, contextlib.suppress(KeyboardInterrupt):
        uvicorn.Server(config).run(sockets=[listener])


def register(app: typer.Typer) -> None:
    app.command("preview")(preview_command)
