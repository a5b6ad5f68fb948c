"""`mailer subscribers` add, show, search and filter, with the errors a user sees."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import CliResult, Project

Cli = Callable[..., CliResult]


def found(cli: Cli, *args: str) -> list[dict[str, Any]]:
    result = cli("subscribers", *args, "--all", "--json")
    assert result.code == 0, result.err
    rows: list[dict[str, Any]] = json.loads(result.out)
    return rows


def emails(cli: Cli, *args: str) -> list[str]:
    return [row["email"] for row in found(cli, *args)]


def add(cli: Cli, *args: str) -> list[dict[str, str]]:
    result = cli("subscribers", "add", *args, "--json")
    assert result.code == 0, result.err
    outcomes: list[dict[str, str]] = json.loads(result.out)
    return outcomes


@pytest.fixture
def weekly(db_project: Project, cli: Cli) -> Cli:
    assert cli("lists", "create", "weekly").code == 0
    return cli


def test_add_then_show_everything_stored(weekly: Cli) -> None:
    cli = weekly
    outcomes = add(
        cli,
        "  Chen.Wei@Example.NET ",
        "--list",
        "weekly",
        "--name",
        "陈  伟",
        "--timezone",
        "Asia/Shanghai",
        "--attr",
        "country=CN",
        "--attr",
        "tags=ai; policy;ai",
    )
    assert outcomes == [{"email": "Chen.Wei@example.net", "outcome": "imported", "detail": ""}]
    result = cli("subscribers", "show", "chen.wei@example.net", "--json")
    assert result.code == 0, result.err
    shown = json.loads(result.out)
    assert shown["email"] == "Chen.Wei@example.net"
    assert shown["name"] == "陈 伟"
    assert shown["timezone"] == "Asia/Shanghai"
    assert shown["attributes"] == {"country": "CN", "tags": ["ai", "policy"]}
    assert [(m["list"], m["status"], m["source"]) for m in shown["lists"]] == [
        ("weekly", "confirmed", "cli")
    ]
    assert shown["suppression"] is None
    human = cli("subscribers", "show", "CHEN.WEI@example.net")
    assert human.code == 0
    assert "Asia/Shanghai" in human.out and "list weekly: confirmed" in human.out


def test_show_unknown_address_is_exit_1(weekly: Cli) -> None:
    result = weekly("subscribers", "show", "nobody@example.com")
    assert result.code == 1
    assert "no subscriber nobody@example.com" in result.err


def test_adding_the_same_address_in_another_case_keeps_one_subscriber(weekly: Cli) -> None:
    cli = weekly
    add(cli, "ada@example.com", "-l", "weekly", "--name", "Ada")
    outcomes = add(cli, "ADA@EXAMPLE.COM", "-l", "weekly")
    assert outcomes[0]["outcome"] == "unchanged"
    assert [row["name"] for row in found(cli)] == ["Ada"]  # an empty name keeps the stored one
    assert add(cli, "Ada@example.com", "-l", "weekly", "--name", "Ada Lin")[0]["outcome"] == (
        "updated"
    )
    assert [(row["email"], row["name"]) for row in found(cli)] == [("ada@example.com", "Ada Lin")]


def test_search_status_filter_and_limit(db_project: Project, cli: Cli) -> None:
    cli("lists", "create", "weekly")
    cli("lists", "create", "daily")
    add(cli, "wang.fang@example.com", "-l", "weekly", "--name", "王芳")
    add(cli, "ada_lin@example.com", "-l", "weekly", "--name", "Ada Lin")
    add(cli, "adam@example.org", "-l", "weekly", "--name", "Adam 100%")
    add(cli, "zed@example.org", "-l", "daily")
    assert cli("subscribers", "unsubscribe", "adam@example.org", "-l", "weekly").code == 0

    assert emails(cli) == [
        "ada_lin@example.com",
        "adam@example.org",
        "wang.fang@example.com",
        "zed@example.org",
    ]
    assert emails(cli, "--list", "daily") == ["zed@example.org"]
    assert emails(cli, "--search", "ADA") == ["ada_lin@example.com", "adam@example.org"]
    assert emails(cli, "--search", "王") == ["wang.fang@example.com"]
    assert emails(cli, "--search", "example.org", "--list", "weekly") == ["adam@example.org"]
    # LIKE wildcards typed by the user are plain text.
    assert emails(cli, "--search", "_") == ["ada_lin@example.com"]
    assert emails(cli, "--search", "%") == ["adam@example.org"]
    assert emails(cli, "--list", "weekly", "--status", "unsubscribed") == ["adam@example.org"]
    rows = found(cli, "--list", "weekly", "--status", "confirmed")
    assert [(row["email"], row["status"]) for row in rows] == [
        ("ada_lin@example.com", "confirmed"),
        ("wang.fang@example.com", "confirmed"),
    ]
    page = json.loads(cli("subscribers", "--limit", "2", "--json").out)
    assert [row["email"] for row in page["subscribers"]] == [
        "ada_lin@example.com",
        "adam@example.org",
    ]
    table = cli("subscribers", "--list", "weekly", "--limit", "1")
    assert table.code == 0 and "ada_lin@example.com" in table.out
    assert "Showing 1-1 of 3 subscribers." in table.out
    assert cli("subscribers", "--limit", "0").code == 2


def test_status_errors(weekly: Cli) -> None:
    result = weekly("subscribers", "--status", "confirmed")
    assert result.code == 1 and "--status needs --list" in result.err
    result = weekly("subscribers", "--list", "weekly", "--status", "active")
    assert result.code == 1 and "status 'active'" in result.err


def test_double_opt_in_members_are_unconfirmed_until_confirmed(
    db_project: Project, cli: Cli
) -> None:
    cli("lists", "create", "daily", "--double-opt-in")
    assert add(cli, "a@example.com", "b@example.com", "-l", "daily")[0]["outcome"] == "imported"
    add(cli, "c@example.com", "-l", "daily", "--confirmed")
    statuses = {row["email"]: row["status"] for row in found(cli, "--list", "daily")}
    assert statuses == {
        "a@example.com": "unconfirmed",
        "b@example.com": "unconfirmed",
        "c@example.com": "confirmed",
    }
    assert add(cli, "a@example.com", "-l", "daily") == [
        {"email": "a@example.com", "outcome": "unchanged", "detail": ""}
    ]
    assert add(cli, "A@example.com", "-l", "daily", "--confirmed") == [
        {"email": "A@example.com", "outcome": "updated", "detail": "confirmed"}
    ]
    assert emails(cli, "--list", "daily", "--status", "unconfirmed") == ["b@example.com"]


def test_tags_attribute_is_stored_as_a_list(weekly: Cli) -> None:
    add(weekly, "a@example.com", "-l", "weekly", "--attr", "tags=ai;policy", "--attr", "note=x;y")
    assert found(weekly)[0]["attributes"] == {"tags": ["ai", "policy"], "note": "x;y"}
    add(weekly, "a@example.com", "-l", "weekly", "--attr", "tags=trade")
    assert found(weekly)[0]["attributes"] == {"tags": ["trade"], "note": "x;y"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("not-an-address",), "'not-an-address' is not a valid email address"),
        (("ok@example.com", "bad@@example.com"), "'bad@@example.com' is not a valid email"),
        (("a@example.com", "--timezone", "Mars/Olympus"), "unknown time zone 'Mars/Olympus'"),
        (("a@example.com", "--attr", "country"), "--attr 'country': write it as KEY=VALUE"),
        (("a@example.com", "--attr", "email=x@example.com"), "attribute name 'email'"),
        (("a@example.com", "--attr", "1st=x"), "attribute name '1st'"),
        (("a@example.com", "--name", "x" * 201), "name is longer than 200 characters"),
    ],
)
def test_bad_add_input_is_exit_1_and_writes_nothing(
    weekly: Cli, args: tuple[str, ...], message: str
) -> None:
    result = weekly("subscribers", "add", *args, "--list", "weekly")
    assert result.code == 1
    assert result.err.startswith("error:")
    assert message in result.err
    assert found(weekly) == []


def test_add_needs_a_list(weekly: Cli) -> None:
    assert weekly("subscribers", "add", "a@example.com").code == 2


def test_segment_filters_a_list(weekly: Cli) -> None:
    pytest.importorskip("mailer.audience.segments")
    add(weekly, "cn@example.com", "-l", "weekly", "--attr", "country=CN")
    add(weekly, "us@example.com", "-l", "weekly", "--attr", "country=US")
    add(weekly, "none@example.com", "-l", "weekly")
    assert emails(weekly, "--list", "weekly", "--segment", 'country = "CN"') == ["cn@example.com"]


def test_bad_segment_is_exit_1_naming_the_column(weekly: Cli) -> None:
    pytest.importorskip("mailer.audience.segments")
    add(weekly, "cn@example.com", "-l", "weekly", "--attr", "country=CN")
    result = weekly("subscribers", "--list", "weekly", "--segment", 'country = = "CN"')
    assert result.code == 1
    assert result.err.startswith("error:")
    assert "column" in result.err.lower() or "country" in result.err
