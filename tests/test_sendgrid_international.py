"""SendGrid requests carry internationalized domains as A-labels (punycode), as the SMTP
envelope and the .eml files do: in each personalization's ``to``, in ``from`` and in
``reply_to``, whichever way the request body is written (the plain-batch writer or the general
path). A reader's own address in the text they read stays as they know it."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa

from mailer.config import NewsletterSettings, SendGridSettings
from mailer.delivery.transports.base import BatchContent, Outgoing
from mailer.delivery.transports.sendgrid_payload import PayloadBuilder
from mailer.render.tokens import MergeTemplate, Recipient
from tests.conftest import CliResult, Project
from tests.sending import API_KEY, received, running_emulator, summary, use_emulator

Cli = Callable[..., CliResult]

PLAIN = ["first@example.com", "last@example.com"]
IDN = "hdr6@bücher.de"
IDN_WIRE = "hdr6@xn--bcher-kva.de"
UTF8_IDN = "王芳@例子.中国"
UTF8_IDN_WIRE = "王芳@xn--fsqu00a.xn--fiqs8s"
# A plain name keeps the batch on the plain writer; a quote in it takes the general path.
NAMES = {"plain": "Hans Buecher", "general": 'Hans "HB" Bücher'}


@pytest.mark.parametrize("path", sorted(NAMES))
def test_an_idn_subscriber_is_sent_to_the_a_label_through_the_emulator(
    db_project: Project,
    cli: Cli,
    project_engine: sa.Engine,
    monkeypatch: pytest.MonkeyPatch,
    path: str,
) -> None:
    config = db_project.config.read_text(encoding="utf-8")
    sender = '[newsletter]\nfrom_email = "news@straße.de"\nreply_to = "desk@straße.de"\n'
    db_project.config.write_text(config.replace("[newsletter]\n", sender), encoding="utf-8")
    readers = db_project.root / "readers.csv"
    rows = [(PLAIN[0], "First"), (IDN, NAMES[path]), (PLAIN[1], "Last")]
    readers.write_text("email,name\n" + "".join(f"{e},{n}\n" for e, n in rows), "utf-8")
    with running_emulator() as (_, url):
        use_emulator(db_project, url)
        monkeypatch.setenv("SENDGRID_API_KEY", API_KEY)
        assert cli("lists", "create", "weekly").code == 0
        imported = cli("subscribers", "import", str(readers), "-l", "weekly", "--confirmed")
        assert imported.code == 0, imported.err
        result = cli("send", "87", "--list", "weekly", "--yes", "--json")
        assert result.code == 0, result.err
        accepted = received(url)
        stats = summary(url)
    campaign = json.loads(result.out)
    assert (campaign["counts"]["sent"], campaign["counts"]["failed"]) == (3, 0)
    assert "rejected" not in stats and stats["duplicates"] == 0
    assert sorted(message["to"] for message in accepted) == sorted([*PLAIN, IDN_WIRE])


def builder(reply_to: str = "desk@straße.de") -> PayloadBuilder:
    content = BatchContent(
        subject="Issue 87",
        html=MergeTemplate("<p>@@h.name@@, this is for @@h.email@@</p>"),
        text=MergeTemplate("@@t.name@@, this is for @@t.email@@"),
        newsletter=NewsletterSettings(
            from_email="news@Straße.de", reply_to=reply_to, postal_address="1 Example Road"
        ),
        list_name="weekly",
        campaign_id=7,
    )
    return PayloadBuilder(content, SendGridSettings())


def batch(name: str) -> list[Outgoing]:
    emails = [PLAIN[0], IDN, UTF8_IDN, PLAIN[1]]
    return [
        Outgoing(key, Recipient(email, name, f"https://news.example.com/u/{key}"))
        for key, email in enumerate(emails, start=1)
    ]


@pytest.mark.parametrize("path", sorted(NAMES))
def test_the_request_body_carries_a_labels_and_the_text_the_address_as_known(
    path: str,
) -> None:
    payload = builder()
    items = batch(NAMES[path])
    assert payload.plain_writer is not None
    assert (payload.plain_writer.personalizations(items) is not None) == (path == "plain")
    body, left_out = payload.body(items)
    assert left_out == {}
    request: dict[str, Any] = json.loads(body)
    assert request["from"]["email"] == "news@xn--strae-oqa.de"
    assert request["reply_to"]["email"] == "desk@xn--strae-oqa.de"
    sent_to = [p["to"][0]["email"] for p in request["personalizations"]]
    assert sent_to == [PLAIN[0], IDN_WIRE, UTF8_IDN_WIRE, PLAIN[1]]
    shown = [list(p["substitutions"].values()) for p in request["personalizations"]]
    for values, item in zip(shown, items, strict=True):
        assert item.recipient.email in values


def test_an_address_twice_in_a_batch_is_left_out_whichever_form_it_came_in() -> None:
    payload = builder(reply_to="")
    items = [
        Outgoing(1, Recipient(IDN, "Hans", "https://news.example.com/u/1")),
        Outgoing(2, Recipient(IDN_WIRE, "Hans", "https://news.example.com/u/2")),
    ]
    body, left_out = payload.body(items)
    assert list(left_out) == [2] and "twice" in left_out[2]
    request: dict[str, Any] = json.loads(body)
    assert [p["to"][0]["email"] for p in request["personalizations"]] == [IDN_WIRE]


def test_an_address_with_no_ascii_form_is_left_out_with_the_reason() -> None:
    payload = builder()
    items = [
        Outgoing(1, Recipient(PLAIN[0], "First", "https://news.example.com/u/1")),
        Outgoing(2, Recipient("hans@bü_cher.de", "Hans", "https://news.example.com/u/2")),
    ]
    body, left_out = payload.body(items)
    assert list(left_out) == [2] and "bü_cher.de" in left_out[2]
    request: dict[str, Any] = json.loads(body)
    assert [p["to"][0]["email"] for p in request["personalizations"]] == [PLAIN[0]]
