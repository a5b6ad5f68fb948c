"""International addresses: internationalized domains go out as A-labels (punycode) in
headers and in the SMTP envelope; a local part that is not ASCII goes only to a server that
offers SMTPUTF8, and to any other fails with the reason while the rest of the batch is sent;
a local part over 64 octets (RFC 5321) is refused at import and at ``subscribers add``."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from mailer.db.tables import deliveries, subscribers
from tests.conftest import CliResult, Project
from tests.mail_checks import assert_one_reader, header_block
from tests.smtp_inbox import smtp_inbox

Cli = Callable[..., CliResult]

IDN = "hdr6@bücher.de"
IDN_WIRE = "hdr6@xn--bcher-kva.de"
UTF8_LOCAL = "jörg@example.com"
PLAIN = ["first@example.com", "last@example.com"]
READERS = [(PLAIN[0], "First"), (IDN, "Hans Bücher"), (UTF8_LOCAL, "Jörg"), (PLAIN[1], "Last")]
# Each reader's name by the address the message goes to.
NAME_AT = {PLAIN[0]: "First", IDN_WIRE: "Hans Bücher", UTF8_LOCAL: "Jörg", PLAIN[1]: "Last"}


def import_readers(db_project: Project, cli: Cli) -> None:
    path = db_project.root / "readers.csv"
    rows = "".join(f"{email},{name}\n" for email, name in READERS)
    path.write_text("email,name\n" + rows, encoding="utf-8")
    assert cli("lists", "create", "weekly").code == 0
    result = cli("subscribers", "import", str(path), "--list", "weekly", "--confirmed", "--json")
    assert result.code == 0, result.err
    assert json.loads(result.out)["imported"] == len(READERS)


def use_smtp(db_project: Project, port: int) -> None:
    with db_project.config.open("a", encoding="utf-8") as config:
        config.write(f'\n[transport.smtp]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\n')


def ledger_by_email(engine: sa.Engine, campaign_id: int) -> dict[str, tuple[str, str | None]]:
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(subscribers.c.email, deliveries.c.status, deliveries.c.error)
            .join(subscribers, subscribers.c.id == deliveries.c.subscriber_id)
            .where(deliveries.c.campaign_id == campaign_id)
        )
        return {row.email: (row.status, row.error) for row in rows}


def send_smtp(cli: Cli) -> dict[str, Any]:
    result = cli("send", "87", "--list", "weekly", "--transport", "smtp", "--yes", "--json")
    assert result.code == 0, result.err
    campaign: dict[str, Any] = json.loads(result.out)
    return campaign


def test_a_server_without_smtputf8_gets_a_labels_and_fails_only_the_utf8_local_part(
    db_project: Project, cli: Cli, project_engine: sa.Engine
) -> None:
    with smtp_inbox(smtputf8=False) as (inbox, port):
        use_smtp(db_project, port)
        import_readers(db_project, cli)
        campaign = send_smtp(cli)
    counts = campaign["counts"]
    assert (counts["sent"], counts["failed"], counts["in_doubt"]) == (3, 1, 0)
    rows = ledger_by_email(project_engine, campaign["id"])
    status, reason = rows[UTF8_LOCAL]
    assert status == "failed" and reason is not None
    assert "SMTPUTF8" in reason and "not ASCII" in reason
    assert sorted(m.recipients for m in inbox.messages) == [[PLAIN[0]], [IDN_WIRE], [PLAIN[1]]]
    for message in inbox.messages:
        assert not message.smtputf8 and header_block(message.content).isascii()
        [address] = message.recipients
        assert_one_reader(message.content, address, NAME_AT[address])


def test_a_server_with_smtputf8_gets_every_reader_and_a_labels_still(
    db_project: Project, cli: Cli, project_engine: sa.Engine
) -> None:
    with smtp_inbox(smtputf8=True) as (inbox, port):
        use_smtp(db_project, port)
        import_readers(db_project, cli)
        campaign = send_smtp(cli)
    assert (campaign["counts"]["sent"], campaign["counts"]["failed"]) == (4, 0)
    by_address = {m.recipients[0]: m for m in inbox.messages}
    assert sorted(by_address) == sorted(NAME_AT)
    # Only the message that needs it is sent as SMTPUTF8; its headers are UTF-8 (RFC 6532).
    assert [a for a, m in by_address.items() if m.smtputf8] == [UTF8_LOCAL]
    assert f"<{UTF8_LOCAL}>".encode() in by_address[UTF8_LOCAL].content
    for address, message in by_address.items():
        assert_one_reader(message.content, address, NAME_AT[address])


def test_the_outbox_writes_a_labels_and_utf8_headers_for_a_utf8_local_part(
    db_project: Project, cli: Cli
) -> None:
    import_readers(db_project, cli)
    result = cli("send", "87", "--list", "weekly", "--yes", "--json")
    assert result.code == 0, result.err
    campaign = json.loads(result.out)
    assert campaign["counts"]["sent"] == len(READERS)
    folder = db_project.root / "var" / "outbox" / f"campaign-{campaign['id']}"
    found = {}
    for path in folder.glob("*.eml"):
        raw = path.read_bytes()
        [address] = [a for a in NAME_AT if f"<{a}>".encode() in raw]
        found[address] = raw
    assert sorted(found) == sorted(NAME_AT)
    for address, raw in found.items():
        # UTF-8 headers only where the local part needs them.
        assert header_block(raw).isascii() == (address != UTF8_LOCAL)
        assert_one_reader(raw, address, NAME_AT[address])


def test_render_eml_writes_a_labels_for_the_reader_and_the_sender(
    project: Project, cli: Cli, tmp_path: Path
) -> None:
    config = project.config.read_text(encoding="utf-8")
    sender = '[newsletter]\nfrom_email = "news@bücher.de"\n'
    project.config.write_text(config.replace("[newsletter]\n", sender), encoding="utf-8")
    out = tmp_path / "ada.eml"
    result = cli("render", "87", "--format", "eml", "--to", "Ada <ada@straße.de>", "-o", str(out))
    assert result.code == 0, result.err
    raw = out.read_bytes()
    assert header_block(raw).isascii()
    message = assert_one_reader(raw, "ada@xn--strae-oqa.de", "Ada")
    assert message["From"].addresses[0].addr_spec == "news@xn--bcher-kva.de"
    assert str(message["Message-ID"]).endswith("@xn--bcher-kva.de>")


LONG_ASCII = "a" * 65 + "@example.com"
LONG_UTF8 = "ü" * 33 + "@example.com"  # 33 characters, 66 octets
LONGEST_ASCII = "b" * 64 + "@example.com"
LONGEST_UTF8 = "é" * 32 + "@example.com"  # 64 octets


def test_an_import_refuses_a_local_part_over_64_octets(db_project: Project, cli: Cli) -> None:
    assert cli("lists", "create", "weekly").code == 0
    # Plain rows around them, so the column-at-a-time check sees the ASCII ones.
    others = [f"r{number}@example.com" for number in range(5)]
    rows = [LONGEST_ASCII, LONG_ASCII, LONGEST_UTF8, LONG_UTF8, *others]
    path = db_project.root / "long.csv"
    path.write_text("email,name\n" + "".join(f"{e},Reader\n" for e in rows), encoding="utf-8")
    result = cli("subscribers", "import", str(path), "--list", "weekly", "--confirmed", "--json")
    assert result.code == 0, result.err
    summary = json.loads(result.out)
    assert (summary["imported"], summary["rejected"]) == (7, 2)
    found = {(p["line"], p["email"], p["outcome"]): p["reason"] for p in summary["problems"]}
    assert sorted(found) == [(3, LONG_ASCII, "rejected"), (5, LONG_UTF8, "rejected")]
    assert all("64" in reason and "@" in reason for reason in found.values()), found
    listed = cli("subscribers", "--list", "weekly", "--all", "--json")
    assert sorted(row["email"] for row in json.loads(listed.out)) == sorted(
        [LONGEST_ASCII, LONGEST_UTF8, *others]
    )


@pytest.mark.parametrize("email", [LONG_ASCII, LONG_UTF8])
def test_subscribers_add_refuses_a_local_part_over_64_octets(
    db_project: Project, cli: Cli, email: str
) -> None:
    assert cli("lists", "create", "weekly").code == 0
    result = cli("subscribers", "add", email, "--list", "weekly")
    assert result.code == 1
    assert f"{email!r} is not a valid email address" in result.err and "64" in result.err
    assert cli("subscribers", "add", LONGEST_UTF8, "--list", "weekly").code == 0


def test_a_utf8_sender_and_a_server_without_smtputf8_pause_the_campaign_sending_nothing(
    db_project: Project, cli: Cli, project_engine: sa.Engine
) -> None:
    config = db_project.config.read_text(encoding="utf-8")
    sender = '[newsletter]\nfrom_email = "zoë@example.com"\n'
    db_project.config.write_text(config.replace("[newsletter]\n", sender), encoding="utf-8")
    with smtp_inbox(smtputf8=False) as (inbox, port):
        use_smtp(db_project, port)
        import_readers(db_project, cli)
        result = cli("send", "87", "--list", "weekly", "--transport", "smtp", "--yes", "--json")
    assert result.code == 1
    campaign = json.loads(result.out)
    assert campaign["status"] == "paused", campaign["message"]
    assert "zoë@example.com" in campaign["message"] and "SMTPUTF8" in campaign["message"]
    assert (campaign["counts"]["sent"], campaign["counts"]["in_doubt"]) == (0, 0)
    assert inbox.messages == []
