"""Local-time delivery (`send --local-time 09:00`): each subscriber gets the issue at 09:00 in
their own zone (the newsletter's when they have none), in waves sent as each zone's moment
comes; leavers are skipped, and rows whose moment passed long before a sender ran are skipped,
not sent a day late."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, time, timedelta
from functools import cache
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from hypothesis import example, given
from hypothesis import strategies as st

from mailer.audience.subscribers import unsubscribe
from mailer.audience.suppressions import suppress
from mailer.db.tables import deliveries, subscribers
from mailer.delivery.campaigns import show_campaign
from mailer.delivery.local_time import next_local
from mailer.delivery.worker import CampaignRunner
from mailer.emulator.server import SendGridEmulator
from mailer.scheduling.one_off import start_due
from tests.conftest import CliResult, Project
from tests.sending import API_KEY, fill_list, received, running_emulator, use_emulator

Cli = Callable[..., CliResult]
NEW_YORK = ZoneInfo("America/New_York")

# -- next_local ---------------------------------------------------------------------------------

# Zones whose clocks move by at most an hour (so the next HH:MM is always within 25 hours).
ZONES = ["America/New_York", "Europe/Berlin", "Asia/Shanghai", "Australia/Lord_Howe",
         "America/Sao_Paulo", "Asia/Kolkata", "Pacific/Chatham", "UTC"]  # fmt: skip


@cache
def offset_changes(name: str) -> list[datetime]:
    """The UTC hours of 2026-2027 at which the zone's offset had just changed."""
    zone, start = ZoneInfo(name), datetime(2026, 1, 1, tzinfo=UTC)
    hours = [start + timedelta(hours=step) for step in range(2 * 8760)]
    offsets = [(moment, moment.astimezone(zone).utcoffset()) for moment in hours]
    return [b for (_, was), (b, now) in pairwise(offsets) if was != now]


@st.composite
def local_cases(draw: st.DrawFn) -> tuple[time, str, datetime]:
    """A time of day, a zone and a moment after which it is wanted; half of them on or just
    before a night the clocks change, at a time of day near the change."""
    name = draw(st.sampled_from(ZONES))
    changes, near_a_change = offset_changes(name), draw(st.booleans())
    if changes and near_a_change:
        change = draw(st.sampled_from(changes))
        after = change + timedelta(minutes=draw(st.integers(-30 * 60, 2 * 60)))
        wall = change.astimezone(ZoneInfo(name)) - timedelta(minutes=draw(st.integers(0, 90)))
        return time(wall.hour, wall.minute), name, after
    clock = time(draw(st.integers(0, 23)), draw(st.integers(0, 59)))
    moment = draw(st.datetimes(datetime(2026, 1, 1), datetime(2035, 12, 31)))
    return clock, name, moment.replace(tzinfo=UTC)


@given(local_cases())
@example((time(2, 30), "America/New_York", datetime(2026, 3, 8, 5, 0, tzinfo=UTC)))
def test_next_local_is_the_next_time_that_wall_clock_time_comes_round(
    case: tuple[time, str, datetime],
) -> None:
    clock, name, after = case
    zone = ZoneInfo(name)
    result = next_local(clock, zone, after)
    assert after < result <= after + timedelta(hours=25)
    local = result.astimezone(zone)
    assert local.date() - after.astimezone(zone).date() in (timedelta(0), timedelta(1))
    wanted = datetime.combine(local.date(), clock)
    if wanted.replace(tzinfo=zone).astimezone(UTC).astimezone(zone).replace(tzinfo=None) == wanted:
        assert local.time() == clock
    else:  # the clocks skip that time that night: it goes out the moment they jump
        before = (result - timedelta(seconds=1)).astimezone(zone)
        assert before.utcoffset() != local.utcoffset(), f"{local} is not when the clocks jumped"


