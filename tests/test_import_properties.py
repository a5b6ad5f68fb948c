"""The importer under pressure: arbitrary CSV never crashes it, never loses a valid row, every
rejected row is reported at its line; a killed import leaves a consistent database and a rerun
completes it."""

from __future__ import annotations

import csv
import io
import itertools
import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailer.audience.addresses import normalize_address
from mailer.audience.csv_import import RowProblem, import_csv
from mailer.audience.lists import create_list, find_list
from mailer.db.migrate import open_database
from mailer.db.tables import memberships, subscribers
from mailer.errors import MailerError
from tests.conftest import Project

VALID = ["ada@example.com", "Bo@Example.net", "李雷@例子.中国", "x.y+tag@sub.example.org", "z@b.cn"]
INVALID = [
    "not-an-address",
    "a@",
    "@example.com",
    "a b@example.com",
    "ada@@example.com",
    "x@-x-.com",
]
# Cells full of what breaks naive CSV handling: separators, quotes, every kind of line break.
CELL_TEXT = st.text(alphabet=st.sampled_from(list("ab王, ;\"'\n\r\t=\x00é")), max_size=12)
_names = itertools.count()


@pytest.fixture
def shared_engine(module_engine: sa.Engine) -> sa.Engine:
    return module_engine


def fresh_list(engine: sa.Engine) -> str:
    name = f"list-{next(_names)}"
    create_list(engine, name)
    return name


def member_keys(engine: sa.Engine, list_name: str) -> set[str]:
    with engine.connect() as connection:
        list_id = find_list(connection, list_name).id
        query = (
            sa.select(subscribers.c.email_key)
            .join(memberships, memberships.c.subscriber_id == subscribers.c.id)
            .where(memberships.c.list_id == list_id)
        )
        return set(connection.execute(query).scalars())


def _case_and_space(address: str, data: st.DataObject) -> str:
    cased = "".join(
        char.upper() if data.draw(st.booleans(), label="upper") else char for char in address
    )
    return (
        data.draw(st.sampled_from(["", " ", "\t"])) + cased + data.draw(st.sampled_from(["", " "]))
    )


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_valid_rows_are_never_lost_and_rejected_rows_are_reported_at_their_line(
    shared_engine: sa.Engine, data: st.DataObject
) -> None:
    count = data.draw(st.integers(min_value=0, max_value=25), label="rows")
    rows: list[tuple[str, str, str]] = []
    valid: list[bool] = []
    for _ in range(count):
        is_valid = data.draw(st.booleans(), label="valid")
        pool = VALID if is_valid else INVALID
        email = _case_and_space(data.draw(st.sampled_from(pool)), data)
        row = (email, data.draw(CELL_TEXT), data.draw(CELL_TEXT))
        rows.append(row)
        # A NUL byte cannot be stored (PostgreSQL refuses it), so such rows are rejected too.
        valid.append(is_valid and "\x00" not in "".join(row))
    # With "\n" rows, a cell holding "\r" is only safe quoted: the csv module's minimal
    # quoting looks at the line terminator's characters alone.
    lineterminator, quoting = data.draw(
        st.sampled_from([("\r\n", csv.QUOTE_MINIMAL), ("\n", csv.QUOTE_ALL)])
    )
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=lineterminator, quoting=quoting)
    writer.writerow(["email", "name", "city"])
    expected_lines: list[int] = []
    line = 2
    for row, is_valid in zip(rows, valid, strict=True):
        start = out.tell()
        writer.writerow(row)
        if not is_valid:
            expected_lines.append(line)
        line += len(re.findall(r"\r\n|\r|\n", out.getvalue()[start:]))
    bom = data.draw(st.sampled_from(["", "\ufeff"]))
    list_name = fresh_list(shared_engine)
    problems: list[RowProblem] = []
    summary = import_csv(
        shared_engine,
        io.BytesIO((bom + out.getvalue()).encode("utf-8")),
        list_name,
        source="property",
        batch_size=data.draw(st.sampled_from([1, 3, 2000])),
        on_problem=problems.append,
    )
    assert summary.rows == count
    assert sum(summary.counts.values()) == count
    assert [problem.line for problem in problems] == expected_lines
    assert all(problem.outcome == "rejected" for problem in problems)
    wanted = {normalize_address(row[0]).key for row, ok in zip(rows, valid, strict=True) if ok}
    assert summary.counts["rejected"] == len(expected_lines)
    assert member_keys(shared_engine, list_name) == wanted


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    body=st.one_of(
        st.binary(max_size=300),
        st.text(max_size=300).map(str.encode),
        st.lists(st.lists(CELL_TEXT, max_size=5), max_size=8).map(
            lambda rows: "\n".join(",".join(cells) for cells in rows).encode()
        ),
    ),
    header=st.sampled_from([b"email,name,city\n", b"\xef\xbb\xbfemail\r\n", b""]),
)
def test_arbitrary_bytes_never_crash_the_importer(
    shared_engine: sa.Engine, header: bytes, body: bytes
) -> None:
    list_name = fresh_list(shared_engine)
    problems: list[RowProblem] = []
    try:
        summary = import_csv(
            shared_engine,
            io.BytesIO(header + body),
            list_name,
            source="fuzz.csv",
            on_problem=problems.append,
        )
    except MailerError as error:
        assert str(error).startswith("fuzz.csv:")
        return
    assert sum(summary.counts.values()) == summary.rows
    assert len(problems) == summary.counts["rejected"] + summary.counts["suppressed"]
    assert len(member_keys(shared_engine, list_name)) <= summary.rows


def _big_csv(path: Path, rows: int) -> int:
    """Write ``rows`` rows, every 100th invalid; returns how many are valid."""
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("email,name,city\n")
        for index in range(rows):
            if index % 100 == 99:
                out.write(f"broken-{index}@,Nobody,\n")
            else:
                out.write(f"reader{index}@example.com,Reader {index},City {index % 50}\n")
    return rows - rows // 100


def test_a_killed_import_leaves_a_consistent_database_and_a_rerun_completes_it(
    db_project: Project, database_url: str
) -> None:
    engine = open_database(database_url)
    create_list(engine, "weekly")
    total = 150_000
    valid = _big_csv(db_project.root / "big.csv", total)
    command = [
        sys.executable,
        "-m",
        "mailer",
        "--config",
        str(db_project.config),
        "subscribers",
        "import",
        "big.csv",
        "--list",
        "weekly",
        "--json",
    ]
    process = subprocess.Popen(
        command, cwd=db_project.root, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        # Kill it once some batches are in and well before the end.
        deadline = time.monotonic() + 120
        while len(member_keys(engine, "weekly")) < 6000:
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline
            time.sleep(0.02)
        process.send_signal(signal.SIGKILL)
    finally:
        process.communicate()
    assert process.returncode == -signal.SIGKILL
    with engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            assert connection.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
        # Whole batches only: no subscriber row without its membership.
        orphans = connection.execute(
            sa.select(sa.func.count())
            .select_from(subscribers)
            .where(~sa.exists().where(memberships.c.subscriber_id == subscribers.c.id))
        ).scalar_one()
        assert orphans == 0
    done = len(member_keys(engine, "weekly"))
    assert 6000 <= done < valid
    rerun = subprocess.run(command, cwd=db_project.root, capture_output=True, check=True)
    summary = json.loads(rerun.stdout)
    assert summary["unchanged"] == done
    assert summary["imported"] == valid - done
    assert summary["rejected"] == total - valid
    assert len(member_keys(engine, "weekly")) == valid
    engine.dispose()
