"""End to end on loopback: the emulator (its own process) answers a send and posts SendGrid's
events, signed, to a real `mailer serve`. The send is killed with SIGKILL while a request is
on the wire and resumed; the events settle the in-doubt batch (whom the emulator accepted
become sent, the rest are resent once): in the emulator's record nobody twice and nobody
lost. A permanent bounce the emulator reported means the next campaign skips the address."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from mailer.db.tables import batches, deliveries, suppressions
from mailer.events.parse import click_url
from tests.conftest import CliResult, Project
from tests.events_helpers import KEY_VARIABLE
from tests.sending import API_KEY, fill_list, received, summary, use_emulator
from tests.web_server import WebServer, running_server

Cli = Callable[..., CliResult]
RECIPIENTS = 300
BATCH = 50
WAIT_SECONDS = 120


def _key_file(folder: Path) -> tuple[Path, str]:
    """A P-256 key for the emulator to sign with, and its public half as SendGrid shows it."""
    import base64

    key = ec.generate_private_key(ec.SECP256R1())
    path = folder / "events-key.pem"
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    path.chmod(0o600)
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return path, base64.b64encode(public).decode("ascii")


def _mailer(project: Project, *args: str) -> list[str]:
    return [sys.executable, "-m", "mailer", "--config", str(project.config), *args]


def _environment() -> dict[str, str]:
    env = {**os.environ, "SENDGRID_API_KEY": API_KEY}
    env.pop("MAILER_CONFIG", None)
    return env


@pytest.fixture
def loop(db_project: Project, tmp_path: Path) -> Iterator[tuple[WebServer, str]]:
    """`mailer serve` checking the emulator's key, and the emulator posting events to it."""
    key_path, public_key = _key_file(tmp_path)
    with running_server(db_project, {KEY_VARIABLE: public_key}) as server:
        emulator = subprocess.Popen(
            _mailer(
                db_project,
                "emulate",
                "sendgrid",
                "--port",
                "0",
                "--seed",
                "5",
                "--latency",
                "0.3",
                "--events-to",
                server.url("/webhooks/sendgrid"),
                "--events-key",
                str(key_path),
                "--events-interval",
                "0.2",
                "--bounce-rate",
                "0.1",
                "--blocked-rate",
                "0",
                "--drop-rate",
                "0",
                "--spam-rate",
                "0",
                "--deferred-rate",
                "0",
            ),
            env=_environment(),
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        try:
            assert emulator.stdout is not None
            url = emulator.stdout.readline().rsplit(" ", 1)[-1].strip()
            assert emulator.stdout.readline().strip() == public_key
            yield server, url
        finally:
            emulator.send_signal(signal.SIGTERM)
            emulator.communicate(timeout=60)


def _count(engine: sa.Engine, query: sa.Select[Any]) -> int:
    with engine.connect() as connection:
        return int(connection.execute(query).scalar_one())


def _events(url: str) -> list[dict[str, Any]]:
    with urllib.request.urlopen(f"{url}/_emulator/events") as answer:
        found: list[dict[str, Any]] = json.loads(answer.read())
    return found


def _events_settled(url: str) -> None:
    """Until the emulator has made and posted every event of what it accepted."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        events = summary(url)["events"]
        if not events["waiting"] and not events["requests_waiting"] and events["posted"]:
            return
        assert time.monotonic() < deadline, events
        time.sleep(0.1)


def _assert_report_matches(cli: Cli, campaign_id: int, posted: list[dict[str, Any]]) -> None:
    mine = [e for e in posted if e.get("mailer_campaign") == str(campaign_id)]

    def who(kind: str, also: Callable[[dict[str, Any]], bool] = lambda e: True) -> int:
        return len({e["email"] for e in mine if e["event"] == kind and also(e)})

    def total(kind: str) -> int:
        return sum(1 for e in mine if e["event"] == kind)

    result = cli("campaigns", "report", str(campaign_id), "--json")
    assert result.code == 0, result.err
    report = json.loads(result.out)
    assert report["processed"] == who("processed") == RECIPIENTS
    assert report["delivered"] == who("delivered")
    assert report["bounced"]["permanent"] == who("bounce", lambda e: e["type"] == "bounce")
    assert report["opens"]["unique"] == who("open") and report["opens"]["total"] == total("open")
    human = who("open", lambda e: not e.get("sg_machine_open"))
    assert report["opens"]["unique_without_machine"] == human
    assert report["clicks"]["unique"] == who("click")
    assert report["clicks"]["total"] == total("click")
    # Stored as mailer keeps click URLs: a per-person link without its token.
    by_url = Counter(click_url(e["url"]) for e in mine if e["event"] == "click")
    assert {link["url"]: link["total"] for link in report["links"]} == dict(by_url)
    assert sum(report["events"].values()) == len(mine)


def _show(cli: Cli, campaign_id: int) -> dict[str, Any]:
    shown = cli("campaigns", "show", str(campaign_id), "--json")
    assert shown.code == 0, shown.err
    found: dict[str, Any] = json.loads(shown.out)
    return found


def test_a_killed_send_is_settled_by_events_with_nobody_twice_or_lost(
    db_project: Project,
    project_engine: sa.Engine,
    cli: Cli,
    loop: tuple[WebServer, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, url = loop
    # One request out at a time, so that the kill leaves exactly one batch in doubt.
    use_emulator(
        db_project,
        url,
        batch_size=BATCH,
        extra="in_doubt_quiet_minutes = 0\n",
        sendgrid="concurrency = 1\n",
    )
    monkeypatch.setenv("SENDGRID_API_KEY", API_KEY)
    assert cli("lists", "create", "weekly").code == 0
    emails = fill_list(project_engine, RECIPIENTS)

    sending = subprocess.Popen(
        _mailer(db_project, "send", "87", "--list", "weekly", "--yes"),
        env=_environment(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    # Killed while a request is on the wire (each takes 0.3 s), after one batch has gone.
    on_the_wire = sa.select(sa.func.count()).where(batches.c.status == "in_flight")
    sent = sa.select(sa.func.count()).where(deliveries.c.status == "sent")
    deadline = time.monotonic() + WAIT_SECONDS
    while not (_count(project_engine, sent) >= BATCH and _count(project_engine, on_the_wire)):
        assert sending.poll() is None and time.monotonic() < deadline, "no request to kill in"
        time.sleep(0.005)
    time.sleep(0.1)
    sending.send_signal(signal.SIGKILL)
    sending.wait(timeout=60)

    [campaign] = json.loads(cli("campaigns", "--json").out)
    resumed = cli("campaigns", "resume", str(campaign["id"]))
    assert resumed.code == 0, resumed.err
    # The batch on the wire is in doubt; events that came while the rest was sent may have
    # confirmed some or all of it already.
    after_resume = _show(cli, campaign["id"])
    assert (
        after_resume["counts"]["in_doubt"] + after_resume["in_doubt_confirmed_by_events"] == BATCH
    )
    _events_settled(url)
    # What the events did not confirm (the emulator never took it) is resent, once.
    after_events = _show(cli, campaign["id"])
    if after_events["counts"]["in_doubt"]:
        resolved = cli("campaigns", "resolve", str(campaign["id"]), "--resend-unconfirmed")
        assert resolved.code == 0, resolved.err
        _events_settled(url)
    shown = _show(cli, campaign["id"])
    assert shown["counts"]["sent"] == RECIPIENTS and shown["counts"]["in_doubt"] == 0
    assert shown["in_doubt_confirmed_by_events"] == BATCH - after_events["counts"]["in_doubt"]
    copies = Counter(message["to"] for message in received(url))
    assert set(copies) == set(emails) and max(copies.values()) == 1

    # The report agrees with what the emulator says it posted for the campaign.
    _assert_report_matches(cli, campaign["id"], _events(url))

    # The emulator's permanent bounces are suppressed, and the next campaign skips them.
    bounced = {e["email"] for e in _events(url) if e["event"] == "bounce" and e["type"] == "bounce"}
    assert bounced, "the emulator bounced nobody: raise --bounce-rate"
    with project_engine.connect() as connection:
        suppressed = set(
            connection.execute(
                sa.select(suppressions.c.email).where(suppressions.c.reason == "bounce")
            ).scalars()
        )
    assert suppressed == bounced
    second = cli("send", "88", "--list", "weekly", "--allow-draft", "--yes", "--json")
    assert second.code == 0, second.err
    second_id = json.loads(second.out)["id"]
    reached = {
        m["to"] for m in received(url) if m["custom_args"].get("mailer_campaign") == str(second_id)
    }
    assert reached == set(emails) - bounced