def utc(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def test_next_local_in_new_york_across_both_changes_of_2026() -> None:
    # Saturday 10:00 EST -> Sunday 09:00 EDT: 22 hours later.
    assert next_local(time(9), NEW_YORK, utc(2026, 3, 7, 15)) == utc(2026, 3, 8, 13)
    # Saturday 09:30 EDT -> Sunday 09:00 EST: 24.5 hours later.
    assert next_local(time(9), NEW_YORK, utc(2026, 10, 31, 13, 30)) == utc(2026, 11, 1, 14)
    # 01:30 happens twice on 1 November: the first one (EDT).
    assert next_local(time(1, 30), NEW_YORK, utc(2026, 11, 1, 4)) == utc(2026, 11, 1, 5, 30)


@pytest.mark.parametrize("clock", [time(2, 0), time(2, 30), time(2, 59)])
def test_a_time_the_clocks_skip_goes_out_when_they_jump_to_three(clock: time) -> None:
    # 8 March 2026 in New York: 02:00 EST is followed by 03:00 EDT (07:00 UTC).
    result = next_local(clock, NEW_YORK, datetime(2026, 3, 8, 5, 0, tzinfo=UTC))
    assert result.astimezone(NEW_YORK).isoformat() == "2026-03-08T03:00:00-04:00"


# -- campaigns ------------------------------------------------------------------------------------

T0 = datetime(2031, 6, 15, 2, 0, tzinfo=UTC)  # the start: 10:00 in Shanghai, 22:00 in New York
KOLKATA = datetime(2031, 6, 15, 3, 30, tzinfo=UTC)  # the newsletter's zone
BERLIN = datetime(2031, 6, 15, 7, 0, tzinfo=UTC)
NEW_YORK_9 = datetime(2031, 6, 15, 13, 0, tzinfo=UTC)
SHANGHAI = datetime(2031, 6, 16, 1, 0, tzinfo=UTC)  # 09:00 has passed there today: tomorrow
READERS = {  # address: (timezone cell of the import, when 09:00 comes round there after T0)
    "sh1@example.com": ("Asia/Shanghai", SHANGHAI), "sh2@example.com": ("Asia/Shanghai", SHANGHAI),
    "be1@example.com": ("Europe/Berlin", BERLIN), "be2@example.com": ("Europe/Berlin", BERLIN),
    "ny1@example.com": ("America/New_York", NEW_YORK_9),
    "ny2@example.com": ("America/New_York", NEW_YORK_9),
    "nozone@example.com": ("", KOLKATA),
    "mars@example.com": ("", KOLKATA),  # given a zone that does not exist after the import
}  # fmt: skip


class SteppedClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def due_by(moment: datetime) -> set[str]:
    return {email for email, (_, due) in READERS.items() if due <= moment}


@pytest.fixture
def emulator() -> Iterator[tuple[SendGridEmulator, str]]:
    with running_emulator() as pair:
        yield pair


def rows(engine: sa.Engine, campaign_id: int) -> dict[str, tuple[str, datetime | None, str]]:
    """address -> (ledger status, due_at, error)."""
    with engine.connect() as connection:
        found = connection.execute(
            sa.select(
                subscribers.c.email, deliveries.c.status, deliveries.c.due_at, deliveries.c.error
            )
            .join(subscribers, subscribers.c.id == deliveries.c.subscriber_id)
            .where(deliveries.c.campaign_id == campaign_id)
        )
        return {row.email: (row.status, row.due_at, row.error or "") for row in found}


def start_local_time_campaign(
    project: Project, cli: Cli, engine: sa.Engine, url: str, monkeypatch: pytest.MonkeyPatch
) -> int:
    """`send 87 --local-time 09:00 --at T0` to READERS, started by the worker at T0."""
    config = project.config.read_text(encoding="utf-8")
    project.config.write_text(
        config.replace("[newsletter]\n", '[newsletter]\ntimezone = "Asia/Kolkata"\n'), "utf-8"
    )
    use_emulator(project, url)
    monkeypatch.setenv("SENDGRID_API_KEY", API_KEY)
    assert cli("lists", "create", "weekly").code == 0
    csv = project.root / "readers.csv"
    csv.write_text("email,timezone\n" + "".join(f"{e},{z}\n" for e, (z, _) in READERS.items()))
    imported = cli("subscribers", "import", str(csv), "--list", "weekly", "--confirmed")
    assert imported.code == 0, imported.err
    with engine.begin() as connection:
        connection.execute(
            sa.update(subscribers)
            .where(subscribers.c.email == "mars@example.com")
            .values(timezone="Mars/Olympus")
        )
    args = ("--at", "2031-06-15T02:00Z", "--local-time", "09:00", "--yes", "--json")
    scheduled = cli("send", "87", "--list", "weekly", *args)
    assert scheduled.code == 0, scheduled.err
    campaign_id = int(json.loads(scheduled.out)["id"])
    start = start_due(engine, project.settings(), project.renderer(), campaign_id, owner=None,
                      clock=lambda: T0)  # fmt: skip
    assert start.outcome == "started", start.message
    return campaign_id


def test_at_the_start_everyone_waits_for_nine_in_their_own_zone(
    db_project: Project, cli: Cli, project_engine: sa.Engine,
    emulator: tuple[SendGridEmulator, str], monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    campaign_id = start_local_time_campaign(
        db_project, cli, project_engine, emulator[1], monkeypatch
    )
    assert rows(project_engine, campaign_id) == {
        email: ("waiting", due, "") for email, (_, due) in READERS.items()
    }
    listed = json.loads(cli("campaigns", "--json").out)
    assert [campaign["id"] for campaign in listed] == [campaign_id]
    shown = json.loads(cli("campaigns", "show", str(campaign_id), "--json").out)
    assert (shown["status"], shown["local_time"]) == ("sending", "09:00")
    assert shown["waiting_until"] == "2031-06-15T03:30:00Z"
    assert shown["counts"]["total"] == shown["counts"]["waiting"] == len(READERS)
    assert sum(shown["counts"].values()) == 2 * len(READERS)  # total + each state
    assert received(emulator[1]) == []


def test_each_wave_goes_out_at_its_zones_moment_and_nobody_twice(
    db_project: Project, cli: Cli, project_engine: sa.Engine,
    emulator: tuple[SendGridEmulator, str], monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    campaign_id = start_local_time_campaign(
        db_project, cli, project_engine, emulator[1], monkeypatch
    )
    clock = SteppedClock(T0)
    runner = CampaignRunner(project_engine, db_project.settings(), b"k" * 32, clock=clock)
    waves = (KOLKATA, BERLIN, NEW_YORK_9, SHANGHAI)
    for moment in (T0, KOLKATA, BERLIN - timedelta(minutes=1), BERLIN, NEW_YORK_9, SHANGHAI):
        clock.now = moment
        assert runner.run_once() == (1 if moment in waves else 0), moment
        copies = Counter(message["to"] for message in received(emulator[1]))
        assert set(copies) == due_by(moment), moment
        assert set(copies.values()) <= {1}, "someone was sent twice"
        campaign = show_campaign(project_engine, campaign_id)
        later = [due for _, due in READERS.values() if due > moment]
        assert campaign.status == ("sending" if later else "sent"), moment
        assert campaign.waiting_until == (min(later) if later else None), moment
        counts = campaign.counts
        assert (counts["sent"], counts["waiting"]) == (len(copies), len(later)), moment
        assert counts["total"] == counts["sent"] + counts["waiting"] == len(READERS)
    assert {status for status, _, _ in rows(project_engine, campaign_id).values()} == {"sent"}


def test_who_leaves_before_their_local_time_is_skipped_not_sent(
    db_project: Project, cli: Cli, project_engine: sa.Engine,
    emulator: tuple[SendGridEmulator, str], monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    campaign_id = start_local_time_campaign(
        db_project, cli, project_engine, emulator[1], monkeypatch
    )
    clock = SteppedClock(T0 + timedelta(hours=1))
    unsubscribe(project_engine, "be1@example.com", "weekly", clock=clock)
    suppress(project_engine, "ny1@example.com", "spamreport", clock=clock)
    runner = CampaignRunner(project_engine, db_project.settings(), b"k" * 32, clock=clock)
    for moment in (KOLKATA, BERLIN, NEW_YORK_9, SHANGHAI):
        clock.now = moment
        runner.run_once()
    copies = Counter(message["to"] for message in received(emulator[1]))
    assert set(copies) == set(READERS) - {"be1@example.com", "ny1@example.com"}
    assert set(copies.values()) == {1}
    ledger = rows(project_engine, campaign_id)
    left, suppressed = ledger["be1@example.com"], ledger["ny1@example.com"]
    assert left[0] == "skipped" and "unsubscribed" in left[2], left
    assert suppressed[0] == "skipped" and "suppressed" in suppressed[2], suppressed
    campaign = show_campaign(project_engine, campaign_id)
    assert campaign.status == "sent"
    assert (campaign.counts["sent"], campaign.counts["skipped"]) == (len(READERS) - 2, 2)


def test_rows_whose_moment_passed_beyond_the_misfire_grace_are_skipped_with_the_reason(
    db_project: Project, cli: Cli, project_engine: sa.Engine,
    emulator: tuple[SendGridEmulator, str], monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    campaign_id = start_local_time_campaign(
        db_project, cli, project_engine, emulator[1], monkeypatch
    )
    # Nothing ran until 13:30 UTC: Kolkata's 03:30 and Berlin's 07:00 are far past the 1h
    # grace, New York's 13:00 is half an hour ago.
    clock = SteppedClock(NEW_YORK_9 + timedelta(minutes=30))
    runner = CampaignRunner(project_engine, db_project.settings(), b"k" * 32, clock=clock)
    assert runner.run_once() == 1
    assert {message["to"] for message in received(emulator[1])} == {
        "ny1@example.com", "ny2@example.com"
    }  # fmt: skip
    ledger = rows(project_engine, campaign_id)
    missed = {email for email, (_, due) in READERS.items() if due < BERLIN + timedelta(hours=1)}
    assert missed == {"be1@example.com", "be2@example.com", "nozone@example.com",
                      "mars@example.com"}  # fmt: skip
    for email in missed:
        status, _, error = ledger[email]
        assert status == "skipped" and "misfire grace" in error, (email, ledger[email])
    assert ledger["sh1@example.com"][0] == ledger["sh2@example.com"][0] == "waiting"
    campaign = show_campaign(project_engine, campaign_id)
    assert (campaign.status, campaign.waiting_until) == ("sending", SHANGHAI)

    clock.now = SHANGHAI
    assert runner.run_once() == 1
    copies = Counter(message["to"] for message in received(emulator[1]))
    assert set(copies) == set(READERS) - missed and set(copies.values()) == {1}
    campaign = show_campaign(project_engine, campaign_id)
    assert campaign.status == "sent"
    assert (campaign.counts["sent"], campaign.counts["skipped"]) == (4, 4)


@pytest.mark.parametrize("bad", ["9am", "25:00", "09:60", "0900", "9"])
def test_a_local_time_that_is_not_hh_mm_is_refused_and_nothing_is_stored(
    db_project: Project, cli: Cli, project_engine: sa.Engine, bad: str
) -> None:
    assert cli("lists", "create", "weekly").code == 0
    fill_list(project_engine, 2)
    result = cli("send", "87", "--list", "weekly", "--local-time", bad, "--yes", "--json")
    assert result.code == 1
    assert "--local-time" in result.err and "HH:MM" in result.err
    assert json.loads(cli("campaigns", "--json").out) == []


@pytest.mark.parametrize(("given_as", "stored"), [("09:00", "09:00"), ("9:05", "09:05")])
def test_send_local_time_schedules_a_campaign_for_the_worker(
    db_project: Project, cli: Cli, project_engine: sa.Engine, given_as: str, stored: str
) -> None:
    assert cli("lists", "create", "weekly").code == 0
    fill_list(project_engine, 2)
    result = cli("send", "87", "--list", "weekly", "--local-time", given_as, "--yes", "--json")
    assert result.code == 0, result.err
    campaign = json.loads(result.out)
    assert (campaign["status"], campaign["local_time"]) == ("scheduled", stored)
    assert campaign["counts"]["total"] == 0 and campaign["scheduled_at"] is not None
    assert [found["id"] for found in json.loads(cli("campaigns", "--json").out)] == [campaign["id"]]
