"""The campaign services driven as any face drives them, with neither a command line nor
HTTP: an application object on a test project's database with a clock the test moves.

The resume rules, reschedule, cancel (also racing a start), pause and in-doubt recipients;
what is stored for the editor to read names no command."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import partial

import pytest
import sqlalchemy as sa

from mailer.app import Mailer
from mailer.cli.errors import command_line_message
from mailer.db.engine import write_transaction
from mailer.db.tables import deliveries
from mailer.delivery.campaign_states import NotAllowed
from mailer.delivery.campaigns import Campaign
from mailer.errors import FieldError, MailerError
from mailer.scheduling.one_off import start_due
from mailer.services import campaigns
from mailer.services.campaigns import NotStarted, Resumed
from tests.conftest import Project
from tests.races import race
from tests.sending import ledger
from tests.service_helpers import (
    ISSUE,
    MovingClock,
    assert_names_no_command,
    clock,
    mailer,
    schedule,
    send_now,
)

__all__ = ["clock", "mailer"]  # fixtures


# Resuming ------------------------------------------------------------------------------------


def test_a_campaign_paused_before_its_time_waits_for_it_again(
    mailer: Mailer, clock: MovingClock
) -> None:
    scheduled = schedule(mailer, "+2h")
    assert campaigns.pause(mailer, scheduled.id).message == "paused by an editor"
    clock.advance(hours=1)
    resumed = campaigns.resume(mailer, scheduled.id)
    assert resumed.outcome is Resumed.waiting
    campaign = resumed.campaign
    assert (campaign.status, campaign.scheduled_at, campaign.message) == (
        "scheduled",
        scheduled.scheduled_at,
        "",
    )
    assert campaign.started_at is None and ledger(mailer.engine, scheduled.id) == {}


def test_a_paused_campaign_that_never_started_is_rendered_and_started_after_its_time(
    mailer: Mailer, clock: MovingClock, db_project: Project
) -> None:
    scheduled = schedule(mailer, "+2h")
    campaigns.pause(mailer, scheduled.id)
    path = db_project.issues / ISSUE
    assert scheduled.subject is not None
    path.write_text(path.read_text().replace(scheduled.subject, "Edited while paused", 1))
    clock.advance(hours=3)
    resumed = campaigns.resume(mailer, scheduled.id)
    campaign = resumed.campaign
    assert resumed.outcome is Resumed.sending
    assert (campaign.status, campaign.started_at, campaign.subject) == (
        "sending",
        clock.now,
        "Edited while paused",
    )
    assert sorted(ledger(mailer.engine, scheduled.id).values()) == ["pending"] * 5


def test_one_that_still_cannot_start_stays_paused_saying_why(
    mailer: Mailer, clock: MovingClock, db_project: Project
) -> None:
    scheduled = schedule(mailer, "+2h")
    campaigns.pause(mailer, scheduled.id)
    path = db_project.issues / ISSUE
    path.write_text(path.read_text().replace("template: digest", "template: nonesuch", 1))
    clock.advance(hours=3)
    with pytest.raises(NotStarted) as refused:
        campaigns.resume(mailer, scheduled.id)
    campaign = campaigns.show(mailer, scheduled.id)
    assert campaign.status == "paused" and campaign.message == str(refused.value)
    assert campaign.message.startswith("could not start: ") and "nonesuch" in campaign.message
    assert_names_no_command(campaign.message)
    # The command line says how to go on.
    assert f"campaigns resume {scheduled.id}" in command_line_message(refused.value)
    assert ledger(mailer.engine, scheduled.id) == {}


def test_a_started_campaign_resumes_with_the_content_it_started_with(
    mailer: Mailer, db_project: Project
) -> None:
    campaign_id = send_now(mailer)
    paused = campaigns.pause(mailer, campaign_id)
    assert paused.subject is not None
    path = db_project.issues / ISSUE
    path.write_text(path.read_text().replace(paused.subject, "Edited after it started", 1))
    resumed = campaigns.resume(mailer, campaign_id)
    assert resumed.outcome is Resumed.sending
    assert (resumed.campaign.status, resumed.campaign.subject) == ("sending", paused.subject)
    assert resumed.campaign.message == ""


def test_a_local_time_campaign_resumed_is_left_to_the_worker_wave_by_wave(
    mailer: Mailer, clock: MovingClock
) -> None:
    scheduled = schedule(mailer, "+1h", local_time="9:00")
    assert scheduled.local_time == "09:00"
    campaigns.pause(mailer, scheduled.id)
    clock.advance(hours=2)
    resumed = campaigns.resume(mailer, scheduled.id)
    assert (resumed.outcome, resumed.campaign.status) == (Resumed.waves, "sending")


def test_resume_refuses_a_campaign_that_cannot_go_on(mailer: Mailer) -> None:
    campaign_id = send_now(mailer)
    campaigns.cancel(mailer, campaign_id)
    with pytest.raises(NotAllowed, match="only a paused, failed or interrupted campaign"):
        campaigns.resume(mailer, campaign_id)
    assert campaigns.show(mailer, campaign_id).status == "cancelled"


# Reschedule, cancel, pause -------------------------------------------------------------------


def test_reschedule_reads_the_time_in_the_campaigns_zone_unless_told(mailer: Mailer) -> None:
    campaign = schedule(mailer, "2031-05-05 09:00", timezone="Asia/Shanghai")
    moved = campaigns.reschedule(mailer, campaign.id, "2031-05-06 09:00")
    assert (moved.scheduled_at, moved.zone) == (
        datetime(2031, 5, 6, 1, tzinfo=UTC),
        "Asia/Shanghai",
    )
    moved = campaigns.reschedule(mailer, campaign.id, "2031-05-06 09:00", "Europe/Berlin")
    assert (moved.scheduled_at, moved.zone) == (
        datetime(2031, 5, 6, 7, tzinfo=UTC),
        "Europe/Berlin",
    )
    with pytest.raises(FieldError) as refused:
        campaigns.reschedule(mailer, campaign.id, "yesterday")
    assert (refused.value.field, refused.value.value) == ("at", "yesterday")
    assert campaigns.show(mailer, campaign.id).scheduled_at == moved.scheduled_at


def test_a_missed_campaign_can_be_rescheduled_and_its_miss_is_forgotten(
    mailer: Mailer, clock: MovingClock
) -> None:
    campaign = schedule(mailer, "+1h")
    clock.advance(hours=3)  # past the misfire grace (1h) when the worker comes back
    settings, renderer = mailer.settings, mailer.renderer
    start = start_due(mailer.engine, settings, renderer, campaign.id, owner=None, clock=clock)
    missed = campaigns.show(mailer, campaign.id)
    assert (start.outcome, missed.status, missed.finished_at) == ("missed", "missed", clock.now)
    assert "misfire grace" in missed.message
    assert_names_no_command(missed.message)
    again = campaigns.reschedule(mailer, campaign.id, "+1h")
    assert (again.status, again.message, again.finished_at) == ("scheduled", "", None)


def test_a_started_campaign_cannot_be_rescheduled(mailer: Mailer) -> None:
    campaign_id = send_now(mailer)
    with pytest.raises(NotAllowed) as refused:
        campaigns.reschedule(mailer, campaign_id, "+1h")
    assert "(it started at " in str(refused.value)
    assert "only a scheduled or missed campaign can be rescheduled" in str(refused.value)
    assert campaigns.show(mailer, campaign_id).status == "sending"


def test_cancel_stops_a_campaign_for_good(mailer: Mailer, clock: MovingClock) -> None:
    campaign = schedule(mailer)
    clock.advance(minutes=5)
    cancelled = campaigns.cancel(mailer, campaign.id)
    assert (cancelled.status, cancelled.finished_at) == ("cancelled", clock.now)
    assert cancelled.message == "cancelled by an editor" and cancelled.actions == []
    for action in (campaigns.cancel, campaigns.pause, campaigns.resume):
        with pytest.raises(NotAllowed, match=f"campaign {campaign.id} is cancelled; only a"):
            action(mailer, campaign.id)
    with pytest.raises(NotAllowed):
        campaigns.reschedule(mailer, campaign.id, "+1h")
    assert campaigns.show(mailer, campaign.id).status == "cancelled"


def test_pause_holds_a_scheduled_or_sending_campaign_and_nothing_else(mailer: Mailer) -> None:
    assert campaigns.pause(mailer, schedule(mailer).id).status == "paused"
    campaign_id = send_now(mailer)
    assert campaigns.pause(mailer, campaign_id).status == "paused"
    with pytest.raises(NotAllowed, match="only a scheduled or sending campaign can be paused"):
        campaigns.pause(mailer, campaign_id)


def test_a_campaign_that_does_not_exist_is_named(mailer: Mailer) -> None:
    with pytest.raises(FieldError) as refused:
        campaigns.pause(mailer, 404)
    assert (refused.value.field, refused.value.value) == ("campaign", "404")
    assert command_line_message(refused.value) == "no campaign 404; `mailer campaigns` lists them"


def test_cancel_racing_a_start_ends_cancelled_and_starts_at_most_once(
    mailer: Mailer, clock: MovingClock
) -> None:
    for _ in range(5):
        campaign = schedule(mailer, "+1h")
        campaigns.pause(mailer, campaign.id)
        clock.advance(hours=2)  # its time passed: resuming renders and starts it
        resumed, cancelled = race(
            partial(campaigns.resume, mailer, campaign.id),
            partial(campaigns.cancel, mailer, campaign.id),
        )
        # Cancel always wins in the end (a started campaign is cancelled before a batch); the
        # start either happened, with its audience, or was refused, with none.
        assert isinstance(cancelled, Campaign)
        assert campaigns.show(mailer, campaign.id).status == "cancelled"
        started = not isinstance(resumed, MailerError)
        assert started == (ledger(mailer.engine, campaign.id) != {})


# In-doubt recipients -------------------------------------------------------------------------


def _in_doubt(mailer: Mailer, campaign_id: int, count: int) -> None:
    with write_transaction(mailer.engine) as connection:
        ids = sorted(ledger(mailer.engine, campaign_id))[:count]
        connection.execute(
            sa.update(deliveries)
            .where(deliveries.c.campaign_id == campaign_id, deliveries.c.subscriber_id.in_(ids))
            .values(status="in_doubt")
        )


def test_in_doubt_recipients_are_resent_or_counted_as_sent(mailer: Mailer) -> None:
    resent = send_now(mailer)
    _in_doubt(mailer, resent, 2)
    campaigns.pause(mailer, resent)
    assert "resend" in campaigns.show(mailer, resent).actions
    result = campaigns.resolve(mailer, resent, resend=True)
    assert (result.count, result.campaign.status, result.campaign.counts["pending"]) == (
        2,
        "sending",
        5,
    )

    marked = send_now(mailer)
    _in_doubt(mailer, marked, 2)
    result = campaigns.resolve(mailer, marked, resend=False)
    assert (result.count, result.campaign.counts["sent"]) == (2, 2)
    with pytest.raises(MailerError, match="has no in_doubt recipients"):
        campaigns.resolve(mailer, marked, resend=False)


def test_a_cancelled_campaigns_in_doubt_recipients_are_never_resent(mailer: Mailer) -> None:
    campaign_id = send_now(mailer)
    _in_doubt(mailer, campaign_id, 1)
    campaigns.cancel(mailer, campaign_id)
    assert campaigns.show(mailer, campaign_id).actions == ["mark_sent"]
    with pytest.raises(MailerError, match="cancelled; nothing is resent"):
        campaigns.resolve(mailer, campaign_id, resend=True)
    assert campaigns.show(mailer, campaign_id).counts["in_doubt"] == 1
    assert campaigns.resolve(mailer, campaign_id, resend=False).count == 1
