"""What the Event Webhook refuses, on a real `mailer serve`: a missing, forged, wrong-key or
damaged signature (403, nothing stored), a server with no key (403 unless unsigned events are
allowed, with a warning), a key that does not parse (an error at start), a body that is not
a JSON array (400), an oversize body (413), and a database that cannot store (503, after
which SendGrid's retry stores everything once). Erasing a person erases their events."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import orjson
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from mailer.audience.subscribers import forget_subscriber
from mailer.db.migrate import open_database
from mailer.db.tables import events
from tests.conftest import (
    DATABASE_BACKENDS,
    POSTGRES_URL,
    CliResult,
    Project,
    fresh_database_url,
)
from tests.events_helpers import (
    KEY_VARIABLE,
    EventServer,
    add_subscriber,
    event,
    event_server,
    stored,
    unique,
)
from tests.test_web_health import Relay
from tests.web_server import WebServer, make_project, running_server
from tests.webhook_signing import (
    SIGNATURE_HEADER,
    TIMESTAMP,
    TIMESTAMP_HEADER,
    Signer,
    post_signed,
)

URL = "/webhooks/sendgrid"


@pytest.fixture(scope="module", params=DATABASE_BACKENDS)
def events_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[EventServer]:
    folder = tmp_path_factory.mktemp("refusals")
    with event_server(request.param, folder, Signer()) as server:
        yield server


def _count(engine: sa.Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(sa.select(sa.func.count()).select_from(events)).scalar_one())


def _body() -> bytes:
    return orjson.dumps([event("delivered", unique("refused")), event("open", unique("r"))])


def _flip_one_byte(body: bytes) -> bytes:
    at = body.index(b"delivered")
    return body[:at] + b"D" + body[at + 1 :]


def _headers_missing(body: bytes, signer: Signer) -> dict[str, str]:
    return {}


def _signature_missing(body: bytes, signer: Signer) -> dict[str, str]:
    return {TIMESTAMP_HEADER: TIMESTAMP}


def _timestamp_missing(body: bytes, signer: Signer) -> dict[str, str]:
    return {SIGNATURE_HEADER: signer.signature(body)}


def _other_key(body: bytes, signer: Signer) -> dict[str, str]:
    return Signer().headers(body)


def _other_timestamp(body: bytes, signer: Signer) -> dict[str, str]:
    return {**signer.headers(body), TIMESTAMP_HEADER: str(int(TIMESTAMP) + 1)}


def _truncated(body: bytes, signer: Signer) -> dict[str, str]:
    headers = signer.headers(body)
    return {**headers, SIGNATURE_HEADER: headers[SIGNATURE_HEADER][:-8]}


def _not_base64(body: bytes, signer: Signer) -> dict[str, str]:
    return {**signer.headers(body), SIGNATURE_HEADER: "!!!not*base64==="}


def _bad_padding(body: bytes, signer: Signer) -> dict[str, str]:
    return {**signer.headers(body), SIGNATURE_HEADER: "abc"}


def _not_der(body: bytes, signer: Signer) -> dict[str, str]:
    garbage = base64.b64encode(b"\x30" + bytes(70)).decode()
    return {**signer.headers(body), SIGNATURE_HEADER: garbage}


def _signed_then_changed(body: bytes, signer: Signer) -> dict[str, str]:
    return signer.headers(_flip_one_byte(body))


@pytest.mark.parametrize(
    "forge",
    [
        _headers_missing,
        _signature_missing,
        _timestamp_missing,
        _other_key,
        _other_timestamp,
        _truncated,
        _not_base64,
        _bad_padding,
        _not_der,
        _signed_then_changed,
    ],
)
def test_a_missing_or_wrong_signature_is_403_and_stores_nothing(
    events_server: EventServer, forge: Callable[[bytes, Signer], dict[str, str]]
) -> None:
    before = _count(events_server.engine)
    body = _body()
    answer = httpx.post(
        events_server.base_url + URL,
        content=body,
        headers={"content-type": "application/json", **forge(body, events_server.signer)},
    )
    assert answer.status_code == 403
    assert answer.json() == {"error": "the signature does not verify"}
    assert _count(events_server.engine) == before


@pytest.mark.parametrize(
    "body", [b"", b"[", b"{}", b'{"event": "open"}', b"null", b"17", b'"[]"', b"[1,]", b"NaN"]
)
def test_a_signed_body_that_is_not_a_json_array_is_400(
    events_server: EventServer, body: bytes
) -> None:
    before = _count(events_server.engine)
    answer = post_signed(events_server.base_url, events_server.signer, body)
    assert answer.status_code == 400
    assert _count(events_server.engine) == before


def test_a_body_that_is_not_utf8_is_400_when_signed_and_403_when_not(
    events_server: EventServer,
) -> None:
    body = orjson.dumps([event("delivered", unique("latin"))]).replace(b"ismtpd", b"\xe9smtpd")
    assert post_signed(events_server.base_url, events_server.signer, body).status_code == 400
    forged = Signer().headers(body)
    answer = httpx.post(events_server.base_url + URL, content=body, headers=forged)
    assert answer.status_code == 403


def test_an_oversize_body_is_413(events_server: EventServer) -> None:
    before = _count(events_server.engine)
    padding = "x" * (4 * 1024 * 1024)
    body = orjson.dumps([event("delivered", unique("big"), reason=padding)])
    answer = post_signed(events_server.base_url, events_server.signer, body)
    assert answer.status_code == 413
    assert _count(events_server.engine) == before
    # SendGrid's largest batches (768 KB) pass.
    body = orjson.dumps([event("delivered", unique("big"), reason="x" * 768 * 1024)])
    assert post_signed(events_server.base_url, events_server.signer, body).status_code == 200


def test_other_methods_are_not_allowed(events_server: EventServer) -> None:
    assert httpx.get(events_server.base_url + URL).status_code == 405


def test_without_a_key_every_post_is_403(start_web_server: Callable[..., WebServer]) -> None:
    server = start_web_server()
    signer = Signer()
    body = _body()
    answer = httpx.post(server.url(URL), content=body, headers=signer.headers(body))
    assert answer.status_code == 403
    assert answer.json() == {"error": "no verification key is configured"}
    assert "Warning" not in server.log_text()


def test_unsigned_events_are_taken_only_when_allowed_with_a_warning_at_start(
    start_web_server: Callable[..., WebServer], project_engine: sa.Engine
) -> None:
    server = start_web_server({"MAILER_WEB_SENDGRID_WEBHOOK_UNSIGNED": "true"})
    sg_event_id = unique("unsigned")
    answer = httpx.post(server.url(URL), content=orjson.dumps([event("open", sg_event_id)]))
    assert answer.json() == {"received": 1, "new": 1, "duplicates": 0, "malformed": 0}
    assert sg_event_id in stored(project_engine, [sg_event_id])
    assert "Warning: POST /webhooks/sendgrid accepts events nobody signed" in server.log_text()


def test_a_configured_key_makes_unsigned_events_refused_even_when_allowed(
    start_web_server: Callable[..., WebServer],
) -> None:
    signer = Signer()
    server = start_web_server(
        {"MAILER_WEB_SENDGRID_WEBHOOK_UNSIGNED": "true", KEY_VARIABLE: signer.public_key}
    )
    answer = httpx.post(server.url(URL), content=_body())
    assert answer.status_code == 403
    assert "Warning" not in server.log_text()


def test_the_key_in_the_config_file_is_used_and_the_variable_wins(
    start_web_server: Callable[..., WebServer], db_project: Project
) -> None:
    in_file, in_variable = Signer(), Signer()
    with db_project.config.open("a", encoding="utf-8") as config:
        config.write(f'\n[web]\nsendgrid_webhook_public_key = "{in_file.public_key}"\n')
    server = start_web_server()
    assert post_signed(server.base_url, in_file, [event("open", unique())]).status_code == 200
    server = start_web_server({KEY_VARIABLE: in_variable.public_key})
    assert post_signed(server.base_url, in_file, [event("open", unique())]).status_code == 403
    assert post_signed(server.base_url, in_variable, [event("open", unique())]).status_code == 200


@pytest.mark.parametrize(
    ("variable", "value", "named"),
    [
        ("MAILER_WEB_SENDGRID_WEBHOOK_PUBLIC_KEY", "not a key", "web.sendgrid_webhook_public_key"),
        (KEY_VARIABLE, "AAAA", f"environment variable {KEY_VARIABLE}"),
        # A key of another kind than SendGrid's (an RSA key would be refused the same way).
        (
            KEY_VARIABLE,
            base64.b64encode(b"\x30\x03\x02\x01\x00").decode(),
            f"environment variable {KEY_VARIABLE}",
        ),
    ],
)
def test_a_key_that_does_not_parse_stops_serve_at_start_naming_the_setting(
    cli: Callable[..., CliResult],
    monkeypatch: pytest.MonkeyPatch,
    variable: str,
    value: str,
    named: str,
) -> None:
    monkeypatch.setenv(variable, value)
    result = cli("serve", "--port", "1")
    assert result.code != 0
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    assert named in lines[0]
    assert "Traceback" not in result.err


def test_sqlite_gone_is_503_and_the_retry_stores_everything_once(tmp_path: Path) -> None:
    with event_server("sqlite", tmp_path, Signer()) as server:
        ids = [unique("retry") for _ in range(3)]
        batch = [event("delivered", sg_event_id) for sg_event_id in ids]
        database = Path(str(server.engine.url.database))
        moved = database.rename(tmp_path / "moved.db")
        answer = post_signed(server.base_url, server.signer, batch)
        assert (answer.status_code, answer.json()) == (
            503,
            {"error": "the database is unavailable; try again"},
        )
        moved.rename(database)
        assert stored(server.engine, ids) == {}
        retried = post_signed(server.base_url, server.signer, batch)
        assert retried.json() == {"received": 3, "new": 3, "duplicates": 0, "malformed": 0}
        assert post_signed(server.base_url, server.signer, batch).json()["new"] == 0
        assert len(stored(server.engine, ids)) == 3
    assert "events not stored (answered 503; SendGrid will retry)" in server.server.log_text()


@pytest.mark.skipif(not POSTGRES_URL, reason="needs MAILER_TEST_DATABASE_URL (PostgreSQL)")
def test_postgresql_unreachable_is_503_and_the_retry_stores_everything_once(
    tmp_path: Path,
) -> None:
    signer = Signer()
    with fresh_database_url("postgresql", tmp_path) as direct:
        url = make_url(direct)
        relay = Relay((url.host or "127.0.0.1", url.port or 5432))
        through_relay = url.set(port=relay.port).render_as_string(hide_password=False)
        engine = open_database(direct)
        try:
            project = make_project(tmp_path / "project", through_relay)
            with running_server(project, {KEY_VARIABLE: signer.public_key}) as server:
                ids = [unique("retry") for _ in range(3)]
                batch = [event("delivered", sg_event_id) for sg_event_id in ids]
                relay.cut()
                answer = post_signed(server.base_url, signer, batch)
                assert answer.status_code == 503
                relay.restore()
                assert stored(engine, ids) == {}
                retried = post_signed(server.base_url, signer, batch)
                assert retried.json() == {"received": 3, "new": 3, "duplicates": 0, "malformed": 0}
                assert post_signed(server.base_url, signer, batch).json()["new"] == 0
                assert len(stored(engine, ids)) == 3
        finally:
            relay.cut()
            engine.dispose()


def test_forgetting_a_person_erases_their_events(events_server: EventServer) -> None:
    email = f"{unique('fay')}@example.com"
    subscriber = add_subscriber(events_server.engine, email)
    other = f"{unique('gus')}@example.com"
    add_subscriber(events_server.engine, other)
    ids = [unique("forget") for _ in range(4)]
    post_signed(
        events_server.base_url,
        events_server.signer,
        [
            event("delivered", ids[0], email=email, mailer_subscriber=str(subscriber)),
            event("open", ids[1], email=email),
            event("delivered", ids[2], email=other),
        ],
    )
    # An event kept by address, from before the person was a subscriber.
    with events_server.engine.begin() as connection:
        connection.execute(
            sa.insert(events).values(
                sg_event_id=ids[3], kind="bounce", occurred_at=1, email_key=email
            )
        )
    forget_subscriber(events_server.engine, email.upper())
    assert set(stored(events_server.engine, ids)) == {ids[2]}
