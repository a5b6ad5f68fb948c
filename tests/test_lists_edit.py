"""`mailer lists edit` and `lists rename`, `subscribers export --segment`, and `--attr KEY=`
removing an attribute in `subscribers add` and `subscribers edit`."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import CliResult, Project, show_json

Cli = Callable[..., CliResult]


@pytest.fixture
def weekly(db_project: Project, cli: Cli) -> Cli:
    assert cli("lists", "create", "weekly", "--title", "Tech Weekly").code == 0
    for email, country in [("ada@example.com", "CN"), ("bo@example.com", "US")]:
        added = cli("subscribers", "add", email, "-l", "weekly", "--attr", f"country={country}")
        assert added.code == 0, added.err
    return cli


def lists(cli: Cli) -> dict[str, dict[str, Any]]:
    result = cli("lists", "--json")
    assert result.code == 0, result.err
    return {found["name"]: found for found in json.loads(result.out)}


def audit(cli: Cli) -> list[dict[str, Any]]:
    result = cli("audit", "--action", "list.", "--json")
    assert result.code == 0, result.err
    entries: list[dict[str, Any]] = json.loads(result.out)
    return entries


def refused(cli: Cli, *args: str) -> str:
    result = cli(*args)
    assert result.code == 1, result.out
    return result.err


def test_edit_changes_what_is_given_and_keeps_the_rest(weekly: Cli) -> None:
    result = weekly(
        "lists", "edit", "weekly", "--description", "Chips and policy", "--opt-in", "double"
    )
    assert result.code == 0, result.err
    assert result.out == "List 'weekly': title 'Tech Weekly', double opt-in, private.\n"
    after = lists(weekly)["weekly"]
    assert (after["title"], after["description"], after["double_opt_in"]) == (
        "Tech Weekly",
        "Chips and policy",
        True,
    )
    # Members are left as they were: switching to double opt-in unconfirms nobody.
    assert after["counts"]["confirmed"] == 2
    assert weekly("lists", "edit", "weekly", "--title", "", "--opt-in", "single").code == 0
    after = lists(weekly)["weekly"]
    assert (after["title"], after["double_opt_in"]) == ("weekly", False)
    changes = [entry for entry in audit(weekly) if entry["action"] == "list.update"]
    assert len(changes) == 2


def test_edit_refusals(weekly: Cli) -> None:
    assert refused(weekly, "lists", "edit", "monthly", "--title", "x") == (
        "error: no list named 'monthly' (lists: weekly)\n"
    )
    assert refused(weekly, "lists", "edit", "weekly", "--title", "x" * 201).startswith(
        "error: title: at most 200 characters"
    )
    assert weekly("lists", "edit", "weekly", "--opt-in", "triple").code == 2
    assert lists(weekly)["weekly"]["title"] == "Tech Weekly"


def test_rename_moves_members_and_schedules(weekly: Cli) -> None:
    added = weekly("schedules", "add", "mondays", "--cron", "0 9 * * MON", "--list", "weekly")
    assert added.code == 0, added.err
    result = weekly("lists", "rename", "weekly", "tech-weekly")
    assert result.code == 0, result.err
    assert result.out == "Renamed list 'weekly' to 'tech-weekly'.\n"
    found = lists(weekly)
    assert list(found) == ["tech-weekly"]
    assert found["tech-weekly"]["counts"]["confirmed"] == 2
    assert show_json(weekly, "ada@example.com")["lists"][0]["list"] == "tech-weekly"
    schedules = json.loads(weekly("schedules", "--json").out)
    assert [(s["name"], s["list"]) for s in schedules] == [("mondays", "tech-weekly")]
    (entry,) = [entry for entry in audit(weekly) if entry["action"] == "list.rename"]
    assert entry["detail"] == {"from": "weekly", "to": "tech-weekly"}


def test_rename_refusals(weekly: Cli) -> None:
    assert weekly("lists", "create", "daily").code == 0
    assert refused(weekly, "lists", "rename", "weekly", "daily") == (
        "error: a list named 'daily' already exists\n"
    )
    assert refused(weekly, "lists", "rename", "weekly", "Tech Weekly").startswith(
        "error: list name 'Tech Weekly': use 1-100 lower-case letters"
    )
    assert refused(weekly, "lists", "rename", "monthly", "other").startswith(
        "error: no list named 'monthly'"
    )
    assert refused(weekly, "lists", "rename", "weekly", "weekly") == (
        "error: the list is named 'weekly' already\n"
    )
    # A deleted list's unsubscribes wait for a list created under its name: not a rename.
    assert weekly("subscribers", "add", "cy@example.com", "-l", "daily").code == 0
    assert weekly("subscribers", "unsubscribe", "cy@example.com", "-l", "daily").code == 0
    assert weekly("lists", "delete", "daily", "--yes").code == 0
    assert refused(weekly, "lists", "rename", "weekly", "daily").startswith(
        "error: a list named 'daily' was deleted, and who had unsubscribed from it is kept"
    )
    assert list(lists(weekly)) == ["weekly"]


def test_export_segment_writes_only_the_members_in_it(db_project: Project, weekly: Cli) -> None:
    result = weekly("subscribers", "export", "-l", "weekly", "--segment", 'country = "CN"')
    assert result.code == 0, result.err
    rows = list(csv.reader(io.StringIO(result.out)))
    assert rows == [["email", "name", "timezone", "country"], ["ada@example.com", "", "", "CN"]]
    written = weekly(
        "subscribers", "export", "-l", "weekly", "--segment", 'country = "US"', "-o", "us.csv"
    )
    assert written.err == "Wrote 1 subscribers to us.csv.\n"
    assert "bo@example.com" in (db_project.root / "us.csv").read_text("utf-8")
    bad = weekly("subscribers", "export", "-l", "weekly", "--segment", "country ==")
    assert bad.code == 1 and bad.err.startswith("error: segment, column 10: unexpected")


def test_an_empty_attr_removes_the_attribute(weekly: Cli) -> None:
    attrs = ["--attr", "country=", "--attr", "city=Paris"]
    added = weekly("subscribers", "add", "ada@example.com", "-l", "weekly", *attrs, "--json")
    assert added.code == 0, added.err
    assert json.loads(added.out)[0]["outcome"] == "updated"
    assert show_json(weekly, "ada@example.com")["attributes"] == {"city": "Paris"}
    edited = weekly("subscribers", "edit", "ada@example.com", "--attr", "CITY=", "--name", "Ada")
    assert edited.code == 0, edited.err
    ada = show_json(weekly, "ada@example.com")
    assert (ada["name"], ada["attributes"]) == ("Ada", {})
    # Removing what is not there changes nothing; other fields stay.
    assert weekly("subscribers", "edit", "bo@example.com", "--attr", "city=").code == 0
    assert show_json(weekly, "bo@example.com")["attributes"] == {"country": "US"}


def test_edit_refusals_name_the_option(weekly: Cli) -> None:
    assert refused(weekly, "subscribers", "edit", "ada@example.com", "--timezone", "Mars/X") == (
        "error: --timezone: unknown time zone 'Mars/X' (use an IANA name like Asia/Shanghai)\n"
    )
    assert refused(weekly, "subscribers", "edit", "nobody@example.com", "--name", "N").startswith(
        "error: "
    )
    assert refused(weekly, "subscribers", "edit", "ada@example.com", "--attr", "city").startswith(
        "error: --attr 'city': write it as KEY=VALUE"
    )
    assert show_json(weekly, "ada@example.com")["attributes"] == {"country": "CN"}
