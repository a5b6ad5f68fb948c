"""``mailer serve``: the public web (the pages mail links to) under uvicorn."""

from __future__ import annotations

import contextlib
import socket
from typing import TYPE_CHECKING, Annotated
from urllib.parse import urlsplit

import typer

from mailer.cli.context import app_context, err_console, loaded_objects_frozen
from mailer.errors import MailerError

if TYPE_CHECKING:
    from mailer.app import Mailer


def listening_socket(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port``, or a one-line error naming the options."""
    try:
        family, kind, protocol, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        listener = socket.socket(family, kind, protocol)
    except (OSError, UnicodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise MailerError(f"--host {host!r}: not an address to listen on ({reason})") from None
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(address)
    except OSError as exc:
        listener.close()
        raise MailerError(
            f"cannot listen on {host} port {port} (--host, --port): {exc.strerror or exc}"
        ) from None
    return listener


def _check_event_webhook(mailer: Mailer) -> None:
    """A verification key that does not parse is an error now; accepting unsigned events is
    said at every start, since anyone who finds the URL could then post them."""
    from mailer.events.signature import load_verifier

    web = mailer.settings.web
    if load_verifier(web, mailer.environ) is None and web.sendgrid_webhook_unsigned:
        err_console().print(
            "Warning: POST /webhooks/sendgrid accepts events nobody signed "
            "([web] sendgrid_webhook_unsigned = true, and no sendgrid_webhook_public_key): "
            "anyone who finds the URL can post bounces and unsubscribes.",
            markup=False,
            highlight=False,
        )


def serve_command(
    ctx: typer.Context,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", "-p", min=1, max=65535)] = 8080,
) -> None:
    """Serve the public pages (unsubscribe, preferences, archive) at [newsletter] base_url."""
    import uvicorn

    from mailer.web.app import create_app

    mailer = app_context(ctx).mailer
    settings = mailer.settings
    # Everything that can be wrong is found now, as a one-line error, not at the first request.
    mailer.engine  # noqa: B018 - opens the database and brings it to the newest schema
    mailer.signing_key  # noqa: B018
    _check_event_webhook(mailer)
    app = create_app(mailer)
    listener = listening_socket(host, port)
    proxies = settings.web.forwarded_allow_ips
    base_url = settings.newsletter.base_url
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        # Forwarded headers are believed only from the proxies the config names.
        proxy_headers=bool(proxies),
        forwarded_allow_ips="*" if "*" in proxies else list(proxies),
        # A base_url with a path (https://example.com/news): the proxy strips the path, and
        # the pages' links are made under it.
        root_path=urlsplit(base_url).path.rstrip("/"),
        server_header=False,
        # Paths hold signed tokens that act for a reader: the proxy's log is the access log,
        # kept under the rules that apply to it.
        access_log=False,
        log_level="info",
    )
    shown_host = f"[{host}]" if ":" in host else host
    err_console().print(
        f"Serving {base_url} on http://{shown_host}:{port}/ (Ctrl+C to stop)",
        markup=False,
        highlight=False,
    )
    with listener, loaded_objects_frozen(), contextlib.suppress(KeyboardInterrupt):
        # On SIGTERM or Ctrl+C uvicorn finishes the requests in hand, then ends the process
        # by that signal (as process managers expect).
        uvicorn.Server(config).run(sockets=[listener])


def register(app: typer.Typer) -> None:
    app.command("serve")(serve_command)
