"""`mailer subscribers` a page at a time: the count of all that match, the cursor and the
command for the next page, --offset, --all, and what bad paging options say."""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa

from mailer.audience.lists import create_list
from mailer.audience.subscribers import add_subscribers, unsubscribe
from tests.conftest import CliResult

Cli = Callable[..., CliResult]
PEOPLE = 123
# Every third one is in Singapore.
SINGAPORE = [n for n in range(PEOPLE) if n % 3 == 0]


def address(number: int) -> str:
    # Capitals in the address: the order and the cursor follow the address as a key.
    return f"Reader{number:03d}@example.com"


@pytest.fixture
def weekly(cli: Cli, project_engine: sa.Engine) -> Cli:
    """A list of PEOPLE members, added in reverse address order; one other person on no list."""
    create_list(project_engine, "weekly")
    create_list(project_engine, "daily")
    for country in ("SG", "CN"):
        people = [n for n in reversed(range(PEOPLE)) if (n in SINGAPORE) == (country == "SG")]
        emails = [address(number) for number in people]
        attributes = {"country": country}
        add_subscribers(project_engine, emails, "weekly", attributes=attributes, confirmed=True)
    add_subscribers(project_engine, ["zed@example.org"], "daily", confirmed=True)
    return cli


def everyone_on_weekly() -> list[str]:
    return sorted((address(n) for n in range(PEOPLE)), key=str.lower)


def listed(output: str) -> list[str]:
    """The addresses of a table, in the order printed."""
    return [line.split()[0] for line in output.splitlines() if "@" in line.split(" ")[0]]


def next_command(output: str) -> list[str] | None:
    lines = [line for line in output.splitlines() if line.startswith("Next page: ")]
    return shlex.split(lines[0].removeprefix("Next page: ")) if lines else None


def page_json(cli: Cli, *args: str) -> dict[str, Any]:
    result = cli("subscribers", *args, "--json")
    assert result.code == 0, result.err
    page: dict[str, Any] = json.loads(result.out)
    return page


def test_the_first_page_shows_50_and_how_many_match(weekly: Cli) -> None:
    result = weekly("subscribers", "--list", "weekly")
    assert result.code == 0, result.err
    assert listed(result.out) == everyone_on_weekly()[:50]
    assert f"Showing 1-50 of {PEOPLE} subscribers." in result.out
    command = next_command(result.out)
    assert command is not None and command[:4] == ["mailer", "subscribers", "--list", "weekly"]

    everywhere = weekly("subscribers", "--limit", "10")
    assert f"Showing 1-10 of {PEOPLE + 1} subscribers." in everywhere.out
    assert len(listed(everywhere.out)) == 10


def test_following_the_printed_commands_lists_everyone_once_in_order(weekly: Cli) -> None:
    seen: list[str] = []
    feet: list[str] = []
    args: list[str] | None = ["subscribers", "--list", "weekly", "--limit", "40"]
    while args is not None:
        result = weekly(*args)
        assert result.code == 0, result.err
        seen += listed(result.out)
        feet += [line for line in result.out.splitlines() if line.startswith("Showing")]
        command = next_command(result.out)
        args = None if command is None else command[1:]
    assert seen == everyone_on_weekly()
    assert feet == [
        f"Showing 1-40 of {PEOPLE} subscribers.",
        f"Showing 41-80 of {PEOPLE} subscribers.",
        f"Showing 81-120 of {PEOPLE} subscribers.",
        f"Showing 121-123 of {PEOPLE} subscribers.",
    ]


def test_json_pages_carry_the_total_and_the_next_cursor(weekly: Cli) -> None:
    seen: list[str] = []
    cursor: str | None = None
    while True:
        args = ["--list", "weekly", "--limit", "50"] + (["--after", cursor] if cursor else [])
        page = page_json(weekly, *args)
        assert page["total"] == PEOPLE and page["offset"] == len(seen)
        seen += [row["email"] for row in page["subscribers"]]
        cursor = page["next_after"]
        if cursor is None:
            break
    assert seen == everyone_on_weekly()


def test_people_added_between_pages_do_not_shift_the_next_one(
    weekly: Cli, project_engine: sa.Engine
) -> None:
    first = page_json(weekly, "--list", "weekly", "--limit", "5")
    add_subscribers(project_engine, ["aaa@example.com"], "weekly", confirmed=True)
    second = page_json(weekly, "--list", "weekly", "--limit", "5", "--after", first["next_after"])
    assert [row["email"] for row in second["subscribers"]] == everyone_on_weekly()[5:10]
    assert second["total"] == PEOPLE + 1


