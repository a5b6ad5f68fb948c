"""The floor for bench/send.py: POST a finished campaign's request bodies, built beforehand
(not timed) exactly as the sendgrid transport builds them, one after another over one
keep-alive connection, and print JSON with the time the POSTs took.

Usage: send_floor.py CONFIG CAMPAIGN_ID EMULATOR_URL
"""

from __future__ import annotations

import http.client
import json
import os
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import orjson
import sqlalchemy as sa

from mailer.config import load_settings
from mailer.db.engine import create_db_engine
from mailer.db.tables import deliveries, subscribers
from mailer.delivery.ledger_reads import LedgerRecipient
from mailer.delivery.recipients import RecipientBuilder
from mailer.delivery.sending import campaign_content
from mailer.delivery.transports.sendgrid_payload import PayloadBuilder
from mailer.signing import load_secret_key


def build_bodies(config: Path, campaign_id: int) -> list[bytes]:
    settings = load_settings(config)
    engine = create_db_engine(settings.database.url)
    content = campaign_content(engine, settings, campaign_id)
    key = load_secret_key(settings.web.secret_key_env, settings.paths.var)
    recipients = RecipientBuilder(content, key)
    payloads = PayloadBuilder(content, settings.transport.sendgrid)
    size = settings.transport.sendgrid.batch_size
    bodies = []
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(
                subscribers.c.id,
                subscribers.c.email,
                subscribers.c.name,
                sa.cast(subscribers.c.attributes, sa.Text),
            )
            .join(deliveries, deliveries.c.subscriber_id == subscribers.c.id)
            .where(deliveries.c.campaign_id == campaign_id)
            .order_by(subscribers.c.id)
        ).all()
    for start in range(0, len(rows), size):
        batch = [
            LedgerRecipient(row[0], row[1], row[2], orjson.loads(row[3]))
            for row in rows[start : start + size]
        ]
        body, left_out = payloads.body(recipients.outgoing(batch))
        assert not left_out, left_out
        bodies.append(body)
    engine.dispose()
    return bodies


def main() -> None:
    config, campaign_id, url = Path(sys.argv[1]), int(sys.argv[2]), urlsplit(sys.argv[3])
    bodies = build_bodies(config, campaign_id)
    headers = {
        "Authorization": f"Bearer {os.environ['SENDGRID_API_KEY']}",
        "Content-Type": "application/json",
    }
    connection = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port)
    started = time.perf_counter()
    for body in bodies:
        connection.request("POST", "/v3/mail/send", body, headers)
        response = connection.getresponse()
        response.read()
        if response.status != 202:
            raise SystemExit(f"the emulator answered {response.status}")
    seconds = time.perf_counter() - started
    connection.close()
    print(
        json.dumps(
            {
                "post_seconds": seconds,
                "requests": len(bodies),
                "body_mb": sum(map(len, bodies)) / 2**20,
            }
        )
    )


if __name__ == "__main__":
    main()
