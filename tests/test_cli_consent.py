"""Consent, reversibly, on the command line: ``subscribers resubscribe`` with its reason,
``suppressions`` listing who is never mailed, and ``subscribers show`` on an address that is
suppressed without being a subscriber."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from mailer.audience.suppressions import add_suppression
from mailer.db.engine import write_transaction
from mailer.db.tables import consent_events
from tests.conftest import CliResult, Project
from tests.conftest import show_json as show

Cli = Callable[..., CliResult]


@pytest.fixture
def weekly(db_project: Project, cli: Cli) -> Cli:
    """A list ``weekly`` that ada and bo joined, and that ada left."""
    assert cli("lists", "create", "weekly").code == 0
    assert cli("subscribers", "add", "ada@example.com", "bo@example.com", "-l", "weekly").code == 0
    assert cli("subscribers", "unsubscribe", "ada@example.com", "--list", "weekly").code == 0
    return cli


def status_on(cli: Cli, email: str, list_name: str) -> str:
    statuses = {entry["list"]: entry["status"] for entry in show(cli, email)["lists"]}
    return str(statuses[list_name])


def test_resubscribe_brings_them_back_with_the_reason_kept(
    weekly: Cli, project_engine: sa.Engine
) -> None:
    result = weekly(
        "subscribers",
        "resubscribe",
        "Ada@Example.com",
        "--list",
        "weekly",
        "--reason",
        "asked by email",
    )
    assert result.code == 0, result.err
    assert result.out.strip() == "Resubscribed ada@example.com to weekly (confirmed)."
    assert status_on(weekly, "ada@example.com", "weekly") == "confirmed"
    # Adding them again is what the add refused before; now they are simply there.
    added = json.loads(
        weekly("subscribers", "add", "ada@example.com", "-l", "weekly", "--json").out
    )
    assert added[0]["outcome"] != "unsubscribed"
    entries = json.loads(weekly("audit", "--json", "--action", "subscriber.").out)
    (entry,) = [e for e in entries if e["action"] == "subscriber.resubscribe"]
    assert entry["target"] == "ada@example.com" and entry["actor"] == "cli"
    assert entry["detail"]["reason"] == "asked by email"
    with project_engine.connect() as connection:
        actions = connection.execute(
            sa.select(consent_events.c.action, consent_events.c.list_name).order_by(
                consent_events.c.id
            )
        ).all()
    assert actions[-1] == ("resubscribe", "weekly")


def test_resubscribe_after_leaving_every_list_lifts_that_suppression(weekly: Cli) -> None:
    assert weekly("subscribers", "unsubscribe", "bo@example.com").code == 0
    assert show(weekly, "bo@example.com")["suppression"]["reason"] == "unsubscribe"
    result = weekly(
        "subscribers",
        "resubscribe",
        "bo@example.com",
        "-l",
        "weekly",
        "--reason",
        "phoned",
        "--json",
    )
    assert result.code == 0, result.err
    shown = json.loads(result.out)
    assert shown["email"] == "bo@example.com" and shown["suppression"] is None
    assert [(e["list"], e["status"]) for e in shown["lists"]] == [("weekly", "confirmed")]
    assert "bo@example.com" not in weekly("suppressions").out


def test_on_a_double_opt_in_list_they_come_back_unconfirmed_unless_confirmed(
    db_project: Project, cli: Cli
) -> None:
    assert cli("lists", "create", "letters", "--double-opt-in").code == 0
    for email in ("cy@example.com", "di@example.com"):
        assert cli("subscribers", "add", email, "-l", "letters", "--confirmed").code == 0
        assert cli("subscribers", "unsubscribe", email, "-l", "letters").code == 0
    asked = ("-l", "letters", "--reason", "asked again")
    result = cli("subscribers", "resubscribe", "cy@example.com", *asked)
    assert result.code == 0 and "(unconfirmed)" in result.out
    assert cli("subscribers", "resubscribe", "di@example.com", *asked, "--confirmed").code == 0
    assert status_on(cli, "cy@example.com", "letters") == "unconfirmed"
    assert status_on(cli, "di@example.com", "letters") == "confirmed"


@pytest.mark.parametrize(
    ("args", "code", "said"),
    [
        (("ada@example.com", "-l", "weekly"), 2, "Missing option '--reason'"),
        (("ada@example.com", "-l", "weekly", "--reason", "  "), 1, "--reason: say why"),
        (("zed@example.com", "-l", "weekly", "--reason", "x"), 1, "no subscriber zed@example.com"),
        (("ada@example.com", "-l", "daily", "--reason", "x"), 1, "--list: no list named 'daily'"),
        (("not-an-address", "-l", "weekly", "--reason", "x"), 1, "EMAIL: not a valid email"),
        (
            ("bo@example.com", "-l", "weekly", "--reason", "x"),
            1,
            "bo@example.com is confirmed on the list 'weekly' already",
        ),
    ],
    ids=[
        "no-reason",
        "blank-reason",
        "unknown-address",
        "unknown-list",
        "bad-address",
        "never-left",
    ],
)
def test_resubscribe_refusals_name_the_thing(
    weekly: Cli, args: tuple[str, ...], code: int, said: str
) -> None:
    result = weekly("subscribers", "resubscribe", *args)
    assert result.code == code
    assert said in result.err
    assert "Traceback" not in result.err
    assert status_on(weekly, "ada@example.com", "weekly") == "unsubscribed"


def test_a_bounce_is_not_lifted_by_a_resubscribe(weekly: Cli) -> None:
    assert weekly("subscribers", "suppress", "ada@example.com", "--reason", "bounce").code == 0
    result = weekly(
        "subscribers", "resubscribe", "ada@example.com", "-l", "weekly", "--reason", "asked"
    )
    assert result.code == 1
    assert "suppressed for 'bounce'" in result.err and "lift the suppression first" in result.err
    assert status_on(weekly, "ada@example.com", "weekly") == "unsubscribed"


@pytest.fixture
def suppressed(db_project: Project, cli: Cli) -> Cli:
    """Three suppressions and one erased person, added out of address order."""
    assert cli("lists", "create", "weekly").code == 0
    assert cli("subscribers", "add", "gone@example.com", "-l", "weekly").code == 0
    assert cli("subscribers", "forget", "gone@example.com", "--yes").code == 0
    assert (
        cli(
            "subscribers",
            "suppress",
            "zoe@example.com",
            "--reason",
            "bounce",
            "--detail",
            "550 no such\nmailbox",
        ).code
        == 0
    )
    assert cli("subscribers", "suppress", "al@example.com", "--reason", "manual").code == 0
    assert cli("subscribers", "suppress", "mo@example.com", "--reason", "bounce").code == 0
    return cli


def test_suppressions_table_by_address_erased_last(
    suppressed: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Written to a pipe with no width given, a row is one line however long.
    monkeypatch.delenv("COLUMNS", raising=False)
    result = suppressed("suppressions")
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0].split() == ["address", "reason", "since", "detail"]
    assert [line.split()[:2] for line in lines[1:-1]] == [
        ["al@example.com", "manual"],
        ["mo@example.com", "bounce"],
        ["zoe@example.com", "bounce"],
        ["(erased)", "manual"],
    ]
    assert lines[3].endswith("550 no such mailbox")  # a note on one line
    assert lines[1].endswith(" UTC")  # since when, and nothing after: no note
    assert lines[-1] == "4 suppressions."


def test_suppressions_by_reason_and_as_json(suppressed: Cli) -> None:
    result = suppressed("suppressions", "--reason", "bounce", "--json")
    assert result.code == 0, result.err
    found = json.loads(result.out)
    assert [(s["email"], s["reason"]) for s in found] == [
        ("mo@example.com", "bounce"),
        ("zoe@example.com", "bounce"),
    ]
    assert found[1]["detail"] == "550 no such\nmailbox"
    assert datetime.fromisoformat(found[1]["created_at"]).tzinfo is not None
    assert suppressed("suppressions", "--reason", "spamreport", "--json").out == "[]\n"
    assert suppressed("suppressions", "--reason", "spamreport").out.splitlines()[-1] == (
        "0 suppressions."
    )


def test_an_unknown_reason_is_refused_naming_the_reasons(suppressed: Cli) -> None:
    result = suppressed("suppressions", "--reason", "bounced")
    assert result.code == 1
    assert "'bounced'" in result.err and "bounce, spamreport" in result.err
    assert result.out == ""


def test_suppressions_json_streams_more_rows_than_one_chunk(
    db_project: Project, cli: Cli, project_engine: sa.Engine
) -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    with write_transaction(project_engine) as connection:
        for n in range(2345):
            email = f"r{n:05d}@example.com"
            moment = start + timedelta(seconds=n)
            add_suppression(connection, email, email, "invalid", "", lambda at=moment: at)
    result = cli("suppressions", "--json")
    assert result.code == 0, result.err
    found = json.loads(result.out)
    assert [s["email"] for s in found] == [f"r{n:05d}@example.com" for n in range(2345)]
    assert cli("suppressions").out.splitlines()[-1] == "2345 suppressions."


def test_show_says_an_address_is_suppressed_though_not_a_subscriber(suppressed: Cli) -> None:
    # Still "no subscriber" (exit 1, nothing on stdout), but never just that.
    result = suppressed("subscribers", "show", "Zoe@Example.com", "--json")
    assert result.code == 1 and result.out == ""
    said = result.err.replace("\n", " ")
    assert "no subscriber Zoe@example.com, but the address is suppressed (bounce since" in said
    assert "UTC: 550 no such mailbox)" in said
    erased = suppressed("subscribers", "show", "gone@example.com")
    assert erased.code == 1
    assert "suppressed (manual since" in erased.err and "erased on request" in erased.err
    unknown = suppressed("subscribers", "show", "nobody@example.com")
    assert unknown.code == 1
    assert unknown.err.strip() == "error: no subscriber nobody@example.com"
