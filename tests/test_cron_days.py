"""Recurring schedules read the two day fields as cron does: when both are restricted, a day
matching either one fires (APScheduler alone would want both)."""

from __future__ import annotations

import json
import pickle
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from mailer.scheduling import recurring
from tests.conftest import CliResult, Project

Cli = Callable[..., CliResult]

NAMES = {"sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6}


def _values(field: str, low: int, high: int) -> set[int]:
    """The numbers a cron field names, as crontab(5) describes it (a reference for the test)."""
    found: set[int] = set()
    for part in field.lower().split(","):
        span, _, step = part.partition("/")
        if span == "*":
            first, last = low, high
        else:
            start, _, end = span.partition("-")
            first = NAMES[start] if start in NAMES else int(start)
            last = (NAMES[end] if end in NAMES else int(end)) if end else first
        found.update(range(first, last + 1, int(step or 1)))
    return found


def _fires(cron: str, moment: datetime) -> bool:
    minute, hour, day, month, weekday = cron.split()
    weekdays = {number % 7 for number in _values(weekday, 0, 7)}
    day_matches = moment.day in _values(day, 1, 31)
    weekday_matches = (moment.weekday() + 1) % 7 in weekdays
    if day.startswith("*") or weekday.startswith("*"):
        days = day_matches and weekday_matches
    else:
        days = day_matches or weekday_matches
    return (
        moment.minute in _values(minute, 0, 59)
        and moment.hour in _values(hour, 0, 23)
        and moment.month in _values(month, 1, 12)
        and days
    )


START = datetime(2027, 12, 30, 7, 0, tzinfo=UTC)  # the window holds 29 February 2028
WINDOW = timedelta(days=200)


@settings(max_examples=150, deadline=None)
@given(
    hour=st.sampled_from(["*", "9", "0,12", "*/6"]),
    day=st.sampled_from(["*", "1", "15", "1,15", "29", "31", "10-12", "*/10"]),
    month=st.sampled_from(["*", "2", "1-6", "*/3", "3,5"]),
    weekday=st.sampled_from(["*", "0", "1", "7", "1-5", "MON", "sat,sun", "*/2", "FRI", "5-7"]),
)
def test_ticks_are_the_moments_cron_would_run(
    hour: str, day: str, month: str, weekday: str
) -> None:
    cron = f"0 {hour} {day} {month} {weekday}"
    trigger = recurring.cron_trigger(cron, "UTC")
    ticks = list(recurring.ticks_between(trigger, START, START + WINDOW))
    expected = []
    moment = START + timedelta(hours=1)
    while moment <= START + WINDOW:
        if _fires(cron, moment):
            expected.append(moment)
        moment += timedelta(hours=1)
    assert ticks == expected, cron


def test_the_29th_of_february_or_a_february_monday_is_not_a_leap_day_monday() -> None:
    trigger = recurring.cron_trigger("0 0 29 2 MON", "UTC")
    ticks = list(recurring.ticks_between(trigger, START, START + timedelta(days=70)))
    assert ticks == [
        *(datetime(2028, 2, day, tzinfo=UTC) for day in (7, 14, 21, 28)),  # Mondays
        datetime(2028, 2, 29, tzinfo=UTC),  # a Tuesday
    ]


def test_a_schedule_shows_its_next_tick_by_cron_s_rule(db_project: Project, cli: Cli) -> None:
    assert cli("lists", "create", "weekly").code == 0
    added = cli(
        "schedules", "add", "leap", "--cron", "0 0 29 2 1", "--tz", "UTC", "--list", "weekly"
    )
    assert added.code == 0, added.err
    (schedule,) = json.loads(cli("schedules", "--json").out)
    next_tick = datetime.fromisoformat(schedule["next_tick"].replace("Z", "+00:00"))
    # The next Monday in February, not the next leap year whose 29 February is a Monday.
    assert next_tick.month == 2 and next_tick.weekday() == 0
    assert next_tick - datetime.now(UTC) <= timedelta(days=366)


def test_an_either_day_trigger_survives_the_worker_s_job_store() -> None:
    """The worker's job store keeps triggers pickled: the zone and the rule come back."""
    trigger = recurring.cron_trigger("30 9 1 * FRI", "Asia/Shanghai")
    restored = pickle.loads(pickle.dumps(trigger))
    assert str(restored.timezone) == "Asia/Shanghai"
    assert restored.get_next_fire_time(None, START) == trigger.get_next_fire_time(None, START)
    assert list(recurring.ticks_between(restored, START, START + WINDOW)) == list(
        recurring.ticks_between(trigger, START, START + WINDOW)
    )
