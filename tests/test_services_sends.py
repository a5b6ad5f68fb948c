"""Sending and recurring schedules as any face drives them, with neither a command line nor
HTTP: now or at a time (a time that passed while the editor confirmed is refused), and
schedules added, listed and removed; bad input names its field."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from mailer.app import Mailer
from mailer.cli.errors import command_line_message
from mailer.errors import FieldError, FieldErrors, MailerError
from mailer.scheduling.recurring import ScheduleNameTaken
from mailer.services import campaigns, schedules, sends
from tests.conftest import Project
from tests.service_helpers import (
    T0,
    MovingClock,
    assert_names_no_command,
    clock,
    mailer,
    schedule,
    send_now,
)

__all__ = ["clock", "mailer"]  # fixtures


# Sending now and at a time -------------------------------------------------------------------


def test_with_no_time_it_sends_now_to_the_whole_list(mailer: Mailer) -> None:
    assert sends.send_time(mailer, None) is None
    campaign_id = send_now(mailer)
    campaign = campaigns.show(mailer, campaign_id)
    assert (campaign.status, campaign.started_at, campaign.counts["pending"]) == ("sending", T0, 5)


def test_a_time_is_read_in_the_zone_given_else_the_newsletters(mailer: Mailer) -> None:
    shanghai = schedule(mailer, "2031-05-05 09:00", timezone="Asia/Shanghai")
    assert (shanghai.scheduled_at, shanghai.zone) == (
        datetime(2031, 5, 5, 1, tzinfo=UTC),
        "Asia/Shanghai",
    )
    utc = schedule(mailer, "+90m")
    assert (utc.status, utc.scheduled_at, utc.zone) == (
        "scheduled",
        T0 + timedelta(minutes=90),
        "UTC",
    )
    assert utc.counts["total"] == 0  # the audience is taken when it starts


def test_a_time_that_passed_while_the_editor_confirmed_is_refused(
    mailer: Mailer, clock: MovingClock
) -> None:
    plan = sends.plan(mailer, "87", "weekly")
    when = sends.send_time(mailer, "+1m")
    assert when is not None
    clock.advance(minutes=2)  # the question took longer than the time left
    with pytest.raises(FieldError) as refused:
        sends.schedule(mailer, plan, when)
    assert (refused.value.field, refused.value.value) == ("at", "+1m")
    assert "has passed" in refused.value.problem
    assert command_line_message(refused.value).startswith("--at '+1m': ")
    assert campaigns.all_campaigns(mailer) == []


@pytest.mark.parametrize(
    ("when", "field", "value"),
    [
        ({"at": "next week"}, "at", "next week"),
        ({"at": "+2h", "timezone": "Mars/Base"}, "timezone", "Mars/Base"),
        ({"at": "+2h", "local_time": "25:00"}, "local_time", "25:00"),
        ({"at": None, "local_time": "9 am"}, "local_time", "9 am"),
    ],
)
def test_a_time_that_cannot_be_used_names_its_field(
    mailer: Mailer, when: dict[str, Any], field: str, value: str
) -> None:
    with pytest.raises(FieldError) as refused:
        sends.send_time(mailer, **when)
    assert (refused.value.field, refused.value.value) == (field, value)
    assert_names_no_command(refused.value.problem)


def test_a_transport_is_checked_before_anything_is_stored(mailer: Mailer) -> None:
    with pytest.raises(FieldError) as refused:
        sends.plan(mailer, "87", "weekly", transport="pigeon")
    assert (refused.value.field, refused.value.value) == ("transport", "pigeon")
    with pytest.raises(MailerError, match="SENDGRID_API_KEY"):  # the environment holds none
        sends.plan(mailer, "87", "weekly", transport="sendgrid")
    assert campaigns.all_campaigns(mailer) == []


# Recurring schedules ------------------------------------------------------------------------


def test_a_schedule_is_added_listed_and_removed(mailer: Mailer) -> None:
    added = schedules.add(mailer, "monday", cron="0 9 * * MON", list_name="weekly")
    assert (added.zone, added.next_tick(mailer.clock())) == (
        "UTC",
        datetime(2031, 5, 5, 9, tzinfo=UTC),
    )
    assert [found.name for found in schedules.schedules(mailer)] == ["monday"]
    with pytest.raises(MailerError, match="exists already"):
        schedules.add(mailer, "monday", cron="0 9 * * TUE", list_name="weekly")
    schedules.remove(mailer, "monday")
    assert schedules.schedules(mailer) == []


def test_a_schedule_with_bad_fields_names_each_of_them(mailer: Mailer) -> None:
    with pytest.raises(FieldError) as refused:
        schedules.add(mailer, "every day!", cron="0 9 * * *", list_name="weekly")
    assert (refused.value.field, refused.value.value) == ("schedule", "every day!")
    with pytest.raises(FieldErrors) as both:
        schedules.add(mailer, "daily", cron="0 25 * * *", list_name="")
    assert [error.field for error in both.value.errors] == ["cron", "list"]
    assert command_line_message(both.value).startswith("--cron: ")
    assert "; --list: " in command_line_message(both.value)
    with pytest.raises(MailerError, match="no list named 'monthly'"):
        schedules.add(mailer, "daily", cron="0 9 * * *", list_name="monthly")
    with pytest.raises(FieldError) as zone:
        schedules.add(mailer, "daily", cron="0 9 * * *", list_name="weekly", timezone="Mars")
    assert (zone.value.field, zone.value.value) == ("timezone", "Mars")
    assert schedules.schedules(mailer) == []


def test_a_config_schedule_named_like_one_added_outside_it_is_refused(
    mailer: Mailer, db_project: Project, clock: MovingClock
) -> None:
    schedules.add(mailer, "monday", cron="0 9 * * MON", list_name="weekly")
    with db_project.config.open("a", encoding="utf-8") as config:
        config.write(
            '\n[[schedule.recurring]]\nname = "monday"\ncron = "0 9 * * *"\nlist = "weekly"\n'
        )
    edited = Mailer(db_project.settings(), clock=clock, environ={})
    try:
        with pytest.raises(ScheduleNameTaken) as refused:
            schedules.schedules(edited)
    finally:
        edited.close()
    assert_names_no_command(str(refused.value))
    assert "`mailer schedules remove monday`" in command_line_message(refused.value)
    assert [found.cron for found in schedules.schedules(mailer)] == ["0 9 * * MON"]
