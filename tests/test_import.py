"""`mailer subscribers import` and `export`: what lands in the database, what is reported where."""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import CliResult, Project
from tests.conftest import show_json as show

Cli = Callable[..., CliResult]


@pytest.fixture
def weekly(db_project: Project, cli: Cli) -> Cli:
    assert cli("lists", "create", "weekly").code == 0
    return cli


def write(project: Project, name: str, data: str | bytes) -> str:
    path = project.root / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return name


def import_json(cli: Cli, file: str, *args: str, list_name: str = "weekly") -> dict[str, Any]:
    result = cli("subscribers", "import", file, "--list", list_name, "--json", *args)
    assert result.code == 0, result.err
    summary: dict[str, Any] = json.loads(result.out)
    return summary


def members(cli: Cli, list_name: str = "weekly") -> dict[str, dict[str, Any]]:
    result = cli("subscribers", "--list", list_name, "--all", "--json")
    assert result.code == 0, result.err
    return {row["email"]: row for row in json.loads(result.out)}


def problems(summary: dict[str, Any]) -> list[tuple[int, str, str]]:
    return [(p["line"], p["email"], p["outcome"]) for p in summary["problems"]]


def test_bom_quoted_cells_and_line_numbers(db_project: Project, weekly: Cli) -> None:
    data = (
        "\ufeffemail,name,city,tags\r\n"
        'ada@example.com,"Lin, Ada",Shanghai,"ai;policy"\r\n'
        'bo@example.com,"Bo\nWang","Hong\r\nKong",chips\r\n'
        "not-an-address,Nobody,,\r\n"
        '"cy@example.net","Cy ""the writer""",Paris,\r\n'
    )
    summary = import_json(weekly, write(db_project, "people.csv", data), "--confirmed")
    assert summary["rows"] == 4
    assert (summary["imported"], summary["rejected"]) == (3, 1)
    # The bad row starts on line 6: the two line breaks inside quotes before it count.
    assert problems(summary) == [(6, "not-an-address", "rejected")]
    stored = members(weekly)
    assert stored["ada@example.com"]["name"] == "Lin, Ada"
    assert stored["ada@example.com"]["attributes"] == {"city": "Shanghai", "tags": ["ai", "policy"]}
    # Names are one line; attributes keep what the cell held.
    assert stored["bo@example.com"]["name"] == "Bo Wang"
    assert stored["bo@example.com"]["attributes"]["city"] == "Hong\r\nKong"
    assert stored["cy@example.net"]["name"] == 'Cy "the writer"'
    assert {row["status"] for row in stored.values()} == {"confirmed"}


def test_every_bad_row_is_reported_by_line_and_reason(db_project: Project, weekly: Cli) -> None:
    data = (
        "email,name,timezone,country\n"
        "good1@example.com,One,Asia/Shanghai,CN\n"
        "bad@@example.com,Two,,\n"
        ",No address,,\n"
        "good2@example.com,Three,Mars/Olympus,\n"
        "good3@example.com,Four,,US,extra\n"
        "trailing-dot@example.com.,Five,,\n"
        "good4@example.com,Six,,\n"
    )
    summary = import_json(weekly, write(db_project, "mixed.csv", data))
    reasons = {p["line"]: p["reason"] for p in summary["problems"]}
    assert set(reasons) == {3, 4, 5, 6, 7}
    assert "invalid email address" in reasons[3]
    assert reasons[4] == "no email address"
    assert "Mars/Olympus" in reasons[5]
    assert "5 cells, but the header row has 4 columns" in reasons[6]
    assert "invalid email address" in reasons[7]
    assert sorted(members(weekly)) == ["good1@example.com", "good4@example.com"]
    assert summary["imported"] == 2 and summary["rejected"] == 5


def test_the_cli_prints_problems_as_file_line_and_a_summary(
    db_project: Project, weekly: Cli
) -> None:
    data = "email\nok@example.com\nbad@\n"
    result = weekly("subscribers", "import", write(db_project, "p.csv", data), "-l", "weekly")
    assert result.code == 0
    assert "p.csv:3: rejected 'bad@': invalid email address" in result.err
    assert "1 imported, 0 updated, 0 unchanged, 1 rejected" in result.out


