"""A subscriber's name is data, never header text: whatever it holds (encoded-words, CR, LF,
line separators, bidi overrides, quotes, commas, angle brackets), every message written for
them has exactly the intended headers, one To address (theirs), and shows the name as typed.

Covers each path that writes a message with a name: the message builder, the outbox and SMTP
transports, ``mailer render --format eml --to``, CSV import through to the outbox and SMTP,
and the SendGrid request (with the emulator's copy of the message SendGrid would build).
"""

from __future__ import annotations

import base64
import csv
import io
import json
import tempfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailer.config import NewsletterSettings, SendGridSettings, SmtpSettings
from mailer.db.tables import subscribers
from mailer.delivery.transports.base import BatchContent, Outgoing, PreparedRequest
from mailer.delivery.transports.outbox import OutboxTransport
from mailer.delivery.transports.sendgrid_payload import PayloadBuilder
from mailer.delivery.transports.smtp import SmtpTransport
from mailer.emulator.server import EmulatorOptions
from mailer.render.eml import Envelope, build_message
from mailer.render.pipeline import PersonalizedEmail
from mailer.render.tokens import MergeTemplate, Recipient
from tests.conftest import CliResult, Project
from tests.mail_checks import assert_one_reader, shown_name
from tests.sending import API_KEY, received, running_emulator, use_emulator
from tests.smtp_inbox import Inbox, smtp_inbox

Cli = Callable[..., CliResult]


def encoded_word(text: str) -> str:
    return f"=?utf-8?b?{base64.b64encode(text.encode()).decode()}?="


ATTACK = "=?utf-8?q?Ann=0D=0ABcc=3A_attacker=40evil=2Eexample?="
HOSTILE_NAMES = [
    ATTACK,
    encoded_word("Ann\r\nBcc: attacker@evil.example"),
    encoded_word("x\r\nTo: eve@evil.example"),
    "=?utf-8?q?Eve?= <eve@evil.example>, =?utf-8?q?Ann?=",
    'Eve <eve@evil.example>, "Mallory" <mallory@evil.example>',
    "Ann\r\nBcc: attacker@evil.example",
    "Ann\nBcc: attacker@evil.example",
    "Ann\rBcc: attacker@evil.example",
    "Ann\u2028Bcc: attacker@evil.example\u2029",
    "Ann\x85Bcc: attacker@evil.example",
    "\u202eelpmaxe.live@rekcatta\u202c",
    "\u2067Ann\u2069 \u202dBob",
    '"Lin, Ada" \\" <',
    "Lin, Ada",
    "<>",
    "a\x00b\tc\x7f",
    "=?iso-8859-1?q?=E9?=",
    "=?",
    "?=",
    "=?utf-8?b?QUJD?==?utf-8?b?REVG?=",
    "O'Brien; (comment) [x] : @ . \\",
    "Zoë Müller-Lüdenscheidt von und zu Großherzogtum Baden-Württemberg " * 3,
    "张伟" * 90,
    "🙂" * 200,
    "Ada  Lin",
    "Ada Lin",
    "",
    "   ",
]
names = st.one_of(
    st.sampled_from(HOSTILE_NAMES),
    st.text(max_size=60),
    st.lists(st.one_of(st.sampled_from(HOSTILE_NAMES), st.text(max_size=8)), max_size=5).map(
        "".join
    ),
)
NEWSLETTER = NewsletterSettings(postal_address="1 Example Road")
SENT_AT = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def content(campaign_id: int | None = 7) -> BatchContent:
    return BatchContent(
        subject="Issue 87",
        html=MergeTemplate("<p>Dear @@h.name@@</p>"),
        text=MergeTemplate("Dear @@t.name@@"),
        newsletter=NEWSLETTER,
        list_name="weekly",
        campaign_id=campaign_id,
    )


def batch_of(batch_names: list[str]) -> list[Outgoing]:
    return [
        Outgoing(key, Recipient(f"reader{key}@example.com", name, f"https://n.example/u/{key}"))
        for key, name in enumerate(batch_names, start=1)
    ]


