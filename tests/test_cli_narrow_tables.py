"""The tables the command line prints stay readable in an 80-column terminal: no line is
wider, and what names a row (a list's name, a schedule's name, a time, an address) is never
cut or broken; long text wraps at words, and columns that would not fit are left out."""

from __future__ import annotations

import io
import re
from collections.abc import Callable

import pytest

from tests.conftest import CliResult, Project

Cli = Callable[..., CliResult]
LONG_LIST = "asia-pacific-readers"
LONG_TITLE = "Tech in China Weekly, the long-form edition for readers across the region"
LONG_ADDRESS = "zed.someone.with.long.address@mail.example.org"
BOUNCE = "550 5.1.1 The email account that you tried to reach does not exist here"


@pytest.fixture
def narrow(db_project: Project, cli: Cli, monkeypatch: pytest.MonkeyPatch) -> Cli:
    """The command line with data to show, in an 80-column terminal."""
    assert cli("lists", "create", LONG_LIST, "--title", LONG_TITLE).code == 0
    assert cli("lists", "create", "weekly").code == 0
    name = "Annabelle Marie-Christine Featherstonehaugh"
    added = cli(
        "subscribers", "add", "ann@example.com", "-l", "weekly", "--name", name, "--confirmed"
    )
    assert added.code == 0, added.err
    assert cli("send", "87", "--list", "weekly", "--transport", "outbox", "--yes").code == 0
    at = ["--at", "2031-05-06 09:00", "--tz", "Asia/Shanghai"]
    scheduled = cli("send", "87", "--list", "weekly", *at, "--again", "--yes")
    assert scheduled.code == 0, scheduled.err
    cron = ["--cron", "0 9 * * MON", "--tz", "Asia/Shanghai"]
    to = ["--list", "weekly", "--segment", 'country = "CN"']
    schedule = cli("schedules", "add", "monday-morning-digest", *cron, *to)
    assert schedule.code == 0, schedule.err
    suppressed = cli(
        "subscribers", "suppress", LONG_ADDRESS, "--reason", "bounce", "--detail", BOUNCE
    )
    assert suppressed.code == 0, suppressed.err
    monkeypatch.setenv("COLUMNS", "80")
    return cli


def shown(cli: Cli, *args: str) -> str:
    result = cli(*args)
    assert result.code == 0, result.err
    too_wide = [line for line in result.out.splitlines() if len(line) > 80]
    assert too_wide == [], result.out
    return result.out


def whole(text: str, out: str) -> bool:
    """Whether ``text`` is in ``out`` unbroken, on one line."""
    return any(text in line for line in out.splitlines())


def words_whole(text: str, out: str) -> bool:
    """Whether each word of ``text`` is in ``out`` unbroken (wrapping between words only)."""
    return all(whole(word, out) for word in text.split())


def test_lists(narrow: Cli) -> None:
    out = shown(narrow, "lists")
    assert whole(LONG_LIST, out) and whole("weekly", out)
    assert re.search(r"│ weekly +│ single +│ 1 +│ 0 +│ 0 +│", out), out


def test_campaigns_show_the_time_in_the_campaigns_zone(narrow: Cli) -> None:
    out = shown(narrow, "campaigns")
    assert whole("scheduled", out) and whole("#87", out) and whole("weekly", out)
    assert whole("2031-05-06 09:00 CST", out), out
    sent = r"│ 1 +│ sent +│ #87 +│ weekly +│ (20\d\d-\d\d-\d\dT\d\d:\d\dZ)? +│ 1/1 +│"
    assert re.search(sent, out), out


def test_schedules(narrow: Cli) -> None:
    out = shown(narrow, "schedules")
    assert whole("monday-morning-digest", out) and whole("0 9 * * MON", out)
    assert re.search(r"\d{4}-\d\d-\d\d 09:00 CST", out), out
    assert words_whole('weekly (country = "CN")', out)


def test_issues(narrow: Cli) -> None:
    out = shown(narrow, "issues")
    assert re.search(r"│ 87 +│ .*│ ready +│ weekly +│", out), out
    assert words_whole("A postal pact, AI talent on the move, and a record shopping day", out)


def test_suppressions_put_a_long_detail_below(narrow: Cli) -> None:
    out = shown(narrow, "suppressions")
    assert whole(LONG_ADDRESS, out) and words_whole(BOUNCE, out)
    assert "\n    550 5.1.1" in out


def test_campaign_report(narrow: Cli) -> None:
    out = shown(narrow, "campaigns", "report", "1")
    assert re.search(r"│ sent +│ 1 +│", out), out


def test_users_and_tokens(narrow: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    address = "annabelle.featherstonehaugh@example-corporation.com"
    monkeypatch.setattr("sys.stdin", io.StringIO("tidal basin lanterns 42\n"))
    assert narrow("users", "add", address, "--role", "owner", "--password-stdin").code == 0
    assert narrow("tokens", "create", "deploy-from-ci-pipeline", "--role", "editor").code == 0
    users = shown(narrow, "users")
    assert re.search(rf"│ {re.escape(address)} │ owner +│", users), users
    tokens = shown(narrow, "tokens")
    assert re.search(
        r"│ deploy-from-ci-pipeline │ editor │ no +│ \d{4}-\d\d-\d\d \d\d:\d\d UTC", tokens
    )


def test_subscribers_put_what_does_not_fit_below(narrow: Cli) -> None:
    out = shown(narrow, "subscribers", "--list", "weekly")
    assert whole("ann@example.com                  confirmed", out), out
    assert words_whole("Annabelle Marie-Christine Featherstonehaugh", out)
    assert out.endswith("Showing 1-1 of 1 subscriber.\n")
