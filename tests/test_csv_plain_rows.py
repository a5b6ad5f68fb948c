"""The plain path of the CSV reader gives exactly the rows and rejections the full row check
gives, for any cells: it is a shortcut, never a second set of rules."""

from __future__ import annotations

import io

from hypothesis import given, settings
from hypothesis import strategies as st

from mailer.audience.attributes import InvalidField
from mailer.audience.csv_chunks import read_chunks
from mailer.audience.csv_headers import read_header
from mailer.audience.csv_plain_rows import parse_plain_rows
from mailer.audience.csv_rows import CsvHeader, parse_row
from mailer.audience.staged import BatchBuilder, StagedBatch, StagedRow

ADDRESSES = [
    "ada@example.com",
    "Ada@Example.COM",
    "x.y+tag@sub.example.org",
    "李雷@例子.中国",
    "bo@例子.中国",
    "a..b@example.com",
    "a@-bad-.com",
    "a@localhost",
    "a@123.123.123.123",
    "a@b",
    '"quoted"@example.com',
    f"{'l' * 64}@example.com",
    f"{'l' * 65}@example.com",
    f"ok@{'d' * 60}.{'e' * 60}.{'f' * 60}.{'g' * 60}.com",
    "",
    "no-at-sign",
]
PADDING = st.sampled_from(["", " ", "\t", "\u00a0", "\u0085", "\n"])
EMAIL = st.builds(
    lambda pad, address, end: pad + address + end, PADDING, st.sampled_from(ADDRESSES), PADDING
)
ZONE = st.sampled_from(["", "Asia/Shanghai", " Europe/Madrid ", "Mars/Olympus", "utc"])
NAME = st.one_of(
    st.sampled_from(["", "Ada  Lin", " 王芳 ", "x" * 201, "a\u2003b", "O'Brien"]),
    st.text(max_size=8).filter(lambda text: "\x00" not in text and not text.startswith("'")),
)
TAGS = st.sampled_from(["", "ai", "ai; policy", "ai,ai", " ; ", "chips;", "=1"])
# The reader sends a file with a NUL byte or a cell starting with an apostrophe (an escaped
# formula) to the full check as a whole, so the plain path never sees those.
CELL = st.one_of(
    st.sampled_from(["", " ", "CN", "x'y"]),
    st.text(max_size=6).filter(lambda text: "\x00" not in text and not text.startswith("'")),
)
HEADERS = [
    ["email", "name", "timezone", "country", "tags"],
    ["Name", "EMAIL", "tags"],
    ["email"],
    ["country", "email", "", "timezone"],
    ["EMAIL", "City", "TimeZone", "Tags"],
    # Other tools' exports: first and last name joined, rows kept out, a JSON column.
    ["Email Address", "First Name", "Last Name", "TAGS", "UNSUB_TIME"],
    ["uuid", "email", "name", "attributes", "status", "created_at"],
]
JSON_CELL = st.sampled_from(
    [
        "",
        "{}",
        '{"city": "Paris"}',
        '{"Home City": " x ", "n": 2}',
        '{"tags": ["a", "b"]}',
        "[1]",
        "{",
    ]
)
OTHER_TOOLS = {
    "email address": EMAIL,
    "first name": NAME,
    "last name": NAME,
    "unsub_time": st.sampled_from(["", "", "2020-01-01 10:00:00"]),
    "attributes": JSON_CELL,
    "status": st.sampled_from(["enabled", "blocklisted", " ", ""]),
}


def _row(header: list[str], draw: st.DrawFn) -> list[str]:
    makers = {"email": EMAIL, "name": NAME, "timezone": ZONE, "tags": TAGS, **OTHER_TOOLS}
    cells = [draw(makers.get(name.lower(), CELL)) for name in header]
    cut = draw(st.sampled_from([0, 0, 0, 1, -1]))
    if cut == 1:
        cells.append(draw(CELL))
    elif cut == -1 and len(cells) > 1:
        cells.pop()
    return cells


@st.composite
def chunks(draw: st.DrawFn) -> tuple[list[str], list[list[str]]]:
    header = draw(st.sampled_from(HEADERS))
    rows = draw(st.lists(st.builds(lambda: None).map(lambda _: _row(header, draw)), max_size=12))
    if rows and draw(st.booleans()):
        rows.append(list(draw(st.sampled_from(rows))))  # the same row again: merged
    return header, rows


def _full_path(header: CsvHeader, lines: list[int], rows: list[list[str]]
               ) -> tuple[StagedBatch, list[tuple[int, str]]]:  # fmt: skip
    builder = BatchBuilder()
    rejected: list[tuple[int, str]] = []
    for line, cells in zip(lines, rows, strict=True):
        try:
            builder.add(parse_row(header, cells, line))
        except InvalidField as exc:
            rejected.append((line, str(exc)))
    return builder.take(), rejected


def _plain_path(header: CsvHeader, lines: list[int], rows: list[list[str]]
                ) -> tuple[StagedBatch, list[tuple[int, str]]]:  # fmt: skip
    rejected: list[tuple[int, str]] = []

    def full_check(cells: list[str], line: int) -> StagedRow | None:
        try:
            return parse_row(header, cells, line)
        except InvalidField as exc:
            rejected.append((line, str(exc)))
            return None

    batch = parse_plain_rows(header, lines, [list(cells) for cells in rows], full_check)
    return batch, sorted(rejected)


def _by_key(batch: StagedBatch) -> dict[str, StagedRow]:
    return {row[0]: row for row in batch.columns.rows()}


@settings(max_examples=400, deadline=None)
@given(chunk=chunks())
def test_the_plain_path_agrees_with_the_full_check(
    chunk: tuple[list[str], list[list[str]]],
) -> None:
    names, rows = chunk
    header = read_header(names, "t.csv")
    lines = list(range(2, 2 + len(rows)))
    full_batch, full_rejected = _full_path(header, lines, rows)
    plain_batch, plain_rejected = _plain_path(header, lines, rows)
    assert plain_rejected == full_rejected
    assert _by_key(plain_batch) == _by_key(full_batch)
    assert sorted(plain_batch.repeats) == sorted(full_batch.repeats)


def test_rows_after_an_unusual_byte_are_still_read_right() -> None:
    # A NUL byte late in the file sends the reader to the full check; the rows before and
    # after it come out as they would anyway.
    body = "email,name\n" + "".join(f"r{n}@example.com,R {n}\n" for n in range(30))
    body += "bad@example.com,Nul\x00Name\n" + "late@example.com,'=Late\n"
    chunk_list = list(read_chunks(io.BytesIO(body.encode()), "t.csv", 7))
    rows = [row for chunk in chunk_list for row in chunk.batch.columns.rows()]
    rejected = [problem for chunk in chunk_list for problem in chunk.rejected]
    assert len(rows) == 31
    assert [(problem.line, problem.reason) for problem in rejected] == [(32, "holds a NUL byte")]
    assert rows[-1][:2] == ("late@example.com", "late@example.com")
    assert rows[-1][3] == "=Late" and rows[-1][6] == 33
