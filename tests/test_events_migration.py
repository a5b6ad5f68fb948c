"""The events migration on a database that already holds campaigns and batches: it adds the
tables and the batches' message-id index, and events of batches sent before it are tied to
them."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import sqlalchemy as sa
from alembic import command

from mailer.config import Settings
from mailer.db.engine import create_db_engine
from mailer.db.migrate import _alembic_config, migrate
from mailer.events.parse import parse_batch
from mailer.events.store import store_batch
from tests.events_helpers import add_campaign_batch, event, stored

NOW = datetime(2026, 12, 5, tzinfo=UTC)


def test_events_of_batches_sent_before_the_upgrade_are_tied_to_them(database_url: str) -> None:
    engine = create_db_engine(database_url)
    with engine.begin() as connection:
        command.upgrade(_alembic_config(connection), "0011")
    campaign_id, batch_id = add_campaign_batch(engine, "oldrequest")
    migrate(engine)
    with engine.connect() as connection:
        indexes = {index["name"] for index in sa.inspect(connection).get_indexes("batches")}
    assert "ix_batches_message_id" in indexes
    body = [event("delivered", "before-upgrade", sg_message_id="oldrequest.filter.0")]
    result = store_batch(engine, parse_batch(orjson.dumps(body)), Settings(), NOW)
    assert result.new == 1
    row = stored(engine, ["before-upgrade"])["before-upgrade"]
    assert (row["campaign_id"], row["batch_id"]) == (campaign_id, batch_id)
    engine.dispose()
