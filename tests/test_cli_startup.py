"""`mailer` starts without loading what the command in hand does not use: the help and a
campaign's report come back at once, not after the render pipeline, alembic, the web server
and the scheduler are loaded. Each run is a fresh process, whose loaded modules are listed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from mailer.cli.campaign_recipients import DELIVERY_STATUSES as DELIVERY_STATUSES_SHOWN
from mailer.db.tables import DELIVERY_STATUSES
from tests.conftest import REPO, CliResult, Project

Cli = Callable[..., CliResult]
# Run in the child: the command, with what it printed and every module loaded by its end.
PROBE = """
import contextlib, io, json, sys
from mailer.cli import main
with contextlib.redirect_stdout(io.StringIO()) as out:
    code = main(sys.argv[1:])
print(json.dumps({"code": code, "out": out.getvalue(), "modules": sorted(sys.modules)}))
"""
# What only sending, rendering, migrating, serving or the worker needs: each takes a tenth of
# a second or more to load.
HEAVY = (
    "premailer",
    "cssutils",
    "mjml",
    "alembic",
    "apscheduler",
    "uvicorn",
    "starlette",
    "mailer.delivery.sending",
    "mailer.render.pipeline",
    "jinja2",
    "lxml",
)
# The help needs neither the database nor the settings (pydantic is typer's own: it reads
# the options with it).
NOT_FOR_HELP = (*HEAVY, "sqlalchemy", "mailer.config")
# A command loads its own module of the command line, not the others'.
OTHER_COMMANDS = tuple(
    f"mailer.cli.{name}"
    for name in ("send", "campaigns", "subscribers", "serve", "worker", "emulate", "users")
)


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    modules: set[str]

    def loaded(self, names: tuple[str, ...]) -> list[str]:
        """Which of ``names`` (packages or modules) the command loaded."""
        return [name for name in names if name in self.modules]


def run_fresh(project: Project, *args: str) -> Run:
    env = {name: value for name, value in os.environ.items() if not name.startswith("MAILER_")}
    env["PYTHONPATH"] = str(REPO)
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        cwd=project.root,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    return Run(answer["code"], answer["out"], set(answer["modules"]))


@pytest.mark.parametrize(
    "args",
    [["--help"], ["campaigns", "--help"], ["campaigns", "report", "--help"], ["send", "--help"]],
    ids=" ".join,
)
def test_help_loads_no_database_renderer_or_server(project: Project, args: list[str]) -> None:
    run = run_fresh(project, *args)
    assert run.code == 0
    assert run.out.startswith("Usage: mailer")
    assert run.loaded(NOT_FOR_HELP) == []


def test_campaign_report_loads_neither_renderer_nor_alembic(db_project: Project, cli: Cli) -> None:
    assert cli("lists", "create", "weekly").code == 0
    assert cli("subscribers", "add", "ann@example.com", "-l", "weekly", "--confirmed").code == 0
    sent = cli("send", "87", "--list", "weekly", "--transport", "outbox", "--yes", "--json")
    assert sent.code == 0, sent.err
    campaign_id = json.loads(sent.out)["id"]
    run = run_fresh(db_project, "campaigns", "report", str(campaign_id), "--json")
    assert run.code == 0
    assert json.loads(run.out)["sent"] == 1
    assert run.loaded(HEAVY) == []


def test_recipients_help_lists_every_state_a_delivery_can_be_in() -> None:
    """The help of `campaigns recipients --status` keeps its own copy of the states (the
    tables would load SQLAlchemy): it must stay the ledger's list."""
    assert DELIVERY_STATUSES_SHOWN == DELIVERY_STATUSES


def test_issues_loads_only_its_own_command(db_project: Project, cli: Cli) -> None:
    """`mailer issues` reads the issue files and which lists each went to (the database):
    neither the render pipeline nor the other commands' modules."""
    assert cli("init").code == 0  # a database made on first use is migrated: alembic
    run = run_fresh(db_project, "issues", "--json")
    assert run.code == 0
    assert [issue["number"] for issue in json.loads(run.out)] == [87, 88]
    assert run.loaded(HEAVY) == []
    assert run.loaded(OTHER_COMMANDS) == []
    # Nor every table's definition (it reads one table), nor the address checks.
    assert run.loaded(("mailer.db.tables", "email_validator")) == []
    assert "mailer.cli.issues" in run.modules


def test_help_lists_every_command_once_after_a_command_ran(project: Project, cli: Cli) -> None:
    """In one process (as the tests and any tool that calls main() run it), a command first
    and the help after: the help is the one a fresh process prints."""
    assert cli("issues", "--json").code == 0
    assert cli("lists", "--help").code == 0
    help_after = cli("--help")
    assert help_after.code == 0
    assert help_after.out == run_fresh(project, "--help").out


def test_issues_in_a_folder_without_a_database_neither_makes_one_nor_loads_sqlalchemy(
    project: Project,
) -> None:
    """A project with no database yet has sent nothing: the listing shows no lists and leaves
    the folder as it was."""
    run = run_fresh(project, "issues", "--json")
    assert run.code == 0
    assert [issue["sent_to"] for issue in json.loads(run.out)] == [[], []]
    assert run.loaded(("sqlalchemy", *HEAVY)) == []
    assert not (project.root / "var").exists()
