"""Damaged CSV files: bytes that are not UTF-8 wherever they fall, quotes left open, oversized
cells. Each bad row is rejected at its line with its reason and every valid row is imported."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass

import pytest
import sqlalchemy as sa

from mailer.audience.csv_import import ImportSummary, RowProblem, import_csv
from mailer.audience.lists import create_list
from tests.conftest import CliResult, Project
from tests.test_import_properties import member_keys

Cli = Callable[..., CliResult]
HEADER = b"email,name\n"
# The documented limit on a cell, in characters.
CELL_MAX = 65_536


@dataclass
class Imported:
    summary: ImportSummary
    problems: list[RowProblem]
    members: set[str]

    @property
    def rejected(self) -> list[tuple[int, str]]:
        return [(problem.line, problem.reason) for problem in self.problems]


def run_import(engine: sa.Engine, data: bytes, batch_size: int = 10_000) -> Imported:
    create_list(engine, "weekly")
    problems: list[RowProblem] = []
    summary = import_csv(
        engine,
        io.BytesIO(data),
        "weekly",
        source="d.csv",
        batch_size=batch_size,
        on_problem=problems.append,
    )
    assert sum(summary.counts.values()) == summary.rows
    return Imported(summary, problems, member_keys(engine, "weekly"))


def rows(first: int, count: int) -> bytes:
    return b"".join(b"r%d@example.com,R %d\n" % (n, n) for n in range(first, first + count))


def keys(first: int, count: int) -> set[str]:
    return {f"r{n}@example.com" for n in range(first, first + count)}


@pytest.mark.parametrize("cut", [b"\xc3", b"\xe4\xb8", b"\xf0\x9f\x98"])
def test_a_character_cut_short_at_the_very_end_rejects_only_its_row(
    engine: sa.Engine, cut: bytes
) -> None:
    data = HEADER + rows(0, 5) + b"z@example.com,Z" + cut
    result = run_import(engine, data)
    assert result.rejected == [(7, "not valid UTF-8")]
    assert result.members == keys(0, 5)
    assert result.summary.counts["imported"] == 5


def _bad_byte_at(offset: int, bad: bytes, then: bytes) -> tuple[bytes, int, int]:
    """A file whose row ``x@example.com`` holds ``bad`` at byte ``offset``, followed by
    ``then`` and more rows; returns it, the line of that row and how many good rows it has."""
    good = HEADER + rows(0, offset // 20)
    good = good[: good.rindex(b"\n", 0, offset - 20) + 1]
    before = good.count(b"\n") - 1
    line = b"x@example.com," + b"a" * (offset - len(good) - 14)
    data = good + line + bad + then + b"\n" + rows(before, 40)
    assert data[offset : offset + len(bad)] == bad
    return data, before + 2, before + 40


@pytest.mark.parametrize("offset", [8191, 8192, 65_535, 65_536, 131_071])
@pytest.mark.parametrize(("bad", "then"), [(b"\xe9", b"x"), (b"\xe4\xb8", b""), (b"\xff", b"")])
@pytest.mark.parametrize("batch_size", [10_000, 700])
def test_a_bad_byte_at_a_read_boundary_rejects_only_its_row(
    engine: sa.Engine, offset: int, bad: bytes, then: bytes, batch_size: int
) -> None:
    data, line, good = _bad_byte_at(offset, bad, then)
    result = run_import(engine, data, batch_size)
    assert result.rejected == [(line, "not valid UTF-8")]
    assert result.members == keys(0, good)


def test_a_quote_left_open_is_reported_where_it_opens_and_the_rows_after_it_are_read(
    engine: sa.Engine,
) -> None:
    lines = [b"u%d@example.com,U %d" % (n, n) for n in range(1000)]
    lines[10] = b'q@example.com,"Smith, J'
    result = run_import(engine, HEADER + b"\n".join(lines) + b"\n")
    reason = (
        "a quote opened on this line is never closed (it would take in the next 989 lines, "
        "which are read as rows of their own)"
    )
    assert result.rejected == [(12, reason)]
    assert len(result.members) == 999 and "q@example.com" not in result.members
    assert result.summary.rows == 1000


@pytest.mark.parametrize(
    ("data", "rejected", "imported"),
    [
        # Nothing after the open quote but one row.
        (b'a@example.com,"Smith, J\nb@example.com,Bob\n', [(2, 1)], {"b"}),
        (b'a@example.com,"Smith, J\r\nb@example.com,Bob', [(2, 1)], {"b"}),
        # "Closed" by the opening quote of a later cell: that row is read on its own too.
        (
            b'a@example.com,"Smith, J\nb@example.com,Bob\n'
            b'c@example.com,"Lin, Ada"\nd@example.com,D\n',
            [(2, 2)],
            {"b", "c", "d"},
        ),
        # Two of them, and a quote in the middle of a cell, which is just a character.
        (
            b'a@example.com,"A\nb@example.com,O"Brien\nc@example.com,"C\nd@example.com,D\n',
            [(2, 1), (4, 1)],
            {"b", "d"},
        ),
        # An open quote in the address cell.
        (b'"a@example.com,A\nb@example.com,B\n', [(2, 1)], {"b"}),
        # Quoted cells that span lines and are closed are one cell, as always.
        (
            b'a@example.com,"Ada\nLin"\nb@example.com,"Bo ""B""\r\nWang"\nc@example.com,C\n',
            [],
            {"a", "b", "c"},
        ),
    ],
)
def test_open_quotes_take_no_rows_with_them(
    engine: sa.Engine, data: bytes, rejected: list[tuple[int, int]], imported: set[str]
) -> None:
    result = run_import(engine, HEADER + data)
    assert [(line, reason.split("next ")[1].split()[0]) for line, reason in result.rejected] == [
        (line, str(count)) for line, count in rejected
    ]
    assert result.members == {f"{name}@example.com" for name in imported}


def test_an_open_quote_that_runs_past_the_cell_limit_takes_no_rows_with_it(
    engine: sa.Engine,
) -> None:
    data = HEADER + b'q@example.com,"Smith, J\n' + rows(0, 10_000)
    result = run_import(engine, data, batch_size=3000)
    assert len(result.rejected) == 1 and result.rejected[0][0] == 2
    assert (
        "a quoted cell opened on this line runs past 65,536 characters" in (result.rejected[0][1])
    )
    assert result.members == keys(0, 10_000)


@pytest.mark.parametrize("size", [CELL_MAX + 1, 1024 * 1024 + 10])
def test_an_oversized_cell_rejects_its_row_not_the_import(engine: sa.Engine, size: int) -> None:
    data = b"email,name,note\n" + rows(0, 3).replace(b"\n", b",\n")
    data += b"big@example.com,Big," + b"x" * size + b"\n" + rows(3, 3).replace(b"\n", b",\n")
    # A cell of exactly the limit is stored whole.
    data += b"full@example.com,Full," + ("\u00e9" * CELL_MAX).encode() + b"\n"
    result = run_import(engine, data)
    assert result.rejected == [(5, "a cell is longer than 65,536 characters")]
    assert result.problems[0].email == "big@example.com"
    assert result.members == keys(0, 6) | {"full@example.com"}


@pytest.fixture
def weekly(db_project: Project, cli: Cli) -> Cli:
    assert cli("lists", "create", "weekly").code == 0
    return cli


def test_the_cli_reports_damaged_rows_by_file_and_line(db_project: Project, weekly: Cli) -> None:
    big = b"big@example.com," + b"x" * (CELL_MAX + 1)
    data = b"email,note\n" + big + b'\nq@example.com,"open\nok@example.com,fine\n'
    (db_project.root / "in.csv").write_bytes(data)
    result = weekly("subscribers", "import", "in.csv", "--list", "weekly")
    assert result.code == 0, result.err
    assert result.err.splitlines() == [
        "in.csv:2: rejected 'big@example.com': a cell is longer than 65,536 characters",
        "in.csv:3: rejected 'q@example.com': a quote opened on this line is never closed (it "
        "would take in the next 1 line, which is read as a row of its own)",
    ]
    assert "1 imported, 0 updated, 0 unchanged, 2 rejected" in result.out
