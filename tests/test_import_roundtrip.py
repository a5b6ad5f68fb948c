"""Export, then import, gives back the same subscribers, whatever state the commands left them
in: names, attributes added under any capitalisation of their name, tags, time zones, and
members unsubscribed, unconfirmed or suppressed."""

from __future__ import annotations

import csv
import io
import itertools
import json
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import CliResult, Project

Cli = Callable[..., CliResult]
_examples = itertools.count()

PEOPLE = 5
# Capitalisations of a few attribute names: each is one attribute however it is written.
KEYS = st.sampled_from(["city", "City", "CITY", "tags", "Tags", "note", "NOTE", "plan_2"])
VALUES = st.one_of(
    st.sampled_from(
        ["Paris", "=1+2", "-5", "'x", "''=y", "a,b", 'say "hi"', "two\nlines", "ai;policy", " x "]
    ),
    st.text(alphabet="ab王é;,'\"=@\r\n\t ", max_size=6),
)
NAMES = st.one_of(
    st.sampled_from(["", "Ada Lin", "@Bo", "Lin, Ada", "'quoted", "王  芳", "=SUM(A1)", "-x"]),
    st.text(alphabet="ab王 ,'\"=", max_size=6),
)
ZONES = st.sampled_from(["", "Asia/Shanghai", "Europe/Madrid", "UTC"])
HEADER_SPELLINGS = {
    "email": ["email", "Email", "EMAIL"],
    "name": ["name", "Name"],
    "timezone": ["timezone", "TimeZone"],
}


def _run(cli: Cli, *args: str) -> CliResult:
    result = cli(*args)
    assert result.code == 0, (args, result.err)
    return result


def _members(cli: Cli, list_name: str) -> dict[str, dict[str, Any]]:
    found = json.loads(_run(cli, "subscribers", "--list", list_name, "--all", "--json").out)
    return {row["email"]: row for row in found}


def _data(row: dict[str, Any]) -> tuple[str, str, str | None, dict[str, Any]]:
    # A CSV cell cannot tell an empty value from none: `--attr note=` stores "", which an
    # empty cell leaves unset.
    attributes = {key: value for key, value in row["attributes"].items() if value}
    return row["email"], row["name"], row["timezone"], attributes


def _import(cli: Cli, project: Project, text: str, list_name: str, *options: str) -> Any:
    path = project.root / "roundtrip.csv"
    path.write_text(text, encoding="utf-8", newline="")
    result = _run(cli, "subscribers", "import", str(path), "--list", list_name, "--json", *options)
    return json.loads(result.out)


def _build_state(cli: Cli, project: Project, data: st.DataObject, example: int) -> set[str]:
    """Runs random commands on list src<example>; returns the addresses suppressed."""
    source = f"src{example}"
    _run(cli, "lists", "create", source, "--double-opt-in")
    people = [f"p{n}@ex{example}.example.com" for n in range(PEOPLE)]
    person = st.sampled_from(people)
    suppressed: set[str] = set()
    for step in data.draw(st.lists(st.integers(0, 9), min_size=1, max_size=8), label="steps"):
        if step <= 3:
            args = ["subscribers", "add", data.draw(person), "--list", source]
            if data.draw(st.booleans(), label="confirmed"):
                args.append("--confirmed")
            for option, values in (("--name", NAMES), ("--timezone", ZONES)):
                if data.draw(st.booleans()):
                    args += [option, data.draw(values)]
            for key, value in data.draw(st.lists(st.tuples(KEYS, VALUES), max_size=3)):
                args += ["--attr", f"{key}={value}"]
            added = cli(*args)
            # Refused only for an address that unsubscribed from the list or is suppressed.
            assert added.code == 0 or "suppressed" in added.out or "unsubscribed" in added.out

        elif step <= 6:
            keys = data.draw(st.lists(KEYS, max_size=3, unique_by=str.lower), label="columns")
            fixed = [
                data.draw(st.sampled_from(spellings)) for spellings in HEADER_SPELLINGS.values()
            ]
            out = io.StringIO()
            writer = csv.writer(out)
            writer.writerow([*fixed, *keys])
            for email in data.draw(st.lists(person, max_size=4), label="rows"):
                cells = [data.draw(NAMES), data.draw(ZONES), *(data.draw(VALUES) for _ in keys)]
                writer.writerow([email, *cells])
            confirmed = ["--confirmed"] if data.draw(st.booleans()) else []
            _import(cli, project, out.getvalue(), source, *confirmed)
        elif step <= 8:
            cli("subscribers", "unsubscribe", data.draw(person), "--list", source)
        else:
            email = data.draw(person)
            _run(cli, "subscribers", "suppress", email, "--reason", "manual")
            suppressed.add(email)
    return suppressed


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_export_then_import_gives_back_the_same_subscribers(
    db_project: Project, cli: Cli, data: st.DataObject
) -> None:
    example = next(_examples)
    suppressed = _build_state(cli, db_project, data, example)
    source = f"src{example}"
    before = _members(cli, source)
    exported = _run(cli, "subscribers", "export", "--list", source).out
    # Back into the same list: nothing changes, nothing is refused.
    again = _import(cli, db_project, exported, source)
    assert (again["rejected"], again["updated"], again["imported"]) == (0, 0, 0), again
    assert _members(cli, source) == before
    # Into a new list, everyone or one status at a time: the same people with the same data
    # (suppressed addresses are refused, as on any import).
    for status in (None, "confirmed", "unconfirmed", "unsubscribed"):
        target = f"copy{example}{status or 'all'}"
        _run(cli, "lists", "create", target)
        options = ("--status", status) if status else ()
        text = _run(cli, "subscribers", "export", "--list", source, *options).out
        summary = _import(cli, db_project, text, target)
        assert summary["rejected"] == 0, summary
        expected = [
            _data(row)
            for email, row in before.items()
            if status in (None, row["status"]) and email.lower() not in suppressed
        ]
        assert sorted(map(_data, _members(cli, target).values())) == sorted(expected)