def test_bytes_that_are_not_utf8_stop_the_import_at_their_line(
    db_project: Project, weekly: Cli
) -> None:
    # Line 3 holds a Latin-1 byte; the lines around it are UTF-8.
    data = b"email,name\na@example.com,Ann\nb@example.com,B\xe9a\n" + "c@example.com,Cé\n".encode()
    result = weekly("subscribers", "import", write(db_project, "latin.csv", data), "-l", "weekly")
    assert result.code == 1
    assert result.err.startswith("error: latin.csv:3: byte 45 of the file (0xE9) is not UTF-8; ")
    assert "--encoding latin-1" in result.err
    assert weekly("subscribers", "show", "a@example.com").code == 1  # nothing imported
    # Read as Latin-1, the UTF-8 "é" of line 4 would be "Ã©": only one encoding is right.
    fixed = data.replace(b"\xe9", "é".encode())
    summary = import_json(weekly, write(db_project, "latin.csv", fixed))
    assert summary["imported"] == 3
    assert show(weekly, "c@example.com")["name"] == "Cé"


def test_case_duplicates_are_merged_into_one_subscriber(db_project: Project, weekly: Cli) -> None:
    data = (
        "email,name,city\n"
        "Ada@Example.com,Ada,\n"
        "ada@example.COM,,Shanghai\n"
        "  ADA@EXAMPLE.COM  ,Ada Lin,\n"
    )
    summary = import_json(weekly, write(db_project, "dupes.csv", data))
    assert summary["rows"] == 3 and summary["rejected"] == 0
    stored = members(weekly)
    assert list(stored) == ["Ada@example.com"]
    # Later rows win for what they say; empty cells leave earlier values alone.
    assert stored["Ada@example.com"]["name"] == "Ada Lin"
    assert stored["Ada@example.com"]["attributes"] == {"city": "Shanghai"}


def test_internationalized_addresses_and_whitespace(db_project: Project, weekly: Cli) -> None:
    data = (
        "email , name \n"
        "  李雷@例子.中国 ,  李雷  \n"
        "hans@bücher.example,Hans\n"
        "\tmei@xn--fsqu00a.xn--fiqs8s\t,梅\n"
    )
    summary = import_json(weekly, write(db_project, "idn.csv", data))
    assert summary["rejected"] == 0, summary["problems"]
    stored = members(weekly)
    assert stored["李雷@例子.中国"]["name"] == "李雷"
    assert "hans@bücher.example" in stored
    assert len(stored) == 3


def test_reimporting_the_same_file_changes_nothing(db_project: Project, weekly: Cli) -> None:
    data = "email,name,tags\na@example.com,A,ai\nb@example.com,B,\nbad,,\n"
    file = write(db_project, "same.csv", data)
    first = import_json(weekly, file)
    before = members(weekly)
    second = import_json(weekly, file)
    assert (first["imported"], second["imported"], second["updated"]) == (2, 0, 0)
    assert second["unchanged"] == 2 and second["rejected"] == 1
    assert members(weekly) == before  # updated_at included


def test_changed_rows_are_updated(db_project: Project, weekly: Cli) -> None:
    import_json(weekly, write(db_project, "v1.csv", "email,name,city\na@example.com,A,Paris\n"))
    summary = import_json(weekly, write(db_project, "v2.csv", "email,city\na@example.com,Rome\n"))
    assert summary["updated"] == 1
    assert show(weekly, "a@example.com")["attributes"] == {"city": "Rome"}
    assert show(weekly, "a@example.com")["name"] == "A"


def test_import_never_resubscribes_the_unsubscribed_or_suppressed(
    db_project: Project, weekly: Cli
) -> None:
    import_json(weekly, write(db_project, "first.csv", "email\nleft@example.com\n"))
    assert weekly("subscribers", "unsubscribe", "left@example.com", "--list", "weekly").code == 0
    reason = ("--reason", "bounce")
    assert weekly("subscribers", "suppress", "bounced@example.com", *reason).code == 0
    assert weekly("lists", "create", "daily").code == 0
    data = "email\nLEFT@example.com\nbounced@example.com\nnew@example.com\n"
    file = write(db_project, "again.csv", data)
    summary = import_json(weekly, file, "--confirmed")
    assert summary["suppressed"] == 2 and summary["imported"] == 1
    assert problems(summary) == [
        (2, "LEFT@example.com", "unsubscribed"),
        (3, "bounced@example.com", "suppressed"),
    ]
    assert members(weekly)["left@example.com"]["status"] == "unsubscribed"
    assert "bounced@example.com" not in members(weekly)
    # Another list: the unsubscribe was from weekly only, the bounce is global.
    daily = import_json(weekly, file, list_name="daily")
    assert problems(daily) == [(3, "bounced@example.com", "suppressed")]
    assert sorted(members(weekly, "daily")) == ["left@example.com", "new@example.com"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("name,city\nAda,Paris\n", "data.csv:1: the header row has no 'email' column"),
        ("", "data.csv:1: the file is empty"),
        ("\n\n", "data.csv:1: the file is empty"),
        ("email,Email\n", "data.csv:1: column 'Email' appears twice"),
        ("email,1st\n", "data.csv:1: column 2: attribute name '1st'"),
        ("email,Name,NAME\n", "data.csv:1: column 'NAME' appears twice"),
        ("\n\nname\n", "data.csv:3: the header row has no 'email' column"),
        ('email,"name\na@example.com,A\n', "data.csv:1: the header row has a quote that is never"),
        (
            "email,n" + "x" * 70_000 + "\n",
            "data.csv:1: the header row has a cell longer than 65,536",
        ),
    ],
)
def test_bad_files_are_exit_1_naming_file_and_line(
    db_project: Project, weekly: Cli, data: str, message: str
) -> None:
    result = weekly("subscribers", "import", write(db_project, "data.csv", data), "-l", "weekly")
    assert result.code == 1
    # Named as given on the command line.
    assert result.err.startswith(f"error: {message}")
    assert members(weekly) == {}


