"""Any arguments to any command, under any MAILER_* environment: never a traceback.

A traceback is an exception escaping ``main()`` or "Traceback" in what it printed. The real
``main()`` runs in-process in a project of its own (SQLite under var/), which the commands
change as they go. Nothing leaves the machine: SendGrid and SMTP point at a closed loopback
port, and serving loops are kept from serving (``preview`` is left out, ``worker`` runs
``--once``, ``emulate`` and ``serve`` are given a port already taken).
"""

from __future__ import annotations

import io
import os
import signal
import socket
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

import pytest
import typer
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from mailer.cli import app
from mailer.config import Settings
from mailer.config_environment import setting_variables
from tests.conftest import CliResult, Project

Cli = Callable[..., CliResult]
ROOT = typer.main.get_command(app)
LEFT_OUT = {("preview",)}  # serves until stopped, whatever its arguments

# Words a command line may hold: anything the shell can pass (no NUL), bytes that are not UTF-8
# (as Python gets them on Linux), and numbers and forms at the edges.
TEXT = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=24)
NOT_UTF8 = st.binary(min_size=1, max_size=8).filter(lambda b: b"\x00" not in b).map(os.fsdecode)
EDGES = st.sampled_from(["", "-", "--", "-1", "0", "1e999", "nan", "inf", "9" * 30, "²", "\u202e"])
# Bytes that are not UTF-8 are refused before any command runs: kept rare, so most examples
# reach the commands.
JUNK = st.one_of(TEXT, TEXT, EDGES, EDGES, NOT_UTF8)
# Folders and files to write to: only relative names inside the project.
SAFE_PATH = st.one_of(
    st.sampled_from(["out.csv", "out/87.html", "nowhere/x.csv", "issues", "var", "taken/x"]),
    st.from_regex(r"[a-z][a-z0-9_.-]{0,10}(/[a-z0-9_-]{1,8})?", fullmatch=True),
)
ISSUES = ["87", "88", "0", "99999", "²", "issues/0087-postal-pact-and-ai-talent.md", "nope.md"]
PLAUSIBLE: dict[str, list[str]] = {
    "--list": ["weekly", "monthly", "nosuch", "Weekly"],
    "--at": [
        "+2h",
        "tomorrow 09:00",
        "+99999999d",
        "0001-01-01 00:00",
        "9999-12-31T23:59Z",
        "2026-13-01 09:00",
        "today 24:00",
        "+0m",
    ],
    "--tz": ["UTC", "Asia/Shanghai", "America/New_York", "Mars/Base", "../../etc/passwd"],
    "--timezone": ["UTC", "Asia/Shanghai", "Mars/Base"],
    "--local-time": ["09:00", "25:00", "9", "23:59"],
    "--segment": [
        'country = "CN"',
        '"ai" in tags',
        "has timezone",
        "((((",
        "x = ",
        'name contains "a"',
        'not (country in ("CN", "HK"))',
    ],
    "--status": ["confirmed", "unconfirmed", "unsubscribed", "gone"],
    "--search": ["ada", "%", "_", "'"],
    "--transport": ["outbox", "smtp", "sendgrid", "pigeon"],
    "--format": ["html", "text", "eml", "mjml", "pdf"],
    "--to": ["ada@example.com", "Ada <ada@example.com>", "not-an-address", "a@b"],
    "--attr": ["city=Shanghai", "tags=a;b", "=x", "x", "email=x", "score=1e999"],
    "--name": ["Ada Lin", "Bo\nBcc: x@example.com", "=1+2"],
    "--title": ["Weekly", "\r\n"],
    "--cron": [
        "0 9 * * MON",
        "* * * * *",
        "61 * * * *",
        "0 9 * * 8",
        "0 9 31 2 *",
        "0 9 * * 1-5",
        "*/0 * * * *",
        "0 0 1 1 *",
    ],
    "--reason": ["bounce", "manual", "spamreport", "other"],
    "--config": ["mailer.toml", "missing.toml", "issues", "taken"],
    "--poll": ["0.1", "5", "0", "nan", "inf", "1e308"],
    "--limit": ["1", "0", "-1", "99999999999999999999"],
    "--fail-rate": ["0", "0.5", "1", "nan", "inf", "-0.1"],
    "--stall": ["0", "1", "nan", "inf", "-1"],
    "--latency": ["0", "nan", "inf", "1e308"],
    "--faults": ["500", "500,503,timeout,drop", "teapot", ","],
    "--rate-limit": ["10/s", "10", "0", "x/s", "99999999999999999999"],
    "--seed": ["1", "-1", "99999999999999999999"],
    "--issues": ["next-ready", "all"],
}
ARGUMENTS: dict[str, list[str]] = {
    "issue": ISSUES,
    "issues": ISSUES,
    "email": ["ada@example.com", "ADA@EXAMPLE.COM", "bo@example.com", "not an address", "a@b"],
    "emails": ["ada@example.com", "cy@example.com", "not an address", "dup@example.com"],
    "name": ["weekly", "monthly", "Bad Name", "x" * 120],
    "file": ["good.csv", "bad.csv", "-", "missing.csv", "issues", "taken"],
    "campaign_id": ["1", "2", "3", "0", "-1", "99999999999999999999", "x"],
}
WRITES_FILES = {"--output", "--store"}


