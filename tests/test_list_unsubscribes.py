"""An unsubscribe is a consent record: it outlives the list it was made on."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa

from mailer.db.tables import list_unsubscribes
from tests.conftest import CliResult, Project
from tests.conftest import show_json as show

Cli = Callable[..., CliResult]


def _weekly_status(cli: Cli, email: str) -> str | None:
    lists = {entry["list"]: entry["status"] for entry in show(cli, email)["lists"]}
    return lists.get("weekly")


def _import(cli: Cli, csv_file: Path) -> None:
    result = cli("subscribers", "import", str(csv_file), "--list", "weekly", "--confirmed")
    assert result.code == 0, result.err


def test_a_list_created_again_never_brings_back_who_unsubscribed(
    db_project: Project, cli: Cli
) -> None:
    csv_file = db_project.root / "readers.csv"
    csv_file.write_text("email,name\nalice@example.com,Alice\nbob@example.com,Bob\n")
    for _round in range(2):  # deleted and created again twice: the record carries over each time
        assert cli("lists", "create", "weekly").code == 0
        _import(cli, csv_file)
        assert cli("subscribers", "unsubscribe", "alice@example.com", "-l", "weekly").code == 0
        deleted = cli("lists", "delete", "weekly", "--yes")
        assert deleted.code == 0, deleted.err
        assert "2 memberships; 1 unsubscribed stay unsubscribed" in deleted.out

    assert cli("lists", "create", "weekly").code == 0
    counts = json.loads(cli("lists", "--json").out)[0]["counts"]
    assert counts == {"confirmed": 0, "unconfirmed": 0, "unsubscribed": 1}
    _import(cli, csv_file)
    added = cli("subscribers", "add", "alice@example.com", "-l", "weekly")
    assert added.code == 1
    assert _weekly_status(cli, "alice@example.com") == "unsubscribed"
    assert _weekly_status(cli, "bob@example.com") == "confirmed"
    # A send to the new list goes to Bob alone.
    sent = cli("send", "87", "--list", "weekly", "--transport", "outbox", "--yes", "--json")
    assert sent.code == 0, sent.err
    assert json.loads(sent.out)["counts"]["sent"] == 1


def test_another_list_name_is_not_affected(db_project: Project, cli: Cli) -> None:
    assert cli("lists", "create", "weekly").code == 0
    assert cli("subscribers", "add", "alice@example.com", "-l", "weekly").code == 0
    assert cli("subscribers", "unsubscribe", "alice@example.com", "-l", "weekly").code == 0
    assert cli("lists", "delete", "weekly", "--yes").code == 0
    assert cli("lists", "create", "daily").code == 0
    assert cli("subscribers", "add", "alice@example.com", "-l", "daily").code == 0
    assert show(cli, "alice@example.com")["lists"][0]["status"] == "confirmed"


def test_erasing_a_person_erases_their_kept_unsubscribes(
    db_project: Project, project_engine: sa.Engine, cli: Cli
) -> None:
    assert cli("lists", "create", "weekly").code == 0
    assert cli("subscribers", "add", "alice@example.com", "-l", "weekly").code == 0
    assert cli("subscribers", "unsubscribe", "alice@example.com", "-l", "weekly").code == 0
    assert cli("lists", "delete", "weekly", "--yes").code == 0
    assert cli("subscribers", "forget", "alice@example.com", "--yes").code == 0
    with project_engine.connect() as connection:
        kept = sa.select(sa.func.count()).select_from(list_unsubscribes)
        assert connection.execute(kept).scalar() == 0
