"""Imports and exports through the actions layer (as the admin app and the API call them):
an upload stored privately and refused past its limit or when it is not CSV, a column
mapping chosen by position, the import run to the end with its counts, its rejected rows as
CSV with line and reason, the audit log, an import whose process died shown as interrupted,
exports that a spreadsheet cannot run as formulas, and every role without
``manage_audience`` refused."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest

from mailer.accounts.audit import entries
from mailer.accounts.errors import Forbidden
from mailer.accounts.roles import Principal, Role
from mailer.actions import imports
from mailer.app import Mailer
from mailer.audience.import_files import FOLDER, UploadTooLarge
from mailer.audience.import_jobs import STALE_AFTER
from mailer.audience.lists import create_list
from mailer.audience.subscribers import find_subscribers
from mailer.errors import FieldError
from tests.conftest import Project
from tests.service_helpers import MovingClock

ADMIN = Principal("user", "ann@example.com", Role.ADMIN, True, user_id=1)
EDITOR = Principal("user", "ed@example.com", Role.EDITOR, False, user_id=2)
VIEWER = Principal("token", "reader", Role.VIEWER, False, token_id=3)

PEOPLE = (
    "Courriel,Nom,Pays,Pays,Notes\r\n"
    "ann@example.com,Ann,DE,x,first\r\n"
    "not-an-address,Bob,FR,x,second\r\n"
    'cy@example.com,=HYPERLINK("http://evil"),NL,x,third\r\n'
    ",Nobody,NL,x,fourth\r\n"
)


@pytest.fixture
def clock() -> MovingClock:
    return MovingClock(datetime(2026, 12, 7, 9, 0, tzinfo=UTC))


@pytest.fixture
def mailer(db_project: Project, clock: MovingClock) -> Iterator[Mailer]:
    app = Mailer(db_project.settings(), clock=clock, environ={})
    create_list(app.engine, "weekly")
    yield app
    app.close()


def upload(mailer: Mailer, data: bytes, name: str = "people.csv") -> int:
    writer = imports.begin_upload(mailer, ADMIN)
    writer.write(data)
    writer.finish()
    return imports.record_upload(mailer, ADMIN, writer, name)


def stored_files(mailer: Mailer) -> list[str]:
    return sorted(path.name for path in (mailer.settings.paths.var / FOLDER).iterdir())


MAPPING = ("email", "name", "attribute:country", "", "")


def test_an_import_by_mapping_adds_the_good_rows_and_reports_the_others_by_line(
    mailer: Mailer,
) -> None:
    import_id = upload(mailer, PEOPLE.encode(), name="../../etc/people (2).csv")
    preview = imports.upload_preview(mailer, ADMIN, import_id)
    assert preview.header == ["Courriel", "Nom", "Pays", "Pays", "Notes"]
    assert preview.rows[0] == ["ann@example.com", "Ann", "DE", "x", "first"]
    # The header's names suggest attributes; the repeated name is left out.
    assert preview.guessed == (
        "attribute:courriel",
        "attribute:nom",
        "attribute:pays",
        "",
        "attribute:notes",
    )
    folder = mailer.settings.paths.var / FOLDER
    assert folder.stat().st_mode & 0o777 == 0o700
    assert preview.record.file_name == "people (2).csv"

    record = imports.start_import(
        mailer, ADMIN, import_id, list_name="weekly", mapping=MAPPING, confirmed=True, run=False
    )
    assert record.status == "queued"
    done = imports.run_queued(mailer, import_id)
    assert done is not None and done.status == "done"
    assert (done.rows_read, done.added, done.rejected) == (4, 2, 2)
    found = {s.email: s for s in find_subscribers(mailer.engine, list_name="weekly")}
    assert found["ann@example.com"].attributes == {"country": "DE"}
    assert found["cy@example.com"].name == '=HYPERLINK("http://evil")'

    rejects = imports.rejects_file(mailer, ADMIN, import_id)
    assert rejects is not None
    rows = list(csv.reader(io.StringIO(rejects.read_text(encoding="utf-8"))))
    assert rows[0] == ["line", "email", "outcome", "reason"]
    assert [(row[0], row[1], row[2]) for row in rows[1:]] == [
        ("3", "not-an-address", "rejected"),
        ("5", "", "rejected"),
    ]
    assert "invalid email address" in rows[1][3] and rows[2][3] == "no email address"
    # The upload is gone once imported; only the rejects are kept.
    assert stored_files(mailer) == [rejects.name]
    actions = [(entry.action, entry.actor) for entry in entries(mailer)]
    assert actions[:2] == [("import.finish", ADMIN.actor), ("import.start", ADMIN.actor)]
    finish = entries(mailer)[0].detail
    assert finish is not None and finish["added"] == 2 and finish["rejected"] == 2


@pytest.mark.parametrize(
    ("mapping", "problem"),
    [
        (("email", "email", "", "", ""), "already column 1's"),
        (("name", "", "", "", ""), "no column is the email address"),
        (("email", "attribute:a b", "", "", ""), "attribute name"),
        (("email", "attribute:pays", "attribute:PAYS", "", ""), "already column 2's"),
        (("email", "phone", "", "", ""), "use email, name, timezone"),
        (("email", "", ""), "the header row has 5 columns"),
    ],
)
def test_a_wrong_mapping_is_refused_naming_the_column(
    mailer: Mailer, mapping: tuple[str, ...], problem: str
) -> None:
    import_id = upload(mailer, PEOPLE.encode())
    if problem.startswith("the header row"):  # only the file can tell: the import fails
        imports.start_import(
            mailer,
            ADMIN,
            import_id,
            list_name="weekly",
            mapping=mapping,
            confirmed=False,
            run=False,
        )
        failed = imports.run_queued(mailer, import_id)
        assert failed is not None and failed.status == "failed"
        assert failed.error is not None and problem in failed.error
        return
    with pytest.raises(FieldError, match=problem) as refused:
        imports.start_import(
            mailer, ADMIN, import_id, list_name="weekly", mapping=mapping, confirmed=False
        )
    assert refused.value.field == "mapping"


def test_an_unknown_list_is_refused_naming_the_list(mailer: Mailer) -> None:
    import_id = upload(mailer, PEOPLE.encode())
    for name in ("nope", "<b>x</b>"):
        with pytest.raises(FieldError) as refused:
            imports.start_import(
                mailer, ADMIN, import_id, list_name=name, mapping=MAPPING, confirmed=False
            )
        assert refused.value.field == "list"


def test_broken_utf8_rejects_its_row_only(mailer: Mailer) -> None:
    data = b"email,name\nann@example.com,Ann\nbob@example.com,B\xff\xfeb\ncy@example.com,Cy\n"
    import_id = upload(mailer, data)
    imports.start_import(
        mailer,
        ADMIN,
        import_id,
        list_name="weekly",
        mapping=("email", "name"),
        confirmed=False,
        run=False,
    )
    done = imports.run_queued(mailer, import_id)
    assert done is not None and (done.added, done.rejected) == (2, 1)
    rejects = imports.rejects_file(mailer, ADMIN, import_id)
    assert rejects is not None
    assert "3,bob@example.com,rejected,not valid UTF-8" in rejects.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "data", [b"", b"\n\n", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256))]
)
def test_a_file_that_is_not_csv_is_refused_and_deleted(mailer: Mailer, data: bytes) -> None:
    with pytest.raises(FieldError) as refused:
        upload(mailer, data)
    assert refused.value.field == "file"
    assert stored_files(mailer) == []


def test_an_upload_past_the_limit_is_refused_and_deleted(mailer: Mailer) -> None:
    writer = imports.begin_upload(mailer, ADMIN)
    assert writer.limit_bytes == 100 * 1024 * 1024  # [admin] max_upload_mib's default
    writer.write(b"email\n")
    writer.limit_bytes = 1024
    with pytest.raises(UploadTooLarge):
        writer.write(b"x" * 1024)
    assert stored_files(mailer) == []


def test_an_import_whose_process_died_shows_as_interrupted(
    mailer: Mailer, clock: MovingClock
) -> None:
    import_id = upload(mailer, PEOPLE.encode())
    record = imports.start_import(
        mailer, ADMIN, import_id, list_name="weekly", mapping=MAPPING, confirmed=False, run=False
    )
    assert record.shown_status(clock()) == "queued"
    clock.advance(seconds=STALE_AFTER.total_seconds() + 1)
    assert imports.show_import(mailer, ADMIN, import_id).shown_status(clock()) == "interrupted"


def test_an_export_makes_formulas_text_and_follows_status_and_segment(mailer: Mailer) -> None:
    data = (
        "email,name,country\n"
        "ann@example.com,=1+2,DE\n"
        "bob@example.com,@SUM(A1),FR\n"
        "cy@example.com,-3,DE\n"
    )
    import_id = upload(mailer, data.encode())
    imports.start_import(
        mailer,
        ADMIN,
        import_id,
        list_name="weekly",
        mapping=("email", "name", "attribute:country"),
        confirmed=True,
        run=False,
    )
    imports.run_queued(mailer, import_id)
    text = b"".join(imports.export(mailer, ADMIN, "weekly")).decode()
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["email", "name", "timezone", "country"]
    assert [row[1] for row in rows[1:]] == ["'=1+2", "'@SUM(A1)", "'-3"]
    in_de = b"".join(imports.export(mailer, ADMIN, "weekly", segment='country = "DE"')).decode()
    assert [row[0] for row in csv.reader(io.StringIO(in_de))][1:] == [
        "ann@example.com",
        "cy@example.com",
    ]
    none = b"".join(imports.export(mailer, ADMIN, "weekly", status="unconfirmed")).decode()
    assert none.splitlines() == ["email,name,timezone"]  # no member, no attribute
    assert entries(mailer)[0].action == "export.make"
    for field, name, status, segment in (
        ("list", "nope", None, None),
        ("status", "weekly", "gone", None),
        ("segment", "weekly", None, "country = "),
    ):
        with pytest.raises(FieldError) as refused:
            imports.export(mailer, ADMIN, name, status=status, segment=segment)
        assert refused.value.field == field


@pytest.mark.parametrize("who", [EDITOR, VIEWER], ids=["editor", "viewer"])
def test_roles_without_manage_audience_are_refused_everything(
    mailer: Mailer, who: Principal
) -> None:
    import_id = upload(mailer, PEOPLE.encode())
    before = len(entries(mailer))
    refused: list[Callable[[], object]] = [
        lambda: imports.begin_upload(mailer, who),
        lambda: imports.recent_imports(mailer, who),
        lambda: imports.show_import(mailer, who, import_id),
        lambda: imports.start_import(
            mailer, who, import_id, list_name="weekly", mapping=MAPPING, confirmed=False
        ),
        lambda: imports.rejects_file(mailer, who, import_id),
        lambda: imports.export(mailer, who, "weekly"),
    ]
    for attempt in refused:
        with pytest.raises(Forbidden, match="may not manage lists"):
            attempt()
    assert imports.show_import(mailer, ADMIN, import_id).status == "uploaded"
    assert len(entries(mailer)) == before


def test_an_upload_whose_columns_are_never_chosen_is_forgotten_a_day_later(
    mailer: Mailer, clock: MovingClock
) -> None:
    import_id = upload(mailer, PEOPLE.encode())
    assert len(stored_files(mailer)) == 1
    clock.advance(hours=23)
    imports.begin_upload(mailer, ADMIN).discard()
    assert imports.show_import(mailer, ADMIN, import_id).status == "uploaded"
    clock.advance(hours=2)
    imports.begin_upload(mailer, ADMIN).discard()
    forgotten = imports.show_import(mailer, ADMIN, import_id)
    assert forgotten.status == "failed" and forgotten.error == "its columns were never chosen"
    assert stored_files(mailer) == []
