"""Shared by the delivery tests: a SendGrid emulator on loopback, a project configured to
send through it, and a quick way to fill a list."""

from __future__ import annotations

import io
import json
import urllib.request
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import sqlalchemy as sa

from mailer.audience.csv_import import import_csv
from mailer.db.tables import deliveries
from mailer.emulator.server import EmulatorOptions, SendGridEmulator, serve_in_thread
from tests.conftest import Project

API_KEY = "SG.test-key"


@contextmanager
def running_emulator(
    options: EmulatorOptions | None = None,
) -> Iterator[tuple[SendGridEmulator, str]]:
    emulator = SendGridEmulator(options or EmulatorOptions())
    server, url = serve_in_thread(emulator)
    try:
        yield emulator, url
    finally:
        server.shutdown()
        server.server_close()


def configure(emulator: SendGridEmulator, **changes: Any) -> None:
    """Change the emulator's behaviour between requests (faults on, faults off...)."""
    emulator.options = replace(emulator.options, **changes)


def use_emulator(
    project: Project, url: str, *, batch_size: int = 1000, extra: str = "", sendgrid: str = ""
) -> None:
    """Point the project at the emulator; ``extra`` adds [delivery] keys, ``sendgrid``
    [transport.sendgrid] keys (timeout = 5 unless given)."""
    if "timeout" not in sendgrid:
        sendgrid += "timeout = 5\n"
    with project.config.open("a", encoding="utf-8") as config:
        config.write(
            f'\n[transport]\ndefault = "sendgrid"\n[transport.sendgrid]\nhost = "{url}"\n'
            f"batch_size = {batch_size}\n{sendgrid}"
            "[delivery]\nretry_base_seconds = 0.01\nretry_max_seconds = 0.05\n" + extra
        )


def fill_list(
    engine: sa.Engine, count: int, list_name: str = "weekly", start: int = 0
) -> list[str]:
    """``count`` confirmed members named reader<N>@example.com; returns their addresses."""
    emails = [f"reader{number}@example.com" for number in range(start, start + count)]
    rows = "".join(
        f"{email},Reader {number},{'CN' if number % 2 else 'SG'}\n"
        for number, email in enumerate(emails, start=start)
    )
    data = io.BytesIO(("email,name,country\n" + rows).encode())
    import_csv(engine, data, list_name, source="test", confirmed=True)
    return emails


def received(url: str) -> list[dict[str, Any]]:
    with urllib.request.urlopen(f"{url}/_emulator/messages") as response:
        messages: list[dict[str, Any]] = json.loads(response.read())
    return messages


def once_each(url: str, emails: list[str]) -> None:
    """The emulator received exactly these addresses, each once."""
    got = Counter(message["to"] for message in received(url))
    assert sorted(got) == sorted(emails)
    assert set(got.values()) == {1}


def summary(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{url}/_emulator/summary") as response:
        found: dict[str, Any] = json.loads(response.read())
    return found


def ledger(engine: sa.Engine, campaign_id: int) -> dict[int, str]:
    """subscriber id -> ledger status."""
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(deliveries.c.subscriber_id, deliveries.c.status).where(
                deliveries.c.campaign_id == campaign_id
            )
        )
        return {row.subscriber_id: row.status for row in rows}
