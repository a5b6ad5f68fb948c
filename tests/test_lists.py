"""`mailer init` and `mailer lists`: create, count, delete, and the errors a user sees."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import Callable

import pytest

from mailer.app import Mailer
from mailer.audience.lists import ListChanges, update_list_in
from mailer.db.engine import write_transaction
from mailer.errors import FieldError
from tests.conftest import CliResult, Project

Cli = Callable[..., CliResult]
ZERO = {"confirmed": 0, "unconfirmed": 0, "unsubscribed": 0}


def lists_json(cli: Cli) -> dict[str, dict[str, object]]:
    result = cli("lists", "--json")
    assert result.code == 0, result.err
    return {entry["name"]: entry for entry in json.loads(result.out)}


def test_init_creates_the_database_and_is_idempotent(db_project: Project, cli: Cli) -> None:
    first = cli("init", "--json")
    assert first.code == 0, first.err
    created = json.loads(first.out)
    assert created["from_revision"] is None and created["revision"]
    second = cli("init", "--json")
    assert second.code == 0, second.err
    again = json.loads(second.out)
    assert again["from_revision"] == again["revision"] == created["revision"]
    human = cli("init")
    assert human.code == 0 and "up to date" in human.out


def test_create_single_and_double_opt_in_lists_with_titles(db_project: Project, cli: Cli) -> None:
    assert cli("lists").out.startswith("No lists yet")
    weekly = cli("lists", "create", "weekly", "--title", "每周简报", "--json")
    assert weekly.code == 0, weekly.err
    assert json.loads(weekly.out)["title"] == "每周简报"
    result = cli("lists", "create", "news_2", "--double-opt-in", "--description", "Daily news")
    assert result.code == 0, result.err
    assert "'news_2' (double opt-in)" in result.out
    found = lists_json(cli)
    assert sorted(found) == ["news_2", "weekly"]
    assert found["weekly"]["double_opt_in"] is False
    assert found["news_2"]["double_opt_in"] is True
    assert found["news_2"]["title"] == "news_2"  # the name stands in for a missing title
    assert found["news_2"]["description"] == "Daily news"
    assert found["weekly"]["counts"] == ZERO
    table = cli("lists").out
    assert "每周简报" in table and "double" in table and "single" in table


def test_a_title_the_database_cannot_keep_is_refused_naming_it(
    db_project: Project, cli: Cli
) -> None:
    """Over the column's 200 characters, or with a NUL: a message naming the title, on both
    databases (PostgreSQL would otherwise fail inside the INSERT), and nothing stored."""
    long = cli("lists", "create", "weekly", "--title", "t" * 201)
    assert long.code != 0
    assert "title" in long.err and "at most 200 characters" in long.err
    assert "Traceback" not in long.err
    assert cli("lists").out.startswith("No lists yet")
    assert cli("lists", "create", "weekly", "--title", "t" * 200).code == 0
    app = Mailer(db_project.settings(), environ={})
    with (
        pytest.raises(FieldError, match="at most 200 characters") as refused,
        write_transaction(app.engine) as connection,
    ):
        update_list_in(connection, "weekly", ListChanges(title="x" * 300))
    app.close()
    assert refused.value.field == "title"
    assert lists_json(cli)["weekly"]["title"] == "t" * 200


def test_create_json_counts_match_the_lists_listing(db_project: Project, cli: Cli) -> None:
    created = json.loads(cli("lists", "create", "weekly", "--json").out)
    assert created["counts"] == lists_json(cli)["weekly"]["counts"] == ZERO


def test_duplicate_list_name_is_an_error(db_project: Project, cli: Cli) -> None:
    assert cli("lists", "create", "weekly").code == 0
    result = cli("lists", "create", "weekly", "--double-opt-in")
    assert result.code == 1
    assert result.err.startswith("error:") and "'weekly' already exists" in result.err
    assert lists_json(cli)["weekly"]["double_opt_in"] is False


@pytest.mark.parametrize("name", ["Weekly", "-weekly", "week ly", "周刊", "a" * 101, ""])
def test_bad_list_name_is_an_error_naming_it(db_project: Project, cli: Cli, name: str) -> None:
    result = cli("lists", "create", "--", name)
    assert result.code == 1
    assert f"list name {name!r}" in result.err
    assert lists_json(cli) == {}


def test_lists_json_counts_members_by_status(db_project: Project, cli: Cli) -> None:
    cli("lists", "create", "weekly")
    cli("lists", "create", "daily", "--double-opt-in")
    cli("lists", "create", "empty")
    add = cli(
        "subscribers", "add", "a@example.com", "b@example.com", "c@example.com", "-l", "weekly"
    )
    assert add.code == 0, add.err
    assert cli("subscribers", "add", "a@example.com", "d@example.com", "-l", "daily").code == 0
    assert cli("subscribers", "add", "e@example.com", "-l", "daily", "--confirmed").code == 0
    assert cli("subscribers", "unsubscribe", "b@example.com", "--list", "weekly").code == 0
    found = lists_json(cli)
    assert found["weekly"]["counts"] == {"confirmed": 2, "unconfirmed": 0, "unsubscribed": 1}
    assert found["daily"]["counts"] == {"confirmed": 1, "unconfirmed": 2, "unsubscribed": 0}
    assert found["empty"]["counts"] == ZERO


def test_delete_with_yes_removes_memberships_but_keeps_subscribers(
    db_project: Project, cli: Cli
) -> None:
    cli("lists", "create", "weekly")
    cli("lists", "create", "daily")
    cli("subscribers", "add", "a@example.com", "b@example.com", "-l", "weekly")
    cli("subscribers", "add", "a@example.com", "-l", "daily")
    result = cli("lists", "delete", "weekly", "--yes")
    assert result.code == 0, result.err
    assert "2 memberships" in result.out
    assert sorted(lists_json(cli)) == ["daily"]
    everyone = json.loads(cli("subscribers", "--all", "--json").out)
    assert [row["email"] for row in everyone] == ["a@example.com", "b@example.com"]
    shown = json.loads(cli("subscribers", "show", "b@example.com", "--json").out)
    assert shown["lists"] == []
    shown = json.loads(cli("subscribers", "show", "a@example.com", "--json").out)
    assert [membership["list"] for membership in shown["lists"]] == ["daily"]
    # The name is free again, and the new list starts empty.
    assert cli("lists", "create", "weekly").code == 0
    assert lists_json(cli)["weekly"]["counts"] == ZERO


def test_delete_without_yes_and_no_answer_aborts_and_keeps_the_list(
    db_project: Project, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli("lists", "create", "weekly")
    cli("subscribers", "add", "a@example.com", "-l", "weekly")
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    result = cli("lists", "delete", "weekly")
    assert result.code == 1
    assert lists_json(cli)["weekly"]["counts"]["confirmed"] == 1


def test_delete_answered_yes_deletes(
    db_project: Project, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli("lists", "create", "weekly")
    monkeypatch.setattr(sys, "stdin", io.StringIO("y\n"))
    assert cli("lists", "delete", "weekly").code == 0
    assert lists_json(cli) == {}


@pytest.mark.parametrize(
    "command",
    [
        ("lists", "delete", "nope", "--yes"),
        ("subscribers", "--list", "nope"),
        ("subscribers", "add", "a@example.com", "--list", "nope"),
        ("subscribers", "export", "--list", "nope"),
    ],
)
def test_unknown_list_names_the_known_lists(
    db_project: Project, cli: Cli, command: tuple[str, ...]
) -> None:
    cli("lists", "create", "weekly")
    cli("lists", "create", "daily")
    result = cli(*command)
    assert result.code == 1
    assert "no list named 'nope' (lists: daily, weekly)" in result.err
    assert cli("subscribers", "--all", "--json").out.strip() == "[]"


def test_unknown_list_when_there_are_none(db_project: Project, cli: Cli) -> None:
    result = cli("subscribers", "add", "a@example.com", "--list", "weekly")
    assert result.code == 1
    assert "no list named 'weekly' (there are no lists yet)" in result.err


def test_python_dash_m_mailer_exits_1_on_an_error(db_project: Project) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mailer", "lists", "create", "Not A Name"],
        cwd=db_project.root,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert "error: list name 'Not A Name'" in done.stderr
    assert done.returncode == 1


def test_a_list_is_private_unless_made_public(db_project: Project, cli: Cli) -> None:
    assert "private" in cli("lists", "create", "staff").out
    made = cli("lists", "create", "weekly", "--public", "--json")
    assert made.code == 0 and json.loads(made.out)["public"] is True
    assert {name: found["public"] for name, found in lists_json(cli).items()} == {
        "staff": False,
        "weekly": True,
    }
