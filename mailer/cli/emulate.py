"""``mailer emulate sendgrid``: the SendGrid emulator on loopback, for tests and development."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer

from mailer.cli.context import err_console, loaded_objects_frozen
from mailer.errors import MailerError

emulate_app = typer.Typer(help="Local stand-ins for outside services.")


def _rate(text: str | None) -> int:
    if not text:
        return 0
    match = re.fullmatch(r"(\d+)(?:/s)?", text.strip())
    if not match:
        raise MailerError(f"--rate-limit {text!r}: write requests per second, e.g. 10/s")
    return int(match.group(1))


@emulate_app.command("sendgrid")
def sendgrid_command(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port to listen on.")] = 3030,
    store: Annotated[
        Path | None, typer.Option(help="Also write every accepted message as .eml here.")
    ] = None,
    fail_rate: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Share of requests that meet a fault.")
    ] = 0.0,
    faults: Annotated[
        str, typer.Option(help="Which faults, comma-separated: 500, 503, timeout, drop.")
    ] = "500,503,timeout,drop",
    rate_limit: Annotated[
        str | None, typer.Option(help="Requests per second before 429, e.g. 10/s.")
    ] = None,
    api_key: Annotated[
        list[str] | None, typer.Option(help="Accept only this key (repeatable); else any.")
    ] = None,
    forbidden_key: Annotated[
        list[str] | None, typer.Option(help="A key that may not send: answered 403.")
    ] = None,
    stall: Annotated[
        float,
        typer.Option(min=0.0, max=3600.0, help="Seconds a 'timeout' fault holds back its answer."),
    ] = 60.0,
    latency: Annotated[
        float,
        typer.Option(min=0.0, max=3600.0, help="Seconds every request takes, like a far server."),
    ] = 0.0,
    refuse: Annotated[
        list[str] | None, typer.Option(help="An address answered with a 400 (repeatable).")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Seed for the fault dice.")] = None,
) -> None:
    """Serve SendGrid's /v3/mail/send on loopback, with its validation, limits and faults."""
    from mailer.emulator.server import FAULTS, EmulatorOptions, SendGridEmulator, make_server

    chosen = tuple(fault.strip() for fault in faults.split(",") if fault.strip())
    unknown = [fault for fault in chosen if fault not in FAULTS]
    if unknown or not chosen:
        raise MailerError(f"--faults {faults!r}: choose from {', '.join(FAULTS)}")
    options = EmulatorOptions(
        api_keys=frozenset(api_key or ()),
        forbidden_keys=frozenset(forbidden_key or ()),
        fail_rate=fail_rate,
        faults=chosen,
        rate_limit=_rate(rate_limit),
        stall_seconds=stall,
        latency_seconds=latency,
        refused_addresses=frozenset(address.lower() for address in refuse or ()),
        seed=seed,
        store=store,
    )
    try:
        server = make_server(SendGridEmulator(options), host, port)
    except OSError as exc:
        raise MailerError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    bound_host, bound_port = server.server_address[:2]
    # The first line says where it listens (port 0 picks a free one); scripts read it.
    print(f"SendGrid emulator on http://{bound_host!s}:{bound_port}", flush=True)
    err_console().print("Set [transport.sendgrid] host to that URL. Ctrl-C stops.", markup=False)
    try:
        with loaded_objects_frozen():
            server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def register(app: typer.Typer) -> None:
    app.add_typer(emulate_app, name="emulate")
