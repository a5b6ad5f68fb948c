"""One-off schedules: `send --at`, what is refused, listing, reschedule and cancel, the render
at send time, the misfire grace, and races between an editor and a firing job."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import pytest
import sqlalchemy as sa

from mailer.audience.lists import create_list
from mailer.clock import utc_now
from mailer.delivery.campaigns import cancel_campaign, show_campaign
from mailer.delivery.sending import plan_send
from mailer.errors import MailerError
from mailer.scheduling.one_off import reschedule_campaign, schedule_campaign, start_due
from tests.conftest import CliResult, Project
from tests.races import race
from tests.sending import fill_list, ledger

Cli = Callable[..., CliResult]


@pytest.fixture
def weekly(db_project: Project, project_engine: sa.Engine) -> list[str]:
    create_list(project_engine, "weekly")
    return fill_list(project_engine, 5)


def outbox(project: Project) -> list[str]:
    folder = project.root / "var" / "outbox"
    return sorted(path.name for path in folder.rglob("*.eml")) if folder.exists() else []


def schedule_json(cli: Cli, *args: str) -> dict[str, Any]:
    # --again: a test may schedule several campaigns of issue 87 to the list.
    result = cli("send", "87", "--list", "weekly", "--again", "--yes", "--json", *args)
    assert result.code == 0, result.err
    found: dict[str, Any] = json.loads(result.out)
    return found


def schedule_at(project: Project, engine: sa.Engine, at: datetime, reference: str = "87") -> int:
    plan = plan_send(engine, project.settings(), project.renderer(), reference, "weekly")
    return schedule_campaign(engine, plan, at, "Asia/Shanghai", clock=lambda: at - timedelta(1))


def test_send_at_schedules_in_utc_and_sends_nothing_yet(
    db_project: Project, weekly: list[str], cli: Cli
) -> None:
    before = utc_now()
    campaign = schedule_json(cli, "--at", "+2h")
    due = datetime.fromisoformat(campaign["scheduled_at"])
    assert campaign["status"] == "scheduled" and campaign["zone"] == "UTC"
    assert timedelta(hours=2) <= due - before < timedelta(hours=2, seconds=30)
    assert campaign["counts"]["total"] == 0 and outbox(db_project) == []
    assert campaign["content"] == "rendered from the issue file when it starts"

    shanghai = schedule_json(cli, "--at", "2031-05-04 09:00", "--tz", "Asia/Shanghai")
    assert shanghai["scheduled_at"] == "2031-05-04T01:00:00Z"
    assert shanghai["zone"] == "Asia/Shanghai"
    shown = cli("campaigns", "show", str(shanghai["id"]))
    assert "2031-05-04 09:00 CST (2031-05-04T01:00Z)" in shown.out


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--at", "2031-03-09 02:30", "--tz", "America/New_York"], "does not exist"),
        (["--at", "2031-11-02 01:30", "--tz", "America/New_York"], "happens twice"),
        (["--at", "2020-01-01 09:00"], "in the past"),
        (["--at", "next friday"], "not a time this understands"),
        (["--at", "+2h", "--tz", "Mars/Olympus"], "--tz 'Mars/Olympus'"),
        (["--tz", "Asia/Shanghai"], "give --at too"),
    ],
)
def test_bad_times_are_refused_with_what_to_type_and_nothing_is_stored(
    db_project: Project, weekly: list[str], cli: Cli, args: list[str], said: str
) -> None:
    result = cli("send", "87", "--list", "weekly", "--yes", *args)
    assert result.code == 1
    assert said in result.err
    assert json.loads(cli("campaigns", "--json").out) == []


def test_an_issue_with_errors_cannot_be_scheduled(
    db_project: Project, weekly: list[str], cli: Cli
) -> None:
    text = (db_project.issues / "0087-postal-pact-and-ai-talent.md").read_text()
    db_project.write_issue("0090-broken.md", text.replace("number: 87", "number: 90", 1)
                           .replace("template: digest", "template: nonesuch", 1))  # fmt: skip
    result = cli("send", "90", "--list", "weekly", "--at", "+1h", "--yes")
    assert result.code == 1 and "0090-broken.md" in result.err
    assert json.loads(cli("campaigns", "--json").out) == []


def test_upcoming_sends_are_listed_first_soonest_first_with_local_and_utc_times(
    db_project: Project, weekly: list[str], cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # room for both times (a narrow table keeps one)
    sent = schedule_json(cli, "--at", "+1h")  # then sent now, below, to make it history
    assert cli("send", "87", "--list", "weekly", "--again", "--yes").code == 0
    later = schedule_json(cli, "--at", "2031-05-04 09:00", "--tz", "Asia/Shanghai")
    sooner = schedule_json(cli, "--at", "2031-05-03 09:00", "--tz", "Europe/Berlin")
    listed = json.loads(cli("campaigns", "--json").out)
    assert [item["id"] for item in listed][:3] == [sent["id"], sooner["id"], later["id"]]
    assert listed[3]["status"] == "sent"
    table = cli("campaigns").out
    assert "2031-05-03 09:00 CEST" in table and "2031-05-03T07:00Z" in table


def test_the_issue_is_rendered_again_when_it_starts(
    db_project: Project, project_engine: sa.Engine, weekly: list[str], cli: Cli
) -> None:
    due = utc_now() + timedelta(hours=1)
    campaign_id = schedule_at(db_project, project_engine, due)
    path = db_project.issues / "0087-postal-pact-and-ai-talent.md"
    text = path.read_text()
    old_subject = show_campaign(project_engine, campaign_id).subject
    assert old_subject and old_subject in text
    path.write_text(text.replace(old_subject, "Edited after scheduling", 1))
    assert "as it is when it starts" in cli("campaigns", "show", str(campaign_id)).out

    settings, renderer = db_project.settings(), db_project.renderer()
    start = start_due(project_engine, settings, renderer, campaign_id, owner=None,
                      clock=lambda: due + timedelta(seconds=1))  # fmt: skip
    assert start.outcome == "started"
    campaign = show_campaign(project_engine, campaign_id)
    assert campaign.subject == "Edited after scheduling"
    assert (campaign.status, campaign.counts["pending"]) == ("sending", 5)
    assert "as stored when it started" in cli("campaigns", "show", str(campaign_id)).out


def test_an_issue_broken_by_the_send_time_pauses_the_campaign_until_fixed(
    db_project: Project, project_engine: sa.Engine, weekly: list[str], cli: Cli
) -> None:
    due = utc_now() - timedelta(minutes=1)  # it came due a minute ago
    campaign_id = schedule_at(db_project, project_engine, due)
    path = db_project.issues / "0087-postal-pact-and-ai-talent.md"
    good = path.read_text()
    path.write_text(good.replace("template: digest", "template: nonesuch", 1))
    start = start_due(project_engine, db_project.settings(), db_project.renderer(), campaign_id,
                      owner=None, clock=lambda: due)  # fmt: skip
    campaign = show_campaign(project_engine, campaign_id)
    assert (start.outcome, campaign.status) == ("paused", "paused")
    assert "nonesuch" in campaign.message
    # What happened is stored; the command line adds the command that goes on from there.
    assert f"campaigns resume {campaign_id}" in cli("campaigns", "show", str(campaign_id)).out
    assert ledger(project_engine, campaign_id) == {} and outbox(db_project) == []

    path.write_text(good)
    result = cli("campaigns", "resume", str(campaign_id))
    assert result.code == 0, result.err
    assert show_campaign(project_engine, campaign_id).status == "sent"
    assert len(outbox(db_project)) == 5


def test_misfire_grace_sends_a_little_late_and_marks_a_long_miss_missed(
    db_project: Project, project_engine: sa.Engine, weekly: list[str], cli: Cli
) -> None:
    due = datetime(2031, 5, 4, 1, 0, tzinfo=UTC)
    settings, renderer = db_project.settings(), db_project.renderer()
    late = schedule_at(db_project, project_engine, due)
    start = start_due(project_engine, settings, renderer, late, owner=None,
                      clock=lambda: due + timedelta(minutes=40))  # fmt: skip
    assert start.outcome == "started"
    assert "40 min late" in show_campaign(project_engine, late).message

    missed = schedule_at(db_project, project_engine, due)
    start = start_due(project_engine, settings, renderer, missed, owner=None,
                      clock=lambda: due + timedelta(hours=1, minutes=1))  # fmt: skip
    campaign = show_campaign(project_engine, missed)
    assert (start.outcome, campaign.status) == ("missed", "missed")
    assert ledger(project_engine, missed) == {}
    shown = cli("campaigns", "show", str(missed)).out
    assert "missed" in shown and "misfire grace (1h)" in shown
    # Missed is not lost: the editor can send it after all.
    again = reschedule_campaign(project_engine, missed, due + timedelta(days=1), "UTC")
    assert again.status == "scheduled" and again.message == ""


def test_the_grace_is_configurable(
    db_project: Project, project_engine: sa.Engine, weekly: list[str]
) -> None:
    with db_project.config.open("a", encoding="utf-8") as config:
        config.write('\n[schedule]\nmisfire_grace = "10m"\n')
    due = datetime(2031, 5, 4, 1, 0, tzinfo=UTC)
    campaign_id = schedule_at(db_project, project_engine, due)
    start = start_due(project_engine, db_project.settings(), db_project.renderer(), campaign_id,
                      owner=None, clock=lambda: due + timedelta(minutes=11))  # fmt: skip
    assert start.outcome == "missed"


def test_reschedule_and_cancel_from_the_command_line(
    db_project: Project, project_engine: sa.Engine, weekly: list[str], cli: Cli
) -> None:
    campaign = schedule_json(cli, "--at", "+1h")
    moved = cli("campaigns", "reschedule", str(campaign["id"]), "--at", "2031-05-04 09:00",
                "--tz", "Asia/Shanghai", "--json")  # fmt: skip
    assert moved.code == 0, moved.err
    assert json.loads(moved.out)["scheduled_at"] == "2031-05-04T01:00:00Z"
    assert cli("campaigns", "reschedule", str(campaign["id"]), "--at", "yesterday").code == 1
    assert cli("campaigns", "cancel", str(campaign["id"])).code == 0
    refused = cli("campaigns", "reschedule", str(campaign["id"]), "--at", "+1h")
    assert refused.code == 1 and "cancelled" in refused.err
    due = datetime(2031, 5, 4, 1, 0, tzinfo=UTC)
    start = start_due(project_engine, db_project.settings(), db_project.renderer(),
                      campaign["id"], owner=None, clock=lambda: due)  # fmt: skip
    assert start.outcome == "gone" and outbox(db_project) == []


def test_a_job_firing_for_an_old_time_after_a_reschedule_waits(
    db_project: Project, project_engine: sa.Engine, weekly: list[str]
) -> None:
    due = datetime(2031, 5, 4, 1, 0, tzinfo=UTC)
    campaign_id = schedule_at(db_project, project_engine, due)
    reschedule_campaign(project_engine, campaign_id, due + timedelta(hours=3), "UTC",
                        clock=lambda: due - timedelta(hours=1))  # fmt: skip
    start = start_due(project_engine, db_project.settings(), db_project.renderer(), campaign_id,
                      owner=None, clock=lambda: due)  # fmt: skip
    assert start.outcome == "early"
    assert show_campaign(project_engine, campaign_id).status == "scheduled"


def test_cancel_or_reschedule_racing_a_firing_job_never_both_win(
    db_project: Project, project_engine: sa.Engine, weekly: list[str]
) -> None:
    settings, renderer = db_project.settings(), db_project.renderer()
    due = datetime(2031, 5, 4, 1, 0, tzinfo=UTC)
    later = due + timedelta(hours=2)
    fire = partial(start_due, project_engine, settings, renderer, owner=None, clock=lambda: due)
    for _ in range(6):
        campaign_id = schedule_at(db_project, project_engine, due)
        started, _ = race(
            partial(fire, campaign_id),
            partial(cancel_campaign, project_engine, campaign_id, clock=lambda: due),
        )
        # Cancel always wins in the end (a started campaign is cancelled before a batch);
        # the job either started it or found it cancelled, never both nor neither.
        assert show_campaign(project_engine, campaign_id).status == "cancelled"
        assert started.outcome in ("started", "gone")
        assert (started.outcome == "gone") == (ledger(project_engine, campaign_id) == {})

        campaign_id = schedule_at(db_project, project_engine, due)
        started, moved = race(
            partial(fire, campaign_id),
            partial(reschedule_campaign, project_engine, campaign_id, later, "UTC",
                    clock=lambda: due),
        )  # fmt: skip
        campaign = show_campaign(project_engine, campaign_id)
        if isinstance(moved, MailerError):  # the job won: it is sending, not moved
            assert started.outcome == "started" and campaign.status == "sending"
            assert "only a scheduled or missed campaign" in str(moved)
        else:  # the editor won: scheduled for later, nobody in the ledger
            assert started.outcome in ("gone", "early")
            assert (campaign.status, campaign.scheduled_at) == ("scheduled", later)
            assert ledger(project_engine, campaign_id) == {}
    assert outbox(db_project) == []


def test_a_scheduled_campaign_paused_before_its_time_resumes_to_waiting_for_it(
    db_project: Project, project_engine: sa.Engine, weekly: list[str], cli: Cli
) -> None:
    campaign = schedule_json(cli, "--at", "+1h")
    assert cli("campaigns", "pause", str(campaign["id"])).code == 0
    result = cli("campaigns", "resume", str(campaign["id"]))
    assert result.code == 0, result.err
    assert "scheduled again" in result.out
    again = show_campaign(project_engine, campaign["id"])
    assert again.status == "scheduled" and again.scheduled_at == datetime.fromisoformat(
        campaign["scheduled_at"]
    )
    assert outbox(db_project) == []