def test_offset_skips_that_many(weekly: Cli) -> None:
    result = weekly("subscribers", "--list", "weekly", "--offset", "100", "--limit", "10")
    assert listed(result.out) == everyone_on_weekly()[100:110]
    assert f"Showing 101-110 of {PEOPLE} subscribers." in result.out
    command = next_command(result.out)
    assert command is not None
    after = weekly(*command[1:])
    assert listed(after.out) == everyone_on_weekly()[110:120]
    assert f"Showing 111-120 of {PEOPLE} subscribers." in after.out

    past = weekly("subscribers", "--list", "weekly", "--offset", "500")
    assert past.code == 0 and listed(past.out) == []
    assert f"Nothing past number 500: {PEOPLE} subscribers in all." in past.out


def test_json_all_returns_everyone_as_one_array(weekly: Cli) -> None:
    result = weekly("subscribers", "--list", "weekly", "--all", "--json")
    assert result.code == 0, result.err
    rows = json.loads(result.out)
    assert [row["email"] for row in rows] == everyone_on_weekly()
    assert {row["status"] for row in rows} == {"confirmed"}
    table = weekly("subscribers", "--all")
    assert listed(table.out) == [*everyone_on_weekly(), "zed@example.org"]
    assert f"{PEOPLE + 1} subscribers." in table.out
    assert next_command(table.out) is None


def test_a_segment_page_says_how_many_match_not_how_many_are_shown(weekly: Cli) -> None:
    result = weekly(
        "subscribers", "--list", "weekly", "--segment", 'country = "SG"', "--limit", "3"
    )
    assert result.code == 0, result.err
    singapore = sorted((address(n) for n in SINGAPORE), key=str.lower)
    assert listed(result.out) == singapore[:3]
    assert f"Showing 1-3 of {len(SINGAPORE)} subscribers." in result.out
    command = next_command(result.out)
    assert command is not None and "--segment" in command
    assert command[command.index("--segment") + 1] == 'country = "SG"'
    assert listed(weekly(*command[1:]).out) == singapore[3:6]


def test_status_and_search_pages_count_what_matches(weekly: Cli, project_engine: sa.Engine) -> None:
    for number in (1, 2, 4):
        unsubscribe(project_engine, address(number), "weekly")
    left = page_json(weekly, "--list", "weekly", "--status", "unsubscribed")
    assert left["total"] == 3
    assert [row["email"] for row in left["subscribers"]] == [address(n) for n in (1, 2, 4)]
    staying = page_json(weekly, "--list", "weekly", "--status", "confirmed", "--limit", "2")
    assert staying["total"] == PEOPLE - 3
    assert [row["email"] for row in staying["subscribers"]] == [address(0), address(3)]
    found = page_json(weekly, "--search", "READER01", "--limit", "4")
    assert found["total"] == 10
    assert [row["email"] for row in found["subscribers"]] == [address(n) for n in range(10, 14)]


@pytest.mark.parametrize("value", ["0", "10001", "-5", "many"])
def test_a_bad_limit_is_a_usage_error_naming_it(weekly: Cli, value: str) -> None:
    result = weekly("subscribers", "--list", "weekly", "--limit", value)
    assert result.code == 2 and "--limit" in result.err and "Traceback" not in result.err


def test_a_bad_offset_is_a_usage_error_naming_it(weekly: Cli) -> None:
    result = weekly("subscribers", "--offset", "-1")
    assert result.code == 2 and "--offset" in result.err


@pytest.mark.parametrize(
    "cursor",
    ["ada@example.com", "!!!", "", "WzEsMl0", "eyJhIjoxfQ", "WzEsIlx1MDAwMCJd"],
)
def test_an_after_no_page_printed_is_refused_naming_it(weekly: Cli, cursor: str) -> None:
    result = weekly("subscribers", "--list", "weekly", "--after", cursor)
    assert result.code == 1, result.out
    assert result.err.startswith("error: --after")
    assert "not a cursor a listing printed" in result.err


def test_all_refuses_paging_options(weekly: Cli) -> None:
    result = weekly("subscribers", "--all", "--limit", "5", "--offset", "2")
    assert result.code == 1
    assert "--all lists everyone: leave out --limit, --offset" in result.err
