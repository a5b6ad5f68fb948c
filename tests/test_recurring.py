"""Recurring schedules: which issue a tick sends, a tick acted on once over all workers, the
misfire grace, cron times across daylight saving changes, and `mailer schedules` itself."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email import policy
from email.parser import BytesParser
from itertools import islice
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from mailer.audience.lists import create_list
from mailer.config import RecurringSchedule
from mailer.db.engine import write_transaction
from mailer.db.tables import schedules
from mailer.delivery.campaigns import Campaign, all_campaigns, cancel_campaign
from mailer.delivery.sending import plan_send, start_campaign
from mailer.delivery.worker import CampaignRunner
from mailer.scheduling import recurring
from mailer.scheduling.one_off import schedule_campaign, start_due
from tests.conftest import CliResult, Project
from tests.sending import fill_list

Cli = Callable[..., CliResult]
NEW_YORK = ZoneInfo("America/New_York")
DAILY = "0 9 * * *"  # in UTC: ticks at 09:00Z
JUNE_1 = datetime(2026, 6, 1, tzinfo=UTC)


@pytest.fixture
def weekly(db_project: Project, project_engine: sa.Engine) -> list[str]:
    create_list(project_engine, "weekly")
    return fill_list(project_engine, 3)


def write_issue(project: Project, number: int, status: str) -> None:
    """A copy of issue 87 numbered ``number`` with ``status: <status>``."""
    text = (project.issues / "0087-postal-pact-and-ai-talent.md").read_text(encoding="utf-8")
    text = text.replace("number: 87", f"number: {number}", 1).replace("#87", f"#{number}", 1)
    project.write_issue(f"{number:04d}-copy.md", text.replace("status: ready", f"status: {status}"))


def add(
    engine: sa.Engine, cron: str = DAILY, zone: str = "UTC", created: datetime = JUNE_1
) -> None:
    """The schedule "every" on the list weekly, added at ``created``."""
    entry = RecurringSchedule(name="every", cron=cron, timezone=zone, list="weekly")
    recurring.add_schedule(engine, entry, zone, "cli", clock=lambda: created)


def run_tick(project: Project, engine: sa.Engine, now: datetime) -> str:
    settings, renderer = project.settings(), project.renderer()
    return recurring.run_tick(engine, settings, renderer, "every", owner=None, clock=lambda: now)


def made(engine: sa.Engine) -> list[Campaign]:
    return sorted(all_campaigns(engine), key=lambda campaign: campaign.id)


def stored(engine: sa.Engine, name: str = "every") -> recurring.Schedule:
    with engine.connect() as connection:
        found = recurring.find_schedule(connection, name)
    assert found is not None
    return found


def at_9(day: int) -> datetime:
    return JUNE_1.replace(day=day, hour=9)


def test_each_tick_sends_the_oldest_ready_issue_not_yet_sent_to_the_list(
    db_project: Project, project_engine: sa.Engine, weekly: list[str]
) -> None:
    engine = project_engine
    write_issue(db_project, 89, "ready")
    write_issue(db_project, 90, "draft")
    write_issue(db_project, 91, "ready")
    # 91 went out to the list by hand already, 89 only to another list (its one-off send to
    # this list was missed); 88 and 90 are drafts.
    settings, renderer = db_project.settings(), db_project.renderer()
    create_list(engine, "monthly")
    fill_list(engine, 2, "monthly", start=10)
    for number, to in (("91", "weekly"), ("89", "monthly")):
        start_campaign(engine, plan_send(engine, settings, renderer, number, to))
    one_off = plan_send(engine, settings, renderer, "89", "weekly")
    missed = schedule_campaign(engine, one_off, JUNE_1 - timedelta(hours=3), "UTC")
    start = start_due(engine, settings, renderer, missed, owner=None, clock=lambda: JUNE_1)
    assert start.outcome == "missed"
    add(engine)

    result = run_tick(db_project, engine, at_9(1))
    first = made(engine)[-1]
    assert (first.issue_number, first.status, first.schedule_name) == (87, "sending", "every")
    assert first.scheduled_at == at_9(1) and "#87" in result
    assert stored(engine).last_result == result and stored(engine).last_tick_at == at_9(1)

    run_tick(db_project, engine, at_9(2) + timedelta(seconds=5))
    second = made(engine)[-1]
    assert second.issue_number == 89 and second.scheduled_at == at_9(2)

    # A campaign cancelled once it had started counts as sent (part of the list has it):
    # with 89 taken, nothing ready is left; no campaign, no error, and the schedule says why.
    cancel_campaign(engine, second.id, clock=lambda: at_9(2) + timedelta(minutes=1))
    result = run_tick(db_project, engine, at_9(3))
    assert [c.issue_number for c in made(engine)] == [91, 89, 89, 87, 89]
    assert "no ready issue left" in result and "'weekly'" in result
    assert stored(engine).last_result == result and stored(engine).last_tick_at == at_9(3)

    # One cancelled before it started does not count: its issue goes at the next tick.
    write_issue(db_project, 92, "ready")
    plan = plan_send(engine, settings, renderer, "92", "weekly")
    unsent = schedule_campaign(engine, plan, at_9(10), "UTC", clock=lambda: at_9(3))
    cancel_campaign(engine, unsent, clock=lambda: at_9(3))
    run_tick(db_project, engine, at_9(4))
    assert [c.issue_number for c in made(engine)][-1] == 92

    # The live campaigns really reach the readers; the cancelled one, 88 and 90 never do.
    runner = CampaignRunner(engine, db_project.settings(), b"k" * 32)
    runner.run_once()
    parser = BytesParser(policy=policy.default)
    subjects = Counter(
        str(parser.parsebytes(path.read_bytes())["Subject"]).split(":")[0]
        for path in (db_project.root / "var" / "outbox").rglob("*.eml")
    )
    assert subjects == {
        "Tech in China #87": 3, "Tech in China #89": 2, "Tech in China #91": 3,
        "Tech in China #92": 3,
    }  # fmt: skip


def test_a_tick_is_acted_on_once_however_often_it_is_run(
    db_project: Project, project_engine: sa.Engine, weekly: list[str]
) -> None:
    add(project_engine)
    first = run_tick(db_project, project_engine, at_9(1))
    again = run_tick(db_project, project_engine, at_9(1) + timedelta(seconds=1))
    assert "campaign" in first and "campaign" not in again
    assert [c.issue_number for c in made(project_engine)] == [87]
    assert stored(project_engine).last_result == first
    # Two workers that read the schedule before either acted see the same tick due; one claims.
    seen = stored(project_engine)
    tick = recurring.due_tick(seen, at_9(2), timedelta(hours=1))
    assert tick == (at_9(2), False)
    claims = []
    for _ in "ab":
        with write_transaction(project_engine) as connection:
            claims.append(recurring.claim_tick(connection, "every", at_9(2), "mine"))
    assert claims == [True, False]
    assert recurring.due_tick(stored(project_engine), at_9(2), timedelta(hours=1))[0] is None


def test_workers_racing_for_one_tick_make_one_campaign(
    db_project: Project, project_engine: sa.Engine, weekly: list[str]
) -> None:
    write_issue(db_project, 89, "ready")
    add(project_engine)
    settings, renderer = db_project.settings(), db_project.renderer()
    results: list[str] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            results.append(
                recurring.run_tick(project_engine, settings, renderer, "every", owner=None,
                                   clock=lambda: at_9(1))
            )  # fmt: skip
        except BaseException as exc:  # reported below, in the test's own thread
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    # Hold the schedule's row (on SQLite the write lock) while the workers start, so that
    # they all read the schedule before any of them can claim the tick.
    with write_transaction(project_engine) as connection:
        held = sa.update(schedules).where(schedules.c.name == "every")
        connection.execute(held.values(last_result="held"))
        for thread in threads:
            thread.start()
        time.sleep(0.5)
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert len(results) == 4
    assert [c.issue_number for c in made(project_engine)] == [87]
    assert sum("campaign" in result for result in results) == 1, results


@pytest.mark.parametrize(
    ("grace", "late", "goes"),
    [("", timedelta(minutes=10), True), ("", timedelta(minutes=90), False),
     ('misfire_grace = "5m"', timedelta(minutes=10), False)],
)  # fmt: skip
def test_a_late_tick_goes_within_the_misfire_grace_and_is_missed_after_it(
    db_project: Project, project_engine: sa.Engine, weekly: list[str],
    grace: str, late: timedelta, goes: bool,
) -> None:  # fmt: skip
    with db_project.config.open("a", encoding="utf-8") as config:
        config.write(f"\n[schedule]\n{grace}\n")
    add(project_engine)
    result = run_tick(db_project, project_engine, at_9(1) + late)
    schedule = stored(project_engine)
    assert schedule.last_tick_at == at_9(1) and schedule.last_result == result
    if goes:
        (campaign,) = made(project_engine)
        assert campaign.status == "sending" and campaign.scheduled_at == at_9(1)
        assert "started 10 min late" in campaign.message and "started 10 min late" in result
        return
    # The miss shows in `campaigns` as a missed campaign of the issue that would have gone.
    (missed,) = made(project_engine)
    assert (missed.issue_number, missed.status, missed.schedule_name) == (87, "missed", "every")
    assert "missed" in result and "nothing was sent" in result and missed.message == result
    assert missed.counts["total"] == 0
    # The missed tick used no issue up: the next tick, on time, sends 87.
    run_tick(db_project, project_engine, at_9(2))
    assert [(c.issue_number, c.status) for c in made(project_engine)][1] == (87, "sending")


# 09:00 New York on the Sundays either side of each 2026 change, in UTC.
DST_SUNDAYS = [
    pytest.param(datetime(2026, 3, 1, 14, tzinfo=UTC), datetime(2026, 3, 8, 13, tzinfo=UTC),
                 ("EST", "EDT"), id="spring-forward"),
    pytest.param(datetime(2026, 10, 25, 13, tzinfo=UTC), datetime(2026, 11, 1, 14, tzinfo=UTC),
                 ("EDT", "EST"), id="fall-back"),
]  # fmt: skip


@pytest.mark.parametrize(("before", "after", "names"), DST_SUNDAYS)
def test_a_weekly_new_york_schedule_stays_at_9_local_across_dst(
    db_project: Project, project_engine: sa.Engine, weekly: list[str],
    before: datetime, after: datetime, names: tuple[str, str],
) -> None:  # fmt: skip
    write_issue(db_project, 89, "ready")
    add(project_engine, "0 9 * * SUN", "America/New_York", before - timedelta(days=2))
    schedule = stored(project_engine)
    window = (before - timedelta(days=2), after + timedelta(days=1))
    assert list(recurring.ticks_between(schedule.trigger(), *window)) == [before, after]
    assert schedule.next_tick(before + timedelta(seconds=1)) == after
    assert recurring.due_tick(schedule, after, timedelta(hours=1)) == (after, False)

    for moment, zone_name in zip((before, after), names, strict=True):
        result = run_tick(db_project, project_engine, moment + timedelta(seconds=30))
        local = moment.astimezone(NEW_YORK)
        assert f"{local:%Y-%m-%d} 09:00 {zone_name} ({moment:%Y-%m-%dT%H:%M}Z)" in result
    scheduled = [c.scheduled_at for c in made(project_engine)]
    assert scheduled == [before, after]
    assert [(s.astimezone(NEW_YORK).hour, s.minute) for s in scheduled if s] == [(9, 0)] * 2


def test_a_time_in_the_repeated_fall_back_hour_ticks_once_and_the_ticks_end() -> None:
    # 01:30 happens twice in New York on 2026-11-01 (05:30Z EDT, then 06:30Z EST); like cron,
    # the schedule sends once that night, not two issues an hour apart.
    trigger = recurring.cron_trigger("30 1 * * SUN", "America/New_York")
    start, end = datetime(2026, 10, 31, tzinfo=UTC), datetime(2026, 11, 9, tzinfo=UTC)
    ticks = list(islice(recurring.ticks_between(trigger, start, end), 10))
    assert len(ticks) < 10, f"ticks_between does not end: {ticks[:4]}"
    instants = [tick.astimezone(UTC) for tick in ticks]  # same-zone compares ignore fold
    assert instants == sorted(set(instants)), instants
    assert instants == [
        datetime(2026, 11, 1, 5, 30, tzinfo=UTC),
        datetime(2026, 11, 8, 6, 30, tzinfo=UTC),
    ]
    assert {f"{tick.astimezone(NEW_YORK):%a %H:%M}" for tick in ticks} == {"Sun 01:30"}


@pytest.mark.parametrize(
    ("cron", "weekdays"),
    [("0 9 * * 1", {"Mon"}), ("0 9 * * 0", {"Sun"}), ("0 9 * * 7", {"Sun"}),
     ("0 9 * * 1-5", {"Mon", "Tue", "Wed", "Thu", "Fri"}), ("0 9 * * MON", {"Mon"})],
)  # fmt: skip
def test_cron_weekday_numbers_mean_what_they_mean_to_cron(cron: str, weekdays: set[str]) -> None:
    trigger = recurring.cron_trigger(cron, "UTC")
    ticks = recurring.ticks_between(trigger, JUNE_1, JUNE_1 + timedelta(days=14))
    assert {f"{tick:%a}" for tick in ticks} == weekdays


def test_a_schedule_in_the_repeated_hour_sends_one_issue_that_night(
    db_project: Project, project_engine: sa.Engine, weekly: list[str]
) -> None:
    write_issue(db_project, 89, "ready")
    add(project_engine, "30 1 * * SUN", "America/New_York", datetime(2026, 10, 30, tzinfo=UTC))
    first, again = (
        datetime(2026, 11, 1, 5, 30, tzinfo=UTC),
        datetime(2026, 11, 1, 6, 30, tzinfo=UTC),
    )
    assert "campaign" in run_tick(db_project, project_engine, first)
    assert "no tick due" in run_tick(db_project, project_engine, again)
    assert [campaign.issue_number for campaign in made(project_engine)] == [87]


def listed(cli: Cli) -> list[dict[str, object]]:
    result = cli("schedules", "--json")
    assert result.code == 0, result.err
    found: list[dict[str, object]] = json.loads(result.out)
    return found


def add_args(
    cron: str = "0 9 * * SUN", tz: str = "America/New_York", to: str = "weekly"
) -> list[str]:
    return ["schedules", "add", "sunday", "--cron", cron, "--tz", tz, "--list", to]


def test_schedules_add_lists_and_removes(db_project: Project, weekly: list[str], cli: Cli) -> None:
    before = datetime.now(UTC)
    assert cli(*add_args()).code == 0
    (entry,) = listed(cli)
    assert (entry["name"], entry["origin"], entry["list"]) == ("sunday", "cli", "weekly")
    assert (entry["cron"], entry["zone"], entry["last_tick"]) == (
        "0 9 * * SUN",
        "America/New_York",
        None,
    )
    upcoming = datetime.fromisoformat(str(entry["next_tick"]))
    assert upcoming.astimezone(NEW_YORK).strftime("%a %H:%M") == "Sun 09:00"
    assert before < upcoming <= before + timedelta(days=7)

    removed = cli("schedules", "remove", "sunday")
    assert removed.code == 0 and "removed" in removed.out
    assert listed(cli) == []
    gone = cli("schedules", "remove", "sunday")
    assert gone.code == 1 and "no schedule named 'sunday'" in gone.err


@pytest.mark.parametrize(
    ("bad", "said"),
    [
        ({"cron": "0 9 * *"}, "--cron: '0 9 * *' is not a cron expression"),
        ({"cron": "0 25 * * SUN"}, "--cron: '0 25 * * SUN' is not a cron expression"),
        ({"tz": "Mars/Olympus"}, "--tz 'Mars/Olympus'"),
        ({"to": "nonesuch"}, "no list named 'nonesuch'"),
        ({"cron": "0 7 * * MON"}, "a schedule named 'sunday' exists already"),
    ],
)
def test_schedules_add_refuses_bad_input_naming_it(
    db_project: Project, weekly: list[str], cli: Cli, bad: dict[str, str], said: str
) -> None:
    assert cli(*add_args()).code == 0
    result = cli(*add_args(**bad))
    assert result.code == 1, result.out
    assert said in result.err
    (entry,) = listed(cli)
    assert (entry["cron"], entry["zone"], entry["list"]) == (
        "0 9 * * SUN",
        "America/New_York",
        "weekly",
    )


CONFIG_SCHEDULE = """
[[schedule.recurring]]
name = "from-file"
cron = "0 8 * * MON"
timezone = "Asia/Shanghai"
list = "weekly"
"""


def test_a_config_schedule_is_listed_and_cannot_be_removed_from_the_command_line(
    db_project: Project, weekly: list[str], cli: Cli
) -> None:
    with db_project.config.open("a", encoding="utf-8") as config:
        config.write(CONFIG_SCHEDULE)
    (entry,) = listed(cli)
    assert (entry["name"], entry["origin"], entry["list"]) == ("from-file", "config", "weekly")
    assert (entry["cron"], entry["zone"]) == ("0 8 * * MON", "Asia/Shanghai")
    refused = cli("schedules", "remove", "from-file")
    assert refused.code == 1
    assert "mailer.toml" in refused.err and "remove it there" in refused.err
    assert [entry["origin"] for entry in listed(cli)] == ["config"]


def test_config_schedules_are_known_to_add_and_remove_before_anything_listed_them(
    db_project: Project, weekly: list[str], cli: Cli
) -> None:
    with db_project.config.open("a", encoding="utf-8") as config:
        config.write(CONFIG_SCHEDULE)
    refused = cli("schedules", "remove", "from-file")
    assert refused.code == 1
    assert "remove it there" in refused.err, refused.err
    clash = cli("schedules", "add", "from-file", "--cron", "0 7 * * *", "--list", "weekly")
    assert clash.code == 1 and "from-file" in clash.err, clash.out
    assert [entry["origin"] for entry in listed(cli)] == ["config"]
