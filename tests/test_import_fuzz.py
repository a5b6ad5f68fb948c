"""Any bytes at all: the import completes, its counts add up, every rejection names a line of
the file, and in a file of valid rows mixed with damaged lines (bytes that are not UTF-8, NUL
bytes, stray and unclosed quotes, any line ending) every valid row is imported and every damaged
line is rejected at its own line."""

from __future__ import annotations

import io
import itertools
import re
from dataclasses import dataclass, field

import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from mailer.audience.csv_import import RowProblem, import_csv
from tests.test_import_properties import fresh_list, member_keys

_examples = itertools.count()
LINE_BREAKS = [b"\n", b"\r\n", b"\r"]
# After a quote, anything but what would close a quoted cell (a comma, a line end, another quote
# or the end of the file). A stray quote is then either closed nowhere or by a quote that is not
# followed by a comma or a line end: the two ways a quote is left open.
SAFE = [b"a", b"Z", b"7", b" ", b"'", b"\xe9", b"\xc3\xa9", b"\xff", b"\x00", b";"]
# Damaged lines never hold an "@", so no reading of them yields an address.
JUNK = st.lists(
    st.one_of(
        st.sampled_from([b",", b"x", b" ", b"'", b"\x00", b"\xff", b"\xe4\xb8", b"\xc3", b"\xf0"]),
        st.sampled_from(SAFE).map(lambda after: b'"' + after),
        st.binary(max_size=4).map(lambda raw: re.sub(rb'[\r\n"@]', b"", raw)),
    ),
    max_size=8,
).map(b"".join)
# How a damaged line starts, so that its address cell is never an address and never blank.
DAMAGE = st.sampled_from([b'"x', b'"\xff', b"bad", b"\xff", b"b\xe9d", b"\x00", b"nul\x00"])
# Cell text of valid rows; inside quotes it may hold commas, quotes and line breaks, but it does
# not start with what would close a stray quote opened before it.
PLAIN_CELL = st.text(alphabet="abc XYZ王é'-", max_size=8).filter(lambda text: text.strip() == text)
QUOTED_CELL = st.builds(
    lambda first, rest: '"' + first + rest.replace('"', '""') + '"',
    st.sampled_from(list("aZ王 ")),
    st.text(alphabet='ab ,"\n\r王', max_size=10),
)


@dataclass
class Generated:
    data: bytearray = field(default_factory=bytearray)
    line: int = 1
    valid: set[str] = field(default_factory=set)
    damaged: list[int] = field(default_factory=list)
    batch_size: int = 10_000

    def add(self, line: bytes, end: bytes) -> None:
        text = line + end
        # "\r" then "\n" is one line break, even across two of these pieces.
        joined = self.data.endswith(b"\r") and text.startswith(b"\n")
        self.data += text
        self.line += len(re.findall(rb"\r\n|\r|\n", text)) - joined


@st.composite
def damaged_files(draw: st.DrawFn) -> Generated:
    example = next(_examples)
    made = Generated()
    ends = st.sampled_from(LINE_BREAKS)
    made.add(draw(st.sampled_from([b"", b"\xef\xbb\xbf"])) + b"email,name,city", draw(ends))
    # Sometimes many plain rows first, so the damage falls on the reader's 8 KiB and 64 KiB
    # boundaries.
    boundary = draw(st.sampled_from([0, 0, 8192, 65536]))
    # Small batches too, but not a transaction a row for thousands of rows.
    made.batch_size = draw(st.sampled_from([1, 4, 10_000] if not boundary else [997, 10_000]))
    if boundary:
        target = boundary - draw(st.integers(0, 90))
        for number in itertools.count():
            row = f"f{example}x{number}@example.com,Filler,".encode()
            if len(made.data) + len(row) + 1 > target:
                break
            made.valid.add(f"f{example}x{number}@example.com")
            made.add(row, b"\n")
    kinds = draw(st.lists(st.sampled_from(["valid", "damaged", "blank"]), max_size=14))
    for number, kind in enumerate(kinds):
        end = draw(ends) if number < len(kinds) - 1 else draw(st.sampled_from([b"", *LINE_BREAKS]))
        if kind == "valid":
            email = f"v{example}x{number}@example.com"
            cells = [draw(st.one_of(PLAIN_CELL, QUOTED_CELL)) for _ in range(2)]
            made.valid.add(email)
            made.add(",".join([email, *cells]).encode(), end)
        elif kind == "damaged":
            made.damaged.append(made.line)
            made.add(draw(DAMAGE) + draw(JUNK), end)
        else:
            made.add(draw(st.sampled_from([b"", b"  ", b",,"])), end)
    return made


def _import(engine: sa.Engine, data: bytes, batch_size: int) -> tuple[list[RowProblem], str]:
    list_name = fresh_list(engine)
    problems: list[RowProblem] = []
    summary = import_csv(
        engine,
        io.BytesIO(data),
        list_name,
        source="fuzz.csv",
        batch_size=batch_size,
        on_problem=problems.append,
    )
    assert sum(summary.counts.values()) == summary.rows
    assert summary.counts["rejected"] == len(problems)
    lines = len(re.findall(rb"\r\n|\r|\n", data)) + 1
    assert all(2 <= problem.line <= lines for problem in problems), problems
    assert all(problem.reason and problem.outcome == "rejected" for problem in problems)
    return problems, list_name


@settings(max_examples=200, deadline=None)
@given(made=damaged_files())
def test_every_valid_row_is_imported_and_every_damaged_line_rejected_at_its_line(
    module_engine: sa.Engine, made: Generated
) -> None:
    problems, list_name = _import(module_engine, bytes(made.data), made.batch_size)
    assert [problem.line for problem in problems] == made.damaged
    assert member_keys(module_engine, list_name) == made.valid


@settings(max_examples=200, deadline=None)
@given(
    body=st.one_of(
        st.binary(max_size=400),
        st.lists(
            st.sampled_from(
                [
                    b"a@example.com",
                    b"b@example.com,B",
                    b",",
                    b'"',
                    b"\n",
                    b"\r",
                    b"\x00",
                    b"\xff",
                    b"\xe4\xb8",
                    b"'=1",
                    b" ",
                    b"\xef\xbb\xbf",
                ]
            ),
            max_size=60,
        ).map(b"".join),
    ),
    cut=st.sampled_from([b"", b"", b"\xe4\xb8", b"\xc3", b"\xf0\x9f\x98"]),
    batch_size=st.sampled_from([1, 3, 10_000]),
)
def test_any_bytes_after_a_header_give_a_completed_import(
    module_engine: sa.Engine, body: bytes, cut: bytes, batch_size: int
) -> None:
    # Whatever comes before, a last row on a line of its own is read as a row: imported, or
    # rejected if the file ends inside a character.
    data = b"email,name\n" + body + b"\nlast@example.com,Last" + cut
    problems, list_name = _import(module_engine, data, batch_size)
    members = member_keys(module_engine, list_name)
    assert len(members) <= data.count(b"@")
    last_line = len(re.findall(rb"\r\n|\r|\n", data)) + 1
    if cut:
        assert (problems[-1].line, problems[-1].reason) == (last_line, "not valid UTF-8")
        assert "last@example.com" not in members
    else:
        assert "last@example.com" in members
