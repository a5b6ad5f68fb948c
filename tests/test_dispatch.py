"""How the dispatcher reacts to each kind of answer, and to editors acting mid-send, against
the emulator on loopback."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from mailer.audience.subscribers import unsubscribe
from mailer.audience.suppressions import suppress
from mailer.clock import utc_now
from mailer.db.engine import write_transaction
from mailer.delivery import ledger, ledger_reads
from mailer.delivery.campaigns import cancel_campaign, pause_campaign, show_campaign
from mailer.delivery.dispatcher import Dispatcher, Tally
from mailer.delivery.sending import campaign_content, plan_send, resume_campaign, start_campaign
from mailer.delivery.transports.factory import make_transport
from mailer.emulator.server import SendGridEmulator
from tests.conftest import CliResult, Project
from tests.sending import (
    API_KEY,
    configure,
    fill_list,
    once_each,
    received,
    running_emulator,
    summary,
    use_emulator,
)
from tests.sending import (
    ledger as ledger_statuses,
)

Cli = Callable[..., CliResult]
ENV = {"SENDGRID_API_KEY": API_KEY}


@pytest.fixture
def emulator() -> Iterator[tuple[SendGridEmulator, str]]:
    with running_emulator() as pair:
        yield pair


def setup(
    project: Project, cli: Cli, url: str, monkeypatch: pytest.MonkeyPatch, *,
    batch_size: int = 1000, extra: str = "", sendgrid: str = "",
) -> None:  # fmt: skip
    use_emulator(project, url, batch_size=batch_size, extra=extra, sendgrid=sendgrid)
    monkeypatch.setenv("SENDGRID_API_KEY", API_KEY)
    assert cli("lists", "create", "weekly").code == 0


def send(cli: Cli) -> tuple[CliResult, dict[str, object]]:
    result = cli("send", "87", "--list", "weekly", "--yes", "--json")
    return result, json.loads(result.out)


def test_rate_limited_requests_wait_for_the_reset_and_go_out(
    db_project: Project, cli: Cli, project_engine: sa.Engine,
    emulator: tuple[SendGridEmulator, str], monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    setup(db_project, cli, emulator[1], monkeypatch, batch_size=2)
    emails = fill_list(project_engine, 12)
    # One request a second: of six requests, all but one per second meet a 429.
    configure(emulator[0], rate_limit=1)
    result, campaign = send(cli)
    assert result.code == 0, result.err
    assert campaign["status"] == "sent"
    once_each(emulator[1], emails)
    assert summary(emulator[1])["rate_limited"] >= 1


def test_server_errors_are_retried_then_pause_and_resume_finishes(
    db_project: Project, cli: Cli, project_engine: sa.Engine,
    emulator: tuple[SendGridEmulator, str], monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    setup(db_project, cli, emulator[1], monkeypatch, extra="retry_attempts = 3\n")
    emails = fill_list(project_engine, 5)
    configure(emulator[0], fail_rate=1.0, faults=("500", "503"))
    result, campaign = send(cli)
    assert result.code == 1
    assert campaign["status"] == "paused"
    assert campaign["counts"]["pending"] == 5 and campaign["counts"]["sent"] == 0  # type: ignore[index]
    assert "(3 tries)" in str(campaign["message"]) and "campaigns resume" in str(
        campaign["message"]
    )
    assert summary(emulator[1])["requests"] == 3
    configure(emulator[0], fail_rate=0.0)
    resumed = cli("campaigns", "resume", str(campaign["id"]), "--json")
    assert resumed.code == 0, resumed.err
    assert json.loads(resumed.out)["status"] == "sent"
    once_each(emulator[1], emails)


def test_a_flaky_server_still_reaches_everyone_exactly_once(
    db_project: Project, cli: Cli, project_engine: sa.Engine,
    emulator: tuple[SendGridEmulator, str], monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    setup(db_project, cli, emulator[1], monkeypatch, batch_size=7, extra="retry_attempts = 30\n")
    emails = fill_list(project_engine, 60)
    configure(emulator[0], fail_rate=0.5, faults=("500", "503"), seed=3)
    result, _ = send(cli)
    assert result.code == 0, result.err
    once_each(emulator[1], emails)
    faults = summary(emulator[1])
    assert faults.get("fault_500", 0) + faults.get("fault_503", 0) > 0


@pytest.mark.parametrize(("key", "status"), [("SG.wrong", 401), ("SG.read-only", 403)])
def test_a_refused_key_stops_at_once_with_nothing_sent(
    db_project: Project, cli: Cli, project_engine: sa.Engine,
    emulator: tuple[SendGridEmulator, str], monkeypatch: pytest.MonkeyPatch, key: str, status: int,
) -> None:  # fmt: skip
    setup(db_project, cli, emulator[1], monkeypatch)
    fill_list(project_engine, 3)
    configure(
        emulator[0], api_keys=frozenset({API_KEY}), forbidden_keys=frozenset({"SG.read-only"})
    )
    monkeypatch.setenv("SENDGRID_API_KEY", key)
    result, campaign = send(cli)
    assert result.code == 1
    assert f"SendGrid refused the API key (HTTP {status}" in str(campaign["message"])
    assert campaign["counts"]["sent"] == 0 and campaign["counts"]["pending"] == 3  # type: ignore[index]
    assert summary(emulator[1])["requests"] == 1
    assert received(emulator[1]) == []


def test_a_refused_recipient_fails_alone_and_the_rest_go_out(
    db_project: Project, cli: Cli, project_engine: sa.Engine,
    emulator: tuple[SendGridEmulator, str], monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    setup(db_project, cli, emulator[1], monkeypatch)
    emails = fill_list(project_engine, 20)
    configure(emulator[0], refused_addresses=frozenset({"reader7@example.com"}))
    result, campaign = send(cli)
    assert result.code == 0, result.err
    assert campaign["counts"]["failed"] == 1 and campaign["counts"]["sent"] == 19  # type: ignore[index]
    once_each(emulator[1], [email for email in emails if email != "reader7@example.com"])
    shown = cli("subscribers", "show", "reader7@example.com", "--json")
    assert shown.code == 0
    statuses = ledger_statuses(project_engine, int(str(campaign["id"])))
    assert Counter(statuses.values()) == {"sent": 19, "failed": 1}


def test_refused_content_pauses_instead_of_splitting(
    db_project: Project, cli: Cli, project_engine: sa.Engine,
    emulator: tuple[SendGridEmulator, str], monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    eleven = ", ".join(f'"c{number}"' for number in range(11))
    setup(db_project, cli, emulator[1], monkeypatch, sendgrid=f"categories = [{eleven}]\n")
    fill_list(project_engine, 4)
    result, campaign = send(cli)
    assert result.code == 1
    assert campaign["status"] == "paused"
    assert "categories: holds 11; at most 10 are allowed" in str(campaign["message"])
    assert summary(emulator[1])["requests"] == 1


@pytest.mark.parametrize("fault", ["drop", "timeout"])
def test_a_lost_answer_is_in_doubt_until_an_editor_decides(
    db_project: Project, cli: Cli, project_engine: sa.Engine,
    emulator: tuple[SendGridEmulator, str], monkeypatch: pytest.MonkeyPatch, fault: str,
) -> None:  # fmt: skip
    setup(db_project, cli, emulator[1], monkeypatch, batch_size=2, sendgrid="timeout = 0.5\n")
    emails = fill_list(project_engine, 4)
    configure(emulator[0], fail_rate=1.0, faults=(fault,), stall_seconds=1.5)
    result, campaign = send(cli)
    assert result.code == 0, result.err  # the run ends: nothing is left pending
    assert campaign["counts"]["in_doubt"] == 4  # type: ignore[index]
    assert summary(emulator[1])["requests"] == 2  # never silently resent
    campaign_id = str(campaign["id"])
    shown = cli("campaigns", "show", campaign_id)
    assert "in_doubt 4" in shown.out
    configure(emulator[0], fail_rate=0.0)
    resolved = cli("campaigns", "resolve", campaign_id, "--resend", "--json")
    assert resolved.code == 0, resolved.err
    assert json.loads(resolved.out)["counts"]["sent"] == 4
    once_each(emulator[1], emails)
    again = cli("campaigns", "resolve", campaign_id, "--mark-sent")
    assert again.code == 1 and "has no in_doubt recipients" in again.err


def test_an_unreachable_server_is_retried_then_pauses(
    db_project: Project, cli: Cli, project_engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    setup(db_project, cli, "http://127.0.0.1:9", monkeypatch, extra="retry_attempts = 2\n")
    fill_list(project_engine, 2)
    result, campaign = send(cli)
    assert result.code == 1
    assert "cannot reach SendGrid at http://127.0.0.1:9" in str(campaign["message"])
    assert campaign["counts"]["pending"] == 2  # type: ignore[index]


def start(project: Project, engine: sa.Engine) -> tuple[int, Dispatcher]:
    settings = project.settings()
    plan = plan_send(engine, settings, project.renderer(), "87", "weekly", transport="sendgrid")
    campaign_id = start_campaign(engine, plan)
    return campaign_id, dispatcher_for(project, engine, campaign_id)


def dispatcher_for(
    project: Project, engine: sa.Engine, campaign_id: int, **kwargs: object
) -> Dispatcher:
    settings = project.settings()
    transport = make_transport("sendgrid", settings, ENV)
    content = campaign_content(engine, settings, campaign_id)
    return Dispatcher(engine, transport, content, b"k" * 32, settings.delivery, **kwargs)  # type: ignore[arg-type]


def test_pause_takes_effect_before_the_next_batch_and_resume_finishes(
    db_project: Project, cli: Cli, project_engine: sa.Engine,
    emulator: tuple[SendGridEmulator, str], monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    setup(db_project, cli, emulator[1], monkeypatch, batch_size=3, sendgrid="concurrency = 1\n")
    emails = fill_list(project_engine, 10)
    campaign_id, dispatcher = start(db_project, project_engine)
    dispatcher.on_progress = lambda tally: pause_campaign(project_engine, campaign_id)
    assert dispatcher.run() == "paused"
    assert len(received(emulator[1])) == 3
    assert show_campaign(project_engine, campaign_id).counts["pending"] == 7
    resume_campaign(project_engine, campaign_id)
    assert dispatcher_for(db_project, project_engine, campaign_id).run() == "sent"
    once_each(emulator[1], emails)


@pytest.mark.parametrize("submitted", [False, True])
def test_a_dead_senders_claimed_batch_goes_back_but_its_submitted_batch_is_in_doubt(
    db_project: Project, cli: Cli, project_engine: sa.Engine,
    emulator: tuple[SendGridEmulator, str], monkeypatch: pytest.MonkeyPatch, submitted: bool,
) -> None:  # fmt: skip
    setup(db_project, cli, emulator[1], monkeypatch, batch_size=3)
    emails = fill_list(project_engine, 10)
    campaign_id, _ = start(db_project, project_engine)
    # What a sender killed at that point leaves behind: a batch claimed while the request
    # before it was on the wire, and (or not yet) marked as about to go out itself.
    with write_transaction(project_engine) as connection:
        batch = ledger_reads.read_batch(connection, campaign_id, 0, 3)
        assert batch is not None
        batch_id = ledger.claim_prepared(connection, campaign_id, batch, utc_now())
        if submitted:
            ledger.submit_batch(connection, batch_id)
    assert show_campaign(project_engine, campaign_id).counts["in_flight"] == 3

    assert dispatcher_for(db_project, project_engine, campaign_id).run() == "sent"
    counts = show_campaign(project_engine, campaign_id).counts
    if submitted:  # it may have gone out: never resent without a decision
        assert (counts["in_doubt"], counts["sent"]) == (3, 7)
        once_each(emulator[1], emails[3:])
    else:  # it never went out: sent like the rest
        assert (counts["in_doubt"], counts["sent"]) == (0, 10)
        once_each(emulator[1], emails)


def test_cancel_takes_effect_before_the_next_batch(
    db_project: Project, cli: Cli, project_engine: sa.Engine,
    emulator: tuple[SendGridEmulator, str], monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    setup(db_project, cli, emulator[1], monkeypatch, batch_size=3, sendgrid="concurrency = 1\n")
    fill_list(project_engine, 10)
    campaign_id, dispatcher = start(db_project, project_engine)
    dispatcher.on_progress = lambda tally: cancel_campaign(project_engine, campaign_id)
    assert dispatcher.run() == "cancelled"
    assert len(received(emulator[1])) == 3
    resumed = cli("campaigns", "resume", str(campaign_id))
    assert resumed.code == 1 and "is cancelled" in resumed.err


def test_who_unsubscribes_or_is_suppressed_mid_send_is_skipped(
    db_project: Project, cli: Cli, project_engine: sa.Engine,
    emulator: tuple[SendGridEmulator, str], monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    setup(db_project, cli, emulator[1], monkeypatch, batch_size=3, sendgrid="concurrency = 1\n")
    emails = fill_list(project_engine, 9)
    campaign_id, dispatcher = start(db_project, project_engine)

    def leave(tally: Tally) -> None:
        if tally.sent == 3:
            unsubscribe(project_engine, "reader5@example.com", "weekly")
            suppress(project_engine, "READER7@example.com", "spamreport")

    dispatcher.on_progress = leave
    assert dispatcher.run() == "sent"
    gone = {"reader5@example.com", "reader7@example.com"}
    once_each(emulator[1], [email for email in emails if email not in gone])
    counts = show_campaign(project_engine, campaign_id).counts
    assert (counts["sent"], counts["skipped"]) == (7, 2)


def test_the_rate_cap_spreads_batches_and_survives_a_restart(
    db_project: Project, cli: Cli, project_engine: sa.Engine,
    emulator: tuple[SendGridEmulator, str], monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    setup(db_project, cli, emulator[1], monkeypatch, extra="max_per_second = 10.0\n")
    emails = fill_list(project_engine, 35)
    now = [datetime(2026, 11, 23, 9, 0, tzinfo=UTC)]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += timedelta(seconds=seconds)

    settings = db_project.settings()
    plan = plan_send(project_engine, settings, db_project.renderer(), "87", "weekly")
    campaign_id = start_campaign(project_engine, plan, clock=lambda: now[0])
    dispatcher = dispatcher_for(
        db_project, project_engine, campaign_id, clock=lambda: now[0], sleep=sleep
    )
    assert dispatcher.run() == "sent"
    once_each(emulator[1], emails)
    # 35 messages at 10/s in batches of 10, 10, 10, 5: the bucket's 10 go at once and the
    # next batch may run it into debt; each later batch waits until the debt is paid (1 s).
    assert slept == pytest.approx([1.0, 1.0], abs=0.01)
    # A new sender right away gets no fresh bucket: the debt was stored.
    second = start_campaign(project_engine, plan, clock=lambda: now[0])
    slept.clear()
    assert (
        dispatcher_for(db_project, project_engine, second, clock=lambda: now[0], sleep=sleep).run()
        == "sent"
    )
    assert slept and slept[0] > 0
