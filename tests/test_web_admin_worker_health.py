"""The dashboard on a real ``mailer serve`` says when no ``mailer worker`` was seen lately (or
none runs), why that matters, and says it louder while a campaign is sending or due; a worker
seen lately leaves nothing to say."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import sqlalchemy as sa

from mailer.accounts.roles import Role
from mailer.db.engine import write_transaction
from mailer.db.tables import campaigns, workers
from mailer.scheduling.worker_presence import WorkerPresence
from tests.admin_helpers import OWNER, add_account, logged_in
from tests.conftest import Project
from tests.report_fixtures import Sent


@pytest.fixture
def owner(sent: Sent, db_project: Project) -> Iterator[httpx.Client]:
    add_account(db_project, OWNER, Role.OWNER)
    with logged_in(sent.server, OWNER) as client:
        yield client


def _attention(page: httpx.Response) -> str:
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page.text))
    return text.split("Needs attention")[1].split("Recent campaigns")[0]


def test_the_dashboard_warns_when_no_worker_was_seen_lately(
    sent: Sent, owner: httpx.Client
) -> None:
    none = owner.get("/admin")
    assert none.status_code == 200
    attention = _attention(none)
    assert "No worker is running" in attention and "mailer worker" in attention
    assert "Nothing needs attention." not in attention
    assert 'role="alert"' not in none.text  # nothing is waiting for it

    # The server's own clock reads the age: a worker seen a minute ago is seen lately.
    WorkerPresence(sent.engine, "host-a:41").announce()
    recent = owner.get("/admin")
    assert "Nothing needs attention." in _attention(recent)
    assert "worker" not in _attention(recent)

    long_ago = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=6)
    with write_transaction(sent.engine) as connection:
        connection.execute(sa.update(workers).values(seen_at=long_ago))
    silent = owner.get("/admin")
    attention = _attention(silent)
    assert f"No worker seen since {long_ago:%Y-%m-%d %H:%M} UTC" in attention
    assert f'datetime="{long_ago.isoformat()}"' in silent.text
    assert 'role="alert"' not in silent.text


def test_the_warning_is_louder_while_a_campaign_waits_for_a_worker(
    sent: Sent, owner: httpx.Client
) -> None:
    with write_transaction(sent.engine) as connection:
        connection.execute(
            sa.update(campaigns).where(campaigns.c.id == sent.campaign).values(status="sending")
        )
    page = owner.get("/admin")
    attention = _attention(page)
    assert "No worker is running" in attention
    assert "1 campaigns are sending or due and wait for it." in attention
    assert re.search(r'<li class="worker-health errors" role="alert">', page.text)

    WorkerPresence(sent.engine, "host-a:41").announce()
    assert 'role="alert"' not in owner.get("/admin").text