@settings(max_examples=400, deadline=None)
@given(name=names)
def test_a_written_message_has_the_intended_headers_whatever_the_name(name: str) -> None:
    reader = Recipient("ada@example.com", name, "https://n.example/u/1")
    body = PersonalizedEmail(subject="Issue 87", html="<p>x</p>", text="x")
    raw = build_message(Envelope(NEWSLETTER, "weekly", SENT_AT), reader, body).as_bytes()
    assert_one_reader(raw, "ada@example.com", name)


def test_a_name_that_is_not_valid_unicode_is_written_with_a_replacement_character() -> None:
    reader = Recipient("ada@example.com", "Ada \udcff Lin", "https://n.example/u/1")
    body = PersonalizedEmail(subject="Issue 87", html="<p>x</p>", text="x")
    raw = build_message(Envelope(NEWSLETTER, "weekly", SENT_AT), reader, body).as_bytes()
    assert_one_reader(raw, "ada@example.com", "Ada \ufffd Lin")


@settings(max_examples=60, deadline=None)
@given(batch_names=st.lists(names, min_size=1, max_size=6))
def test_the_outbox_writes_every_name_as_data(batch_names: list[str]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        batch = batch_of(batch_names)
        transport = OutboxTransport(Path(folder), clock=lambda: SENT_AT)
        result = transport.deliver(PreparedRequest(content(), batch))
        assert result.not_sent == 0
        for item in batch:
            path = Path(folder) / "campaign-7" / f"{item.key}.eml"
            assert_one_reader(path.read_bytes(), item.recipient.email, item.recipient.name)


@pytest.fixture(scope="module")
def plain_smtp() -> Iterator[tuple[Inbox, int]]:
    with smtp_inbox(smtputf8=False) as server:
        yield server


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(batch_names=st.lists(names, min_size=1, max_size=6))
def test_smtp_sends_every_name_as_data(
    plain_smtp: tuple[Inbox, int], batch_names: list[str]
) -> None:
    inbox, port = plain_smtp
    inbox.messages.clear()
    transport = SmtpTransport(
        SmtpSettings(host="127.0.0.1", port=port, security="none"), "", clock=lambda: SENT_AT
    )
    batch = batch_of(batch_names)
    try:
        result = transport.deliver(PreparedRequest(content(), batch))
    finally:
        transport.close()
    assert result.not_sent == 0
    assert [message.recipients for message in inbox.messages] == [
        [item.recipient.email] for item in batch
    ]
    for message, item in zip(inbox.messages, batch, strict=True):
        assert_one_reader(message.content, item.recipient.email, item.recipient.name)


OTHER_TO = encoded_word("Ann, Eve <eve@evil.example>")


@pytest.mark.parametrize(
    ("to", "name"),
    [
        (f"{ATTACK} <ada@example.com>", ATTACK),
        (f"{OTHER_TO} <ada@example.com>", OTHER_TO),
        ('"Lin, Ada \\"A\\" <x@evil.example>" <ada@example.com>', 'Lin, Ada "A" <x@evil.example>'),
        ("\u202eZoë <ada@example.com>", "\u202eZoë"),
    ],
)
def test_render_eml_writes_the_to_name_as_data(
    project: Project, cli: Cli, tmp_path: Path, to: str, name: str
) -> None:
    out = tmp_path / "reader.eml"
    result = cli("render", "87", "--format", "eml", "--to", to, "-o", str(out))
    assert result.code == 0, result.err
    assert_one_reader(out.read_bytes(), "ada@example.com", name)


def csv_bytes(rows: list[tuple[str, str]]) -> bytes:
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(["email", "name"])
    writer.writerows(rows)
    return text.getvalue().encode()


IMPORTED = [(f"inj{number}@example.com", name) for number, name in enumerate(HOSTILE_NAMES[:15])]
# The row of the report, as written there (no quoting).
REPORTED_ROW = f"inj99@example.com,{ATTACK}\n".encode()


def import_hostile_names(db_project: Project, cli: Cli) -> None:
    path = db_project.root / "hostile.csv"
    path.write_bytes(csv_bytes(IMPORTED) + REPORTED_ROW)
    assert cli("lists", "create", "weekly").code == 0
    result = cli("subscribers", "import", str(path), "--list", "weekly", "--confirmed")
    assert result.code == 0, result.err


def stored_names(engine: sa.Engine) -> dict[str, str]:
    with engine.connect() as connection:
        rows = connection.execute(sa.select(subscribers.c.email, subscribers.c.name))
        return {row.email: row.name for row in rows}


def test_imported_names_go_to_the_outbox_as_data(
    db_project: Project, cli: Cli, project_engine: sa.Engine
) -> None:
    import_hostile_names(db_project, cli)
    names_by_email = stored_names(project_engine)
    assert names_by_email["inj99@example.com"] == ATTACK
    result = cli("send", "87", "--list", "weekly", "--yes", "--json")
    assert result.code == 0, result.err
    campaign = json.loads(result.out)
    assert campaign["counts"]["sent"] == len(names_by_email)
    folder = db_project.root / "var" / "outbox" / f"campaign-{campaign['id']}"
    files = sorted(folder.glob("*.eml"))
    assert len(files) == len(names_by_email)
    for path in files:
        raw = path.read_bytes()
        email = next(e for e in names_by_email if f"<{e}>".encode() in raw)
        assert_one_reader(raw, email, names_by_email[email])


def test_imported_names_go_over_smtp_as_data(
    db_project: Project, cli: Cli, project_engine: sa.Engine
) -> None:
    with smtp_inbox(smtputf8=True) as (inbox, port):
        with db_project.config.open("a", encoding="utf-8") as config:
            config.write(
                f'\n[transport.smtp]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\n'
            )
        import_hostile_names(db_project, cli)
        result = cli("send", "87", "--list", "weekly", "--transport", "smtp", "--yes", "--json")
    assert result.code == 0, result.err
    names_by_email = stored_names(project_engine)
    assert json.loads(result.out)["counts"]["sent"] == len(names_by_email)
    assert sorted(m.recipients[0] for m in inbox.messages) == sorted(names_by_email)
    for message in inbox.messages:
        [email] = message.recipients
        assert_one_reader(message.content, email, names_by_email[email])


@settings(max_examples=200, deadline=None)
@given(batch_names=st.lists(names, min_size=1, max_size=8))
def test_the_sendgrid_request_carries_each_name_as_a_plain_string(
    batch_names: list[str],
) -> None:
    batch = batch_of(batch_names)
    body, left_out = PayloadBuilder(content(), SendGridSettings()).body(batch)
    assert left_out == {}
    request: dict[str, Any] = json.loads(body)
    assert set(request["headers"]) == {"List-Id", "List-Unsubscribe-Post"}
    for personalization, item in zip(request["personalizations"], batch, strict=True):
        expected = {"email": item.recipient.email}
        if shown_name(item.recipient.name):
            expected["name"] = shown_name(item.recipient.name)
        assert personalization["to"] == [expected]
        assert set(personalization) == {"to", "headers", "custom_args", "substitutions"}
        assert set(personalization["headers"]) == {"List-Unsubscribe"}


def test_the_emulator_builds_the_message_sendgrid_would_with_the_name_as_data(
    db_project: Project,
    cli: Cli,
    project_engine: sa.Engine,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    store = tmp_path / "store"
    with running_emulator(EmulatorOptions(store=store)) as (_, url):
        use_emulator(db_project, url)
        monkeypatch.setenv("SENDGRID_API_KEY", API_KEY)
        import_hostile_names(db_project, cli)
        result = cli("send", "87", "--list", "weekly", "--yes", "--json")
        assert result.code == 0, result.err
        accepted = received(url)
    names_by_email = stored_names(project_engine)
    assert {m["to"]: m["name"] for m in accepted} == {
        email: shown_name(name) for email, name in names_by_email.items()
    }
    files = sorted(store.glob("*.eml"))
    assert len(files) == len(names_by_email)
    for path in files:
        raw = path.read_bytes()
        email = next(e for e in names_by_email if f"<{e}>".encode() in raw)
        message = assert_one_reader(raw, email, names_by_email[email], SENDGRID_HEADERS)
        assert message["X-Message-Id"]


# The emulator's copy carries X-Message-Id where ours has Date and Message-ID.
SENDGRID_HEADERS = [
    "Subject",
    "From",
    "To",
    "X-Message-Id",
    "List-Id",
    "List-Unsubscribe-Post",
    "List-Unsubscribe",
    "MIME-Version",
    "Content-Type",
]
