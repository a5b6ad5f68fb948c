"""Outside a project folder (no config file) the first command creates a database where the
user did not ask for one: it says which, once, on stderr."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.conftest import POSTGRES_URL, CliResult, fresh_database_url


@pytest.fixture
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty folder with no mailer.toml, and no config named anywhere."""
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    monkeypatch.chdir(folder)
    for name in [name for name in os.environ if name.startswith("MAILER_")]:
        monkeypatch.delenv(name)
    return folder


def mailer(capsys: pytest.CaptureFixture[str], *args: str) -> CliResult:
    from mailer.cli import main

    capsys.readouterr()
    code = main(list(args))
    captured = capsys.readouterr()
    return CliResult(code, captured.out, captured.err)


def test_the_first_command_names_the_sqlite_file_it_created_and_later_ones_do_not(
    elsewhere: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = mailer(capsys, "lists", "--json")
    assert first.code == 0, first.err
    assert json.loads(first.out) == []  # --json output stays JSON alone
    assert "Created the database var/mailer.db (SQLite)" in first.err
    assert (elsewhere / "var" / "mailer.db").is_file()
    again = mailer(capsys, "lists")
    assert again.code == 0, again.err
    assert "Created" not in again.err


@pytest.mark.skipif(not POSTGRES_URL, reason="no PostgreSQL server named")
def test_a_new_postgresql_database_is_named_by_its_url_once(
    elsewhere: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with fresh_database_url("postgresql", elsewhere) as url:
        monkeypatch.setenv("MAILER_DATABASE_URL", url)
        first = mailer(capsys, "lists")
        again = mailer(capsys, "lists")
    assert first.code == 0, first.err
    [line] = [line for line in first.err.splitlines() if line.startswith("Created")]
    assert line.startswith("Created the database postgresql") and "(PostgreSQL)" in line
    assert again.code == 0 and "Created" not in again.err