def test_missing_file_and_unknown_list(db_project: Project, weekly: Cli) -> None:
    missing = weekly("subscribers", "import", "nope.csv", "-l", "weekly")
    assert (missing.code, missing.err.strip()) == (1, "error: nope.csv: no such file")
    file = write(db_project, "ok.csv", "email\na@example.com\n")
    unknown = weekly("subscribers", "import", file, "-l", "monthly")
    assert unknown.code == 1 and "no list named 'monthly' (lists: weekly)" in unknown.err


def test_import_from_stdin(
    db_project: Project, weekly: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = b"email,name\nin@example.com,Piped\nbad\n"
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    summary = import_json(weekly, "-")
    assert summary["file"] == "<stdin>" and summary["imported"] == 1
    assert summary["problems"][0]["line"] == 3
    assert show(weekly, "in@example.com")["lists"][0]["source"] == "import:<stdin>"


def export(cli: Cli, *args: str) -> str:
    result = cli("subscribers", "export", "--list", "weekly", *args)
    assert result.code == 0, result.err
    return result.out


def test_export_reimports_to_the_same_data(db_project: Project, weekly: Cli) -> None:
    data = (
        "email,name,timezone,tags,city,formula\n"
        'a@example.com,"Lin, Ada",Asia/Shanghai,ai;policy,"Shang\nhai",=1+2\n'
        "b@example.com,@Bo,,,+86,-5\n"
        "c@example.com,王芳,,chips,,\n"
        'd@example.com,,,,"lone\rreturn",\n'
    )
    import_json(weekly, write(db_project, "in.csv", data))
    exported = export(weekly)
    rows = list(csv.reader(io.StringIO(exported)))
    assert rows[0] == ["email", "name", "timezone", "city", "formula", "tags"]
    # A spreadsheet would run these as formulas: they get a leading quote.
    cells = {cell for row in rows[1:] for cell in row}
    assert {"'=1+2", "'@Bo", "'+86", "'-5"} <= cells
    assert not any(cell[:1] in "=+-@" for cell in cells if cell)
    assert weekly("lists", "create", "copy").code == 0
    import_json(weekly, write(db_project, "out.csv", exported), list_name="copy")
    original, copied = members(weekly), members(weekly, "copy")
    assert original.keys() == copied.keys()
    for email, row in original.items():
        for key in ("name", "timezone", "attributes"):
            assert copied[email][key] == row[key], (email, key)


def test_export_neutralizes_attribute_cells_when_no_fixed_cell_needs_it(
    db_project: Project, weekly: Cli
) -> None:
    data = "email,name,score\na@example.com,Ada,=1+2\nb@example.com,Bo,7\n"
    import_json(weekly, write(db_project, "in.csv", data))
    assert export(weekly).splitlines()[1:] == ["a@example.com,Ada,,'=1+2", "b@example.com,Bo,,7"]


def test_export_by_status_to_a_file(db_project: Project, weekly: Cli) -> None:
    import_json(weekly, write(db_project, "in.csv", "email\na@example.com\nb@example.com\n"))
    assert weekly("subscribers", "unsubscribe", "b@example.com", "-l", "weekly").code == 0
    out = db_project.root / "confirmed.csv"
    export(weekly, "--status", "confirmed", "-o", str(out))
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("email,name,timezone") and lines[1:] == ["a@example.com,,"]
    everyone = export(weekly).splitlines()
    assert len(everyone) == 3
    assert not list(Path(db_project.root).glob("*.partial"))


def test_export_errors(db_project: Project, weekly: Cli) -> None:
    bad_status = weekly("subscribers", "export", "--list", "weekly", "--status", "gone")
    assert bad_status.code == 1 and "status 'gone'" in bad_status.err
    unknown = weekly("subscribers", "export", "--list", "monthly")
    assert unknown.code == 1 and "no list named 'monthly'" in unknown.err
