"""Two `mailer serve` processes on one database taking the same events at once (SendGrid
posting a batch again while the first POST is still being stored): each event is stored
once, the answers' counts add up, and neither answers with an error, whatever order the
events come in (opposite orders deadlocked PostgreSQL before inserts were ordered)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from mailer.db.migrate import open_database
from tests.conftest import DATABASE_BACKENDS, Project, fresh_database_url
from tests.events_helpers import KEY_VARIABLE, event, stored, unique
from tests.web_server import make_project, running_server
from tests.webhook_signing import Signer, post_signed

ROUNDS = 8
EVENTS = 400


@pytest.mark.parametrize("backend", DATABASE_BACKENDS)
def test_a_batch_posted_to_two_servers_at_once_in_opposite_orders_is_stored_once(
    backend: str, tmp_path: Path
) -> None:
    signer = Signer()
    environment = {KEY_VARIABLE: signer.public_key}
    with fresh_database_url(backend, tmp_path) as url:
        project = make_project(tmp_path / "project", url)
        engine = open_database(url)
        try:
            _post_in_opposite_orders(project, environment, signer, engine)
        finally:
            engine.dispose()


def _post_in_opposite_orders(
    project: Project, environment: dict[str, str], signer: Signer, engine: sa.Engine
) -> None:
    with (
        running_server(project, environment) as one,
        running_server(project, environment) as two,
        ThreadPoolExecutor(max_workers=4) as pool,
    ):
        for _ in range(ROUNDS):
            ids = [unique("both") for _ in range(EVENTS)]
            forward = [event("delivered", sg_event_id) for sg_event_id in ids]
            backward = forward[::-1]
            targets: list[tuple[str, list[Any]]] = [
                (one.base_url, forward),
                (two.base_url, backward),
                (one.base_url, backward),
                (two.base_url, forward),
            ]
            answers = list(
                pool.map(lambda target: post_signed(target[0], signer, target[1]), targets)
            )
            assert [answer.status_code for answer in answers] == [200] * 4
            assert sum(answer.json()["new"] for answer in answers) == EVENTS
            assert len(stored(engine, ids)) == EVENTS
