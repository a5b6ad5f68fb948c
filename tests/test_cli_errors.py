"""Bad input at the command line: one line naming what is wrong, exit 1, nothing stored, no
file left half-written, never a traceback."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
from collections.abc import Callable, Iterator

import pytest

from tests.conftest import CliResult, Project

Cli = Callable[..., CliResult]


def refused(result: CliResult, *fragments: str) -> str:
    """The one-line error of a command that had to fail; returns it."""
    assert result.code == 1, (result.out, result.err)
    assert "Traceback" not in result.err + result.out
    line = result.err.strip()
    assert line.startswith("error: ") and "\n" not in line, result.err
    for fragment in fragments:
        assert fragment in line
    return line


@pytest.fixture
def weekly(db_project: Project, cli: Cli) -> Cli:
    """A list named weekly with one confirmed reader."""
    assert cli("lists", "create", "weekly").code == 0
    added = cli("subscribers", "add", "ada@example.com", "--list", "weekly", "--confirmed")
    assert added.code == 0, added.err
    return cli


def campaigns(cli: Cli) -> list[dict[str, object]]:
    result = cli("campaigns", "--json")
    assert result.code == 0, result.err
    found: list[dict[str, object]] = json.loads(result.out)
    return found


def subscribers(cli: Cli) -> list[dict[str, object]]:
    result = cli("subscribers", "--all", "--json")
    assert result.code == 0, result.err
    found: list[dict[str, object]] = json.loads(result.out)
    return found


# Settings from the environment -------------------------------------------------------------


@pytest.mark.parametrize("value", ["inf", "nan", "-1", "1e999"])
def test_an_endless_send_rate_is_refused_before_a_campaign_is_made(
    weekly: Cli, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("MAILER_DELIVERY_MAX_PER_SECOND", value)
    refused(weekly("send", "87", "--list", "weekly", "--yes"), "MAILER_DELIVERY_MAX_PER_SECOND")
    monkeypatch.delenv("MAILER_DELIVERY_MAX_PER_SECOND")
    assert campaigns(weekly) == []


def test_a_misspelled_variable_stops_every_command(
    weekly: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAILER_TRANSPORT_SENDGRID_HOTS", "http://127.0.0.1:9")
    for args in (("lists",), ("send", "87", "--list", "weekly", "--yes"), ("render", "87")):
        refused(weekly(*args), "MAILER_TRANSPORT_SENDGRID_HOTS", "MAILER_TRANSPORT_SENDGRID_HOST")
    monkeypatch.delenv("MAILER_TRANSPORT_SENDGRID_HOTS")
    assert campaigns(weekly) == []


def test_a_list_variable_that_is_not_json_names_the_variable(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAILER_TRANSPORT_SENDGRID_CATEGORIES", "[bad")
    refused(cli("render", "87"), "MAILER_TRANSPORT_SENDGRID_CATEGORIES", "not a JSON list")


# --at ---------------------------------------------------------------------------------------

FAR_OR_FIRST = ["+99999999d", "+999999999h", "0001-01-01 00:00", "9999-12-31T23:59Z"]


@pytest.mark.parametrize("at", FAR_OR_FIRST)
def test_send_at_a_time_out_of_range_is_refused_and_stores_nothing(weekly: Cli, at: str) -> None:
    for zone in ("Asia/Shanghai", "America/New_York"):
        result = weekly("send", "87", "--list", "weekly", "--yes", "--at", at, "--tz", zone)
        refused(result, f"--at {at!r}")
    assert campaigns(weekly) == []
    assert weekly("campaigns").code == 0


@pytest.mark.parametrize("at", FAR_OR_FIRST)
def test_reschedule_to_a_time_out_of_range_keeps_the_old_time(weekly: Cli, at: str) -> None:
    scheduled = weekly("send", "87", "--list", "weekly", "--yes", "--at", "+2h", "--json")
    assert scheduled.code == 0, scheduled.err
    before = campaigns(weekly)
    for zone in ("Asia/Shanghai", "America/New_York"):
        refused(weekly("campaigns", "reschedule", "1", "--at", at, "--tz", zone), f"--at {at!r}")
    assert campaigns(weekly) == before


# Databases and folders ------------------------------------------------------------------------


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A loopback port where nothing listens: bound, so nobody else takes it, never listening,
    so a connection is refused at once."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        yield held.getsockname()[1]


def test_an_unreachable_postgresql_is_named(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, closed_port: int
) -> None:
    monkeypatch.setenv("MAILER_DATABASE_URL", f"postgresql://mailer:pw@127.0.0.1:{closed_port}/db")
    for args in (("init",), ("lists",), ("send", "87", "--list", "weekly", "--yes")):
        line = refused(cli(*args), f"127.0.0.1:{closed_port}/db", "could not")
        assert "pw" not in line  # the password is never shown


def test_a_var_folder_that_cannot_be_created_is_named(
    cli: Cli, project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    (project.root / "taken").write_text("a file where the folder should be", encoding="utf-8")
    monkeypatch.setenv("MAILER_PATHS_VAR", "taken/var")
    for args in (("init",), ("lists",), ("lists", "create", "weekly")):
        refused(cli(*args), str(project.root / "taken" / "var"))


def test_a_database_file_that_cannot_be_opened_is_named(
    cli: Cli, project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAILER_DATABASE_URL", "sqlite:///issues")  # a folder
    for args in (("init",), ("lists",)):
        refused(cli(*args), str(project.root / "issues"), "could not")


def test_a_locked_database_is_an_error_not_a_traceback(
    cli: Cli, project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cli("lists", "create", "weekly").code == 0  # the default: SQLite under var/
    # Another process holds the write lock longer than mailer waits (here: not at all).
    monkeypatch.setattr("mailer.db.engine.SQLITE_BUSY_TIMEOUT_MS", 0)
    holder = sqlite3.connect(project.root / "var" / "mailer.db", isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        refused(cli("lists", "create", "monthly"), "var/mailer.db", "database is locked")
    finally:
        holder.close()
    assert cli("lists", "create", "monthly").code == 0


# Bytes that are not UTF-8 ---------------------------------------------------------------------


def not_utf8(text: bytes) -> str:
    """What Python makes of argv bytes that are not UTF-8 (as on Linux)."""
    return os.fsdecode(text)


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["subscribers", "add", "b@example.com", "-l", "weekly", "--name", b"Bo\xff"], "--name"),
        (["subscribers", "add", "b@example.com", "-l", "weekly", "--attr", b"city=\xff"], "--attr"),
        (["subscribers", "add", "b@example.com", "-l", "weekly", b"--attr=\xff=x"], "--attr"),
        (["subscribers", "add", b"b\xff@example.com", "-l", "weekly"], "EMAILS"),
        (["subscribers", "--search", b"\xe4da"], "--search"),
        (["subscribers", "--segment", b'city = "\xff"'], "--segment"),
        (["send", "87", "-l", "weekly", "--segment", b'city = "\xff"', "--yes"], "--segment"),
        (["lists", "create", "monthly", "--title", b"\xff"], "--title"),
        (["lists", "create", b"m\xffonthly"], "NAME"),
        (["subscribers", "add", "b@example.com", b"-lweek\xff"], "--list"),
        (["lists", "create", "monthly", b"--ti\xfftle", "x"], "option --ti\\xfftle"),
    ],
)
def test_bytes_that_are_not_utf8_are_refused_naming_the_option(
    weekly: Cli, args: list[str | bytes], option: str
) -> None:
    before = (subscribers(weekly), weekly("lists", "--json").out, campaigns(weekly))
    argv = [not_utf8(arg) if isinstance(arg, bytes) else arg for arg in args]
    line = refused(weekly(*argv), option, "UTF-8")
    assert "\\x" in line  # the bad byte is shown, not mangled
    assert (subscribers(weekly), weekly("lists", "--json").out, campaigns(weekly)) == before


# Output files ---------------------------------------------------------------------------------


def test_export_into_a_missing_folder_is_refused(weekly: Cli, db_project: Project) -> None:
    target = db_project.root / "nowhere" / "weekly.csv"
    refused(weekly("subscribers", "export", "-l", "weekly", "-o", str(target)), "nowhere")
    assert not (db_project.root / "nowhere").exists()


def test_export_onto_a_folder_is_refused_and_leaves_nothing_beside_it(
    weekly: Cli, db_project: Project
) -> None:
    folder = db_project.root / "exports"
    folder.mkdir()
    refused(weekly("subscribers", "export", "-l", "weekly", "-o", str(folder)), str(folder))
    assert sorted(path.name for path in db_project.root.iterdir() if "exports" in path.name) == [
        "exports"
    ]
    assert list(folder.iterdir()) == []


def test_a_failed_export_leaves_no_partial_file_and_the_old_file_intact(
    weekly: Cli, db_project: Project
) -> None:
    target = db_project.root / "weekly.csv"
    target.write_text("the previous export\n", encoding="utf-8")
    for args in (("-l", "nosuchlist"), ("-l", "weekly", "--status", "gone")):
        refused(weekly("subscribers", "export", *args, "-o", str(target)))
    assert target.read_text(encoding="utf-8") == "the previous export\n"
    assert sorted(path.name for path in db_project.root.glob("weekly.csv*")) == ["weekly.csv"]


def test_render_output_that_cannot_be_written_is_refused(cli: Cli, project: Project) -> None:
    (project.root / "taken").write_text("a file", encoding="utf-8")
    refused(cli("render", "87", "-o", str(project.root / "taken" / "87.html")), "taken")
    refused(cli("render", "87", "-o", str(project.issues)), str(project.issues))


@pytest.mark.parametrize("reference", ["²", "8²", "⁸⁷"])
def test_an_issue_number_in_other_digits_is_refused_naming_it(cli: Cli, reference: str) -> None:
    refused(cli("render", reference), reference)


def test_a_bad_schedule_name_is_named_as_the_argument_it_is(weekly: Cli) -> None:
    result = weekly("schedules", "add", "Bad Name", "--cron", "0 9 * * 1", "--list", "weekly")
    refused(result, "schedule name 'Bad Name'")
    assert weekly("schedules", "--json").out.strip() == "[]"


@pytest.mark.parametrize(
    "args",
    [
        ("campaigns", "show", "99999999999999999999"),
        ("campaigns", "cancel", "2147483648"),
        ("subscribers", "--limit", "99999999999999999999"),
    ],
)
def test_a_number_past_what_the_database_holds_is_a_usage_error(
    weekly: Cli, args: tuple[str, ...]
) -> None:
    result = weekly(*args)
    assert result.code == 2 and "Traceback" not in result.err
    assert "Invalid value" in result.err


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        yield taken.getsockname()[1]


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--poll", "inf"),  # was an OverflowError in the wait
        ("--poll", "1e308"),
        ("--stall", "nan"),
        ("--stall", "-1"),
        ("--latency", "inf"),
    ],
)
def test_a_wait_that_is_not_a_finite_number_of_seconds_is_a_usage_error(
    cli: Cli, taken_port: int, option: str, value: str
) -> None:
    # Refused while the arguments are read. (Should one get through, --once and a port that
    # is taken keep the command from serving.)
    if option == "--poll":
        result = cli("worker", "--once", option, value)
    else:
        result = cli("emulate", "sendgrid", "--port", str(taken_port), option, value)
    assert result.code == 2 and "Traceback" not in result.err
    assert f"Invalid value for '{option}'" in result.err


@pytest.mark.parametrize(
    ("transport", "variables", "fragment"),
    [
        ("smtp", {"MAILER_TRANSPORT_SMTP_HOST": "127.0.0.1"}, "SMTP server 127.0.0.1:"),
        ("sendgrid", {"SENDGRID_API_KEY": "SG.test"}, "127.0.0.1:"),
    ],
)
def test_a_test_send_through_a_server_that_is_down_says_so(
    cli: Cli,
    monkeypatch: pytest.MonkeyPatch,
    closed_port: int,
    transport: str,
    variables: dict[str, str],
    fragment: str,
) -> None:
    monkeypatch.setenv("MAILER_TRANSPORT_SMTP_PORT", str(closed_port))
    monkeypatch.setenv("MAILER_TRANSPORT_SENDGRID_HOST", f"http://127.0.0.1:{closed_port}")
    monkeypatch.setenv("MAILER_DELIVERY_RETRY_ATTEMPTS", "1")
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    result = cli("test-send", "87", "--to", "ada@example.com", "--transport", transport)
    refused(result, "no test copy was sent", fragment)
