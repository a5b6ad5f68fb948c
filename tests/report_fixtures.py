"""A campaign sent to five readers through the outbox by the real command line, a real
`mailer serve` to POST SendGrid's signed events to, and the events told of them: the
fixture ``sent`` of the report tests."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa

from mailer.db.migrate import open_database
from mailer.db.tables import subscribers
from tests.conftest import CliResult, Project
from tests.events_helpers import KEY_VARIABLE, event, unique
from tests.web_server import SIGNING_KEY, WebServer, running_server
from tests.webhook_signing import Signer, post_signed

Cli = Callable[..., CliResult]
READERS = ("ann", "bob", "cat", "dan", "eve")
HOUR = 1764946800  # 2025-12-05T15:00:00Z
HOME = "https://example.com/home"
ARTICLE = "https://example.com/article"


@dataclass
class Sent:
    engine: sa.Engine
    server: WebServer
    signer: Signer
    campaign: int
    ids: dict[str, int]
    """Subscriber id by reader name."""

    def post(self, events: list[dict[str, Any]]) -> None:
        answer = post_signed(self.server.base_url, self.signer, events)
        assert answer.status_code == 200, answer.text

    def event(self, kind: str, reader: str, minute: int, **fields: Any) -> dict[str, Any]:
        """``kind`` for ``reader``, ``minute`` minutes after 15:00 UTC, tied to the campaign."""
        return event(
            kind,
            unique(kind),
            email=f"{reader}@example.com",
            timestamp=HOUR + minute * 60,
            mailer_campaign=str(self.campaign),
            mailer_subscriber=str(self.ids[reader]),
            **fields,
        )


def _send(cli: Cli) -> int:
    assert cli("lists", "create", "weekly").code == 0
    for reader in READERS:
        added = cli("subscribers", "add", f"{reader}@example.com", "-l", "weekly", "--confirmed")
        assert added.code == 0, added.err
    result = cli("send", "87", "--list", "weekly", "--transport", "outbox", "--yes", "--json")
    assert result.code == 0, result.err
    campaign_id: int = json.loads(result.out)["id"]
    return campaign_id


@pytest.fixture
def sent(db_project: Project, cli: Cli, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sent]:
    monkeypatch.setenv("MAILER_SECRET_KEY", SIGNING_KEY)
    campaign_id = _send(cli)
    signer = Signer()
    engine = open_database(db_project.settings().database.url)
    with engine.connect() as connection:
        ids = {
            row.email.split("@")[0]: int(row.id)
            for row in connection.execute(sa.select(subscribers.c.id, subscribers.c.email))
        }
    try:
        with running_server(db_project, {KEY_VARIABLE: signer.public_key}) as server:
            yield Sent(engine, server, signer, campaign_id, ids)
    finally:
        engine.dispose()


def posted_events(sent: Sent) -> list[dict[str, Any]]:
    """Five readers: four delivered (ann twice deferred first), eve bounced for good; dan
    blocked once then delivered; opens (ann's one by a machine only, bob's both), clicks
    (cat's automated), a spam report and SendGrid unsubscribes."""
    e = sent.event
    return [
        *(e("processed", reader, 0) for reader in READERS),
        e("deferred", "ann", 1, response="421 try later"),
        e("deferred", "ann", 5, response="421 try later"),
        e("delivered", "ann", 30, response="250 OK"),
        e("delivered", "bob", 2, response="250 OK"),
        e("delivered", "cat", 2, response="250 OK"),
        e(
            "bounce",
            "dan",
            3,
            type="blocked",
            reason="421 blocked",
            bounce_classification="Reputation",
        ),
        e("delivered", "dan", 70, response="250 OK"),
        e(
            "bounce",
            "eve",
            3,
            type="bounce",
            reason="550 no user",
            bounce_classification="Invalid Address",
        ),
        e("dropped", "eve", 200, reason="Bounced Address"),
        e("open", "ann", 31, sg_machine_open=True),
        e("open", "ann", 90, sg_machine_open=True),
        e("open", "bob", 10, sg_machine_open=True),
        e("open", "bob", 65, sg_machine_open=False),
        e("open", "cat", 62, sg_machine_open=False),
        e("click", "bob", 66, url=HOME),
        e("click", "bob", 67, url=HOME),
        e("click", "bob", 68, url=ARTICLE),
        # A link scanner's click (its user agent says so): automated.
        e("click", "cat", 63, url=ARTICLE, useragent="Mimecast Safe Links"),
        e("spamreport", "cat", 120),
        e("unsubscribe", "bob", 121),
        e("group_unsubscribe", "ann", 122, asm_group_id=7),
    ]