def _commands(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    subcommands = getattr(command, "commands", None)
    runs = subcommands is None or getattr(command, "invoke_without_command", False)
    if runs and path and path not in LEFT_OUT:
        yield path, command
    for name, subcommand in (subcommands or {}).items():
        yield from _commands(subcommand, (*path, name))


COMMANDS = dict(_commands(ROOT))


def _value(name: str) -> st.SearchStrategy[str]:
    if name in WRITES_FILES:
        return SAFE_PATH
    plausible = st.sampled_from(PLAUSIBLE.get(name, ["x"]))
    return st.one_of(plausible, plausible, plausible, JUNK)  # mostly values that get past parsing


@st.composite
def command_lines(draw: st.DrawFn) -> list[str]:
    path = draw(st.sampled_from(sorted(COMMANDS)))
    words = list(path)
    for param in COMMANDS[path].params:
        if param.param_type_name == "argument":
            known = st.sampled_from(ARGUMENTS.get(param.name, ["x"]))
            # Usually given: a missing argument only exercises click's message.
            count = draw(
                st.sampled_from([0, 1, 1, 1, 1, 1, 1, 1, *([2, 2] if param.nargs == -1 else [])])
            )
            words += [draw(st.one_of(known, known, known, JUNK)) for _ in range(count)]
            continue
        wanted = draw(st.integers(0, 9)) > 0 if param.required else draw(st.booleans())
        if not wanted:
            continue
        name = max(param.opts, key=len)
        if param.is_flag:
            words.append(draw(st.sampled_from([*param.opts, *param.secondary_opts])))
            continue
        for _ in range(draw(st.integers(1, 2)) if param.multiple else 1):
            words += [name, draw(_value(name))]
    if draw(st.integers(0, 7)) == 0:  # now and then, options and arguments in any order
        words[len(path) :] = draw(st.permutations(words[len(path) :]))
    return words


# Settings the fuzz leaves alone: they would send mail off the machine, or sleep for real.
def _pinned(closed_port: int) -> dict[str, str]:
    return {
        "MAILER_TRANSPORT_SENDGRID_HOST": f"http://127.0.0.1:{closed_port}",
        "MAILER_TRANSPORT_SMTP_HOST": "127.0.0.1",
        "MAILER_TRANSPORT_SMTP_PORT": str(closed_port),
        "MAILER_DELIVERY_RETRY_ATTEMPTS": "1",
        "MAILER_DELIVERY_MAX_PER_SECOND": "0",
    }


ENV_VALUES: dict[str, list[str]] = {
    "MAILER_DATABASE_URL": [
        "",
        "sqlite:///other/x.db",
        "sqlite:///issues",
        "mysql://u@127.0.0.1/x",
        "not a url",
        "postgresql://u@h:notaport/db",
        "sqlite:///taken/x.db",
    ],
    "MAILER_TRANSPORT_SENDGRID_CATEGORIES": ["[bad", '["weekly"]', "[1]", "weekly", "[]"],
    "MAILER_SCHEDULE_RECURRING": [
        '[{"name": "w", "cron": "0 9 * * 1", "list": "weekly"}]',
        '[{"name": "w"}]',
        "[",
        "{}",
    ],
    "MAILER_SCHEDULE_MISFIRE_GRACE": ["1h", "0", "99999999999d", "9" * 400, "1.5", "1h1h"],
    "MAILER_NEWSLETTER_TIMEZONE": ["Asia/Shanghai", "Mars/Base", ""],
    "MAILER_NEWSLETTER_BASE_URL": ["http://x", "https://", "ftp://x", ""],
    "MAILER_NEWSLETTER_FROM_EMAIL": ["a@example.com", "nope", ""],
    "MAILER_TRANSPORT_DEFAULT": ["outbox", "smtp", "sendgrid", "pigeon"],
    "MAILER_WEB_SECRET_KEY_ENV": ["PATH", "MAILER_LINK_KEY", ""],
    "MAILER_SECRET_KEY": ["short", "k" * 32, "\udcff" * 20],
}
SAFE_PATH_VARIABLES = {
    "MAILER_PATHS_ISSUES",
    "MAILER_PATHS_TEMPLATES",
    "MAILER_PATHS_SUBSCRIBERS",
    "MAILER_PATHS_VAR",
    "MAILER_TRANSPORT_OUTBOX_DIR",
}
SETTING_VARIABLES = sorted(set(setting_variables(Settings)) - set(_pinned(0)))
TYPOS = ["MAILER_DELIVERY_MAX_PER_SECONDS", "MAILER_TRANSPORT_SENDGRID_HOTS", "MAILER_"]


def _env_value(name: str) -> st.SearchStrategy[str]:
    if name in SAFE_PATH_VARIABLES:
        return SAFE_PATH
    return st.one_of(
        st.sampled_from(ENV_VALUES.get(name, ["1", "-1", "inf", "nan", "[", "x"])), JUNK
    )


@st.composite
def environments(draw: st.DrawFn) -> dict[str, str]:
    names = st.sampled_from([*SETTING_VARIABLES, *TYPOS, *ENV_VALUES])
    chosen = draw(st.lists(names, max_size=2, unique=True))
    return {name: draw(_env_value(name)) for name in chosen}


@pytest.fixture
def world(cli: Cli, project: Project) -> Iterator[tuple[Cli, int, int]]:
    """A project with a list, readers, a scheduled campaign, CSV files and a file named
    "taken"; and a loopback port that refuses connections, next to one that is taken."""
    (project.root / "good.csv").write_text("email,name,city\nada@example.com,Ada,SH\n", "utf-8")
    (project.root / "bad.csv").write_bytes(b"email,\xff\nnot an address,=1+2\n\x00,\n")
    (project.root / "taken").write_text("a file where a folder could be", encoding="utf-8")
    assert cli("lists", "create", "weekly").code == 0
    assert cli("subscribers", "import", "good.csv", "-l", "weekly", "--confirmed").code == 0
    assert cli("send", "87", "-l", "weekly", "--at", "+2h", "--yes").code == 0
    with socket.socket() as closed, socket.socket() as taken:
        closed.bind(("127.0.0.1", 0))
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        yield cli, closed.getsockname()[1], taken.getsockname()[1]


# Set in the machine's environment, these would send (an API key) or change the project.
UNSET = ("SENDGRID_API_KEY", "MAILER_CONFIG", "MAILER_SECRET_KEY", "MAILER_SMTP_PASSWORD")


@contextmanager
def isolated(env: dict[str, str]) -> Iterator[None]:
    """One command's surroundings: this environment, an empty stdin (a question is answered
    by end of input), and the signal handlers as they were (the worker installs its own)."""
    handlers = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
    stdin = io.TextIOWrapper(io.BytesIO(b""))
    try:
        with mock.patch.dict(os.environ), mock.patch.object(sys, "stdin", stdin):
            for name in UNSET:
                os.environ.pop(name, None)
            os.environ.update(env)
            yield
    finally:
        for number, handler in handlers.items():
            signal.signal(number, handler)


def _kept_from_serving(words: list[str], taken_port: int) -> list[str]:
    if words[:1] == ["worker"]:
        return [*words, "--once"]
    if words[:2] == ["emulate", "sendgrid"] or words[:1] == ["serve"]:
        return [*words, "--host", "127.0.0.1", "--port", str(taken_port)]
    return words


def _no_traceback(cli: Cli, words: list[str], env: dict[str, str]) -> CliResult:
    with isolated(env):
        result = cli(*words)
    shown = result.out + result.err
    assert "Traceback" not in shown, (words, env, shown[-2000:])
    assert result.code in (0, 1, 2), (words, env, result)
    event(f"exit {result.code}")
    return result


FUZZ = settings(
    # CLI_FUZZ_EXAMPLES=5000 for a deeper run by hand.
    max_examples=int(os.environ.get("CLI_FUZZ_EXAMPLES", "300")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@FUZZ
@given(words=command_lines())
def test_any_arguments_to_any_command_are_never_a_traceback(
    world: tuple[Cli, int, int], words: list[str]
) -> None:
    cli, closed_port, taken_port = world
    _no_traceback(cli, _kept_from_serving(words, taken_port), _pinned(closed_port))


SETTINGS_READERS = [
    ["lists"],
    ["render", "87", "-f", "eml", "--to", "ada@example.com"],
    ["send", "87", "-l", "weekly", "--yes"],
    ["send", "87", "-l", "weekly", "--yes", "--at", "+1h"],
    ["test-send", "87", "--to", "ada@example.com"],
    ["subscribers", "export", "-l", "weekly"],
    ["campaigns", "reschedule", "1", "--at", "+3h"],
    ["schedules"],
    ["worker", "--once"],
    ["init"],
    ["issues"],
]


@settings(FUZZ, max_examples=FUZZ.max_examples // 2)
@given(env=environments(), words=st.sampled_from(SETTINGS_READERS))
def test_any_environment_is_never_a_traceback(
    world: tuple[Cli, int, int], env: dict[str, str], words: list[str]
) -> None:
    cli, closed_port, _ = world
    result = _no_traceback(cli, words, {**env, **_pinned(closed_port)})
    typo = next((name for name in env if name in TYPOS), None)
    if typo is not None:
        assert result.code == 1 and typo in result.err
