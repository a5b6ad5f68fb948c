"""What the Event Webhook tests share: a `mailer serve` with a verification key on a database
of its own, ledger rows to tie events to, and reading back what was stored."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from mailer.db.migrate import open_database
from mailer.db.tables import batches, campaigns, event_urls, events, subscribers
from tests.conftest import fresh_database_url
from tests.web_server import WebServer, make_project, running_server
from tests.webhook_signing import Signer

CREATED = datetime(2026, 12, 1, tzinfo=UTC)
KEY_VARIABLE = "SENDGRID_WEBHOOK_PUBLIC_KEY"


@dataclass
class EventServer:
    server: WebServer
    engine: sa.Engine
    signer: Signer

    @property
    def base_url(self) -> str:
        return self.server.base_url


@contextmanager
def event_server(
    backend: str, folder: Path, signer: Signer, env: dict[str, str] | None = None
) -> Iterator[EventServer]:
    """`mailer serve` on a fresh database, with ``signer``'s public key configured."""
    with ExitStack() as stack:
        url = stack.enter_context(fresh_database_url(backend, folder))
        project = make_project(folder / "project", url)
        server = stack.enter_context(
            running_server(project, {KEY_VARIABLE: signer.public_key, **(env or {})})
        )
        engine = open_database(url)
        stack.callback(engine.dispose)
        yield EventServer(server, engine, signer)


def unique(prefix: str = "") -> str:
    return f"{prefix}{uuid.uuid4().hex[:16]}"


def add_subscriber(engine: sa.Engine, email: str) -> int:
    with engine.begin() as connection:
        return int(
            connection.execute(
                sa.insert(subscribers)
                .values(
                    email=email,
                    email_key=email.lower(),
                    name="",
                    attributes={},
                    created_at=CREATED,
                    updated_at=CREATED,
                )
                .returning(subscribers.c.id)
            ).scalar_one()
        )


def add_campaign_batch(engine: sa.Engine, message_id: str) -> tuple[int, int]:
    """A sent campaign and one batch of it whose request SendGrid called ``message_id``."""
    with engine.begin() as connection:
        campaign_id = connection.execute(
            sa.insert(campaigns)
            .values(
                issue_number=87,
                issue_file="087.md",
                list_name="weekly",
                transport="sendgrid",
                status="sent",
                created_at=CREATED,
                updated_at=CREATED,
            )
            .returning(campaigns.c.id)
        ).scalar_one()
        batch_id = connection.execute(
            sa.insert(batches)
            .values(
                campaign_id=campaign_id,
                status="sent",
                size=1,
                message_id=message_id,
                created_at=CREATED,
            )
            .returning(batches.c.id)
        ).scalar_one()
    return int(campaign_id), int(batch_id)


def stored(engine: sa.Engine, sg_event_ids: list[str]) -> dict[str, dict[str, Any]]:
    """The stored rows of these events (with the clicked URL as ``url``), by sg_event_id."""
    query = (
        sa.select(events, event_urls.c.url)
        .outerjoin(event_urls, event_urls.c.id == events.c.url_id)
        .where(events.c.sg_event_id.in_(sg_event_ids))
    )
    with engine.connect() as connection:
        return {row.sg_event_id: dict(row._mapping) for row in connection.execute(query)}


def event(kind: str, sg_event_id: str, **fields: Any) -> dict[str, Any]:
    """An event as SendGrid posts it (time, address and message id filled in)."""
    return {
        "email": "ada@example.com",
        "timestamp": 1764950000,
        "smtp-id": "<14c5d75ce93.dfd.64b469@ismtpd-555>",
        "event": kind,
        "sg_event_id": sg_event_id,
        "sg_message_id": "14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0",
        **fields,
    }
