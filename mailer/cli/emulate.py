"""``mailer emulate sendgrid``: the SendGrid emulator on loopback, for tests and development."""

from __future__ import annotations

import re
import secrets
import signal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from mailer.cli.context import err_console, loaded_objects_frozen
from mailer.errors import MailerError

if TYPE_CHECKING:
    from mailer.emulator.event_poster import EventPoster
    from mailer.emulator.events import EventRates

emulate_app = typer.Typer(help="Local stand-ins for outside services.")


def _rate(text: str | None) -> int:
    if not text:
        return 0
    match = re.fullmatch(r"(\d+)(?:/s)?", text.strip())
    if not match:
        raise MailerError(f"--rate-limit {text!r}: write requests per second, e.g. 10/s")
    return int(match.group(1))


def _rate_option(help: str) -> Any:
    return typer.Option(min=0.0, max=1.0, help=help)


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
    seed: Annotated[int | None, typer.Option(help="Seed for the fault and event dice.")] = None,
    events_to: Annotated[
        str | None,
        typer.Option(
            help="Post SendGrid's Event Webhook events here, e.g. "
            "http://127.0.0.1:8080/webhooks/sendgrid."
        ),
    ] = None,
    events_key: Annotated[
        Path | None,
        typer.Option(
            help="ECDSA P-256 key (PEM) to sign events with; made here if missing. "
            "Default: a new key each start."
        ),
    ] = None,
    events_interval: Annotated[
        float, typer.Option(min=0.01, max=3600.0, help="Seconds between event posts.")
    ] = 2.0,
    events_retry_for: Annotated[
        float,
        typer.Option(min=0.0, max=7 * 86400.0, help="Seconds a refused post is retried."),
    ] = 86400.0,
    delivered_rate: Annotated[
        float,
        _rate_option("Of those not dropped or bounced, share delivered; the rest stay deferred."),
    ] = 1.0,
    bounce_rate: Annotated[float, _rate_option("Share bounced for good (type bounce).")] = 0.02,
    blocked_rate: Annotated[float, _rate_option("Share bounced for now (type blocked).")] = 0.01,
    deferred_rate: Annotated[
        float, _rate_option("Share deferred 1-3 times before the outcome.")
    ] = 0.05,
    drop_rate: Annotated[float, _rate_option("Share dropped.")] = 0.005,
    open_rate: Annotated[float, _rate_option("Share of delivered opened.")] = 0.4,
    machine_open_rate: Annotated[float, _rate_option("Share of opens by a machine.")] = 0.3,
    click_rate: Annotated[float, _rate_option("Share of delivered that click.")] = 0.1,
    spam_rate: Annotated[float, _rate_option("Share of delivered reporting spam.")] = 0.001,
) -> None:
    """Serve SendGrid's /v3/mail/send on loopback, with its validation, limits and faults;
    with --events-to, post the events SendGrid would, signed, as its Event Webhook does."""
    from mailer.emulator.events import EventRates
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
    rates = EventRates(
        delivered=delivered_rate,
        bounce=bounce_rate,
        blocked=blocked_rate,
        deferred=deferred_rate,
        drop=drop_rate,
        open=open_rate,
        machine_open=machine_open_rate,
        click=click_rate,
        spam=spam_rate,
    )
    if rates.problems():
        raise MailerError("; ".join(rates.problems()))
    poster = (
        _event_poster(events_to, events_key, events_interval, events_retry_for, rates, seed)
        if events_to
        else None
    )
    try:
        server = make_server(SendGridEmulator(options, poster), host, port)
    except OSError as exc:
        raise MailerError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    bound_host, bound_port = server.server_address[:2]
    # The first line says where it listens (port 0 picks a free one); scripts read it.
    print(f"SendGrid emulator on http://{bound_host!s}:{bound_port}", flush=True)
    if poster is not None:
        # The second, alone on its line: the key a receiver verifies the events with.
        print(poster.key.public_base64(), flush=True)
        err_console().print(
            f"Events go to {events_to}, signed: the line above is the verification key "
            "([web] sendgrid_webhook_public_key).",
            markup=False,
        )
        # A clean stop on SIGTERM too, so that waiting events get a last try.
        signal.signal(signal.SIGTERM, _interrupt)
        poster.start()
    err_console().print("Set [transport.sendgrid] host to that URL. Ctrl-C stops.", markup=False)
    try:
        with loaded_objects_frozen():
            server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        undelivered = poster.close() if poster is not None else 0
    if undelivered:
        raise typer.Exit(1)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _event_poster(
    url: str,
    key_path: Path | None,
    interval: float,
    retry_for: float,
    rates: EventRates,
    seed: int | None,
) -> EventPoster:
    from mailer.emulator.event_poster import EventPoster, PosterOptions
    from mailer.emulator.events import EventMaker
    from mailer.emulator.webhook_key import WebhookKey

    if not url.lower().startswith(("http://", "https://")):
        raise MailerError(f"--events-to {url!r}: give an http:// or https:// URL")
    key = WebhookKey.from_file(key_path) if key_path else WebhookKey.generate()
    options = PosterOptions(url, interval_seconds=interval, retry_for_seconds=retry_for)
    chosen_seed = seed if seed is not None else secrets.randbits(64)
    return EventPoster(options, key, EventMaker(rates, chosen_seed))


def register(app: typer.Typer) -> None:
    app.add_typer(emulate_app, name="emulate")
