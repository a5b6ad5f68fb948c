"""That a ``mailer worker`` runs, as recorded in the ``workers`` table: a worker writes its row
at start, renews it at most every interval as it loops, and removes it on a clean stop; the
admin dashboard's service says whether one was seen within ``[delivery] worker_silent_minutes``
(a setting refused, naming it, when wrong)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from mailer.app import Mailer
from mailer.config import ConfigError, Settings, load_settings
from mailer.db.tables import workers
from mailer.delivery.worker import CampaignRunner
from mailer.scheduling.worker_presence import WorkerPresence
from mailer.services.worker_health import worker_health
from tests.conftest import Project

START = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


def _rows(engine: sa.Engine) -> list[tuple[str, datetime, datetime]]:
    with engine.connect() as connection:
        found = connection.execute(
            sa.select(workers.c.name, workers.c.started_at, workers.c.seen_at)
        ).all()
    return [(row.name, row.started_at, row.seen_at) for row in found]


def test_a_worker_records_itself_renews_now_and_then_and_a_clean_stop_removes_it(
    engine: sa.Engine,
) -> None:
    clock = Clock()
    presence = WorkerPresence(engine, "host-a:41", clock=clock, renew_seconds=30)
    presence.announce()
    assert _rows(engine) == [("host-a:41", START, START)]

    clock.now = START + timedelta(seconds=29)
    assert presence.renew() is False  # too soon: the loop turns often, the row is not rewritten
    assert _rows(engine) == [("host-a:41", START, START)]
    clock.now = START + timedelta(seconds=30)
    assert presence.renew() is True
    assert _rows(engine) == [("host-a:41", START, START + timedelta(seconds=30))]

    other = WorkerPresence(engine, "host-b:7", clock=clock)
    other.announce()
    presence.withdraw()
    assert [row[0] for row in _rows(engine)] == ["host-b:7"]

    # A row removed under a running worker (by hand) is written again at its next renewal.
    with engine.begin() as connection:
        connection.execute(sa.delete(workers))
    clock.now = START + timedelta(minutes=5)
    assert other.renew() is True
    assert _rows(engine) == [("host-b:7", clock.now, clock.now)]


def test_a_restarted_worker_with_the_same_pid_replaces_the_old_row(engine: sa.Engine) -> None:
    clock = Clock()
    WorkerPresence(engine, "host-a:41", clock=clock).announce()  # killed: its row stays
    clock.now = START + timedelta(hours=3)
    WorkerPresence(engine, "host-a:41", clock=clock).announce()
    assert _rows(engine) == [("host-a:41", clock.now, clock.now)]


def test_the_worker_loop_is_seen_while_it_runs_and_gone_after_a_clean_stop(
    engine: sa.Engine,
) -> None:
    seen_during: list[list[str]] = []

    def clock() -> datetime:
        # Called by the loop at each step: look at the table from outside, then stop it.
        seen_during.append([row[0] for row in _rows(engine)])
        if len(seen_during) >= 3:
            runner.stop()
        return START

    runner = CampaignRunner(engine, Settings(), b"k" * 32, clock=clock)
    runner.run_forever(poll_seconds=5.0)
    assert seen_during[0] == []  # the clock is read before the row is first written
    assert runner.me in seen_during[-1]
    assert _rows(engine) == []


def test_the_dashboard_service_tells_a_silent_worker_from_a_recent_one(
    db_project: Project,
) -> None:
    mailer = Mailer(db_project.settings())
    try:
        clock = Clock()
        never = worker_health(mailer, clock=clock)
        assert never.last_seen is None and never.silent and not never.urgent

        WorkerPresence(mailer.engine, "host-a:41", clock=clock).announce()
        clock.now = START + timedelta(minutes=5)  # the default limit: still lately
        recent = worker_health(mailer, clock=clock)
        assert recent.lately and recent.last_seen == START and recent.waiting == 0
        clock.now = START + timedelta(minutes=5, seconds=1)
        silent = worker_health(mailer, clock=clock)
        assert silent.silent and silent.last_seen == START and not silent.urgent
    finally:
        mailer.close()


def test_the_silence_limit_is_a_setting(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text("[delivery]\nworker_silent_minutes = 30\n", encoding="utf-8")
    settings = load_settings(config, environ={}, cwd=tmp_path)
    assert settings.delivery.worker_silent_minutes == 30
    assert Settings().delivery.worker_silent_minutes == 5


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("0", "greater than or equal to 1"),
        ("-5", "greater than or equal to 1"),
        ("1e300", "less than or equal"),
        ("nan", "finite"),
        ('"soon"', "number"),
        ('"<script>alert(1)</script>"', "number"),
        ("[]", "number"),
    ],
)
def test_a_wrong_silence_limit_is_refused_naming_the_setting(
    tmp_path: Path, value: str, fragment: str
) -> None:
    config = tmp_path / "c.toml"
    config.write_text(f"[delivery]\nworker_silent_minutes = {value}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(config, environ={}, cwd=tmp_path)
    message = str(caught.value)
    assert "delivery.worker_silent_minutes" in message and fragment in message, message


def test_a_wrong_silence_limit_from_the_environment_names_the_variable(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(None, environ={"MAILER_DELIVERY_WORKER_SILENT_MINUTES": "x"}, cwd=tmp_path)
    assert str(caught.value).startswith(
        "environment variable MAILER_DELIVERY_WORKER_SILENT_MINUTES: "
    )
