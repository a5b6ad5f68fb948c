"""Imports and exports in the admin app on a real ``mailer serve``: a CSV uploaded (its CSRF
token checked before a byte is stored), its columns chosen, the import run in the server's
thread to the end, its rejected rows downloaded with line and reason; uploads past
``[admin] max_upload_mib``, without a token, or not CSV refused with nothing left behind;
columns mapped twice refused naming the column; hostile names and cells shown escaped; an
export whose cells a spreadsheet cannot run; roles without ``manage_audience`` refused."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator

import httpx
import pytest

from mailer.accounts.roles import Role
from mailer.audience.import_files import FOLDER
from mailer.audience.lists import create_list
from mailer.db.engine import create_db_engine
from tests.admin_helpers import OWNER, VIEWER, add_account, csrf_token, form_token, logged_in
from tests.conftest import Project
from tests.web_server import WebServer

EDITOR = "editor@example.com"
HOSTILE = '<script>alert("x")</script>'
# A file with a hostile header, hostile cells and a hostile file name, and two bad rows.
PEOPLE = (
    f"email,name,{HOSTILE}\r\n"
    f"ann@example.com,Ann,{HOSTILE}\r\n"
    "nobody,Bob,x\r\n"
    'cy@example.com,"=HYPERLINK(""http://evil"")",y\r\n'
    "dee@,Dee,z\r\n"
).encode()
HOSTILE_NAME = "<img src=x onerror=alert(1)>.csv"


@pytest.fixture
def server(db_project: Project, start_web_server: Callable[..., WebServer]) -> Iterator[WebServer]:
    for email, role in ((OWNER, Role.OWNER), (EDITOR, Role.EDITOR), (VIEWER, Role.VIEWER)):
        add_account(db_project, email, role)
    engine = create_db_engine(db_project.settings().database.url)
    create_list(engine, "weekly")
    engine.dispose()
    yield start_web_server(env={"MAILER_ADMIN_MAX_UPLOAD_MIB": "1"})


@pytest.fixture
def owner(server: WebServer) -> Iterator[httpx.Client]:
    with logged_in(server, OWNER) as client:
        yield client


def stored(project: Project) -> list[str]:
    folder = project.settings().paths.var / FOLDER
    return sorted(path.name for path in folder.iterdir()) if folder.is_dir() else []


def post_upload(
    client: httpx.Client, data: bytes, name: str = "people.csv", token: str | None = None
) -> httpx.Response:
    fields = (
        {} if token == "" else {"csrf_token": token or form_token(client, "/admin/imports/new")}
    )
    return client.post("/admin/imports/new", data=fields, files={"file": (name, data, "text/csv")})


def wait_until_finished(client: httpx.Client, path: str) -> httpx.Response:
    """The import's page once it is done or failed (the server's thread runs it)."""
    for _ in range(600):
        page = client.get(path, headers={"HX-Request": "true"})
        status = re.search(r'data-status="([a-z]+)"', page.text)
        assert status, page.text
        if status.group(1) in ("done", "failed", "interrupted"):
            return client.get(path)
        client.get("/admin/imports")  # a request between polls, not a sleep
    raise AssertionError(f"{path} never finished")


def test_upload_choose_columns_import_and_download_the_rejected_rows(
    owner: httpx.Client, db_project: Project
) -> None:
    uploaded = post_upload(owner, PEOPLE, name=HOSTILE_NAME)
    assert uploaded.status_code == 303, uploaded.text
    columns_path = uploaded.headers["location"]
    assert re.fullmatch(r"/admin/imports/\d+/columns", columns_path)
    columns = owner.get(columns_path)
    assert columns.status_code == 200
    assert HOSTILE not in columns.text and "&lt;script&gt;" in columns.text
    assert "<img src=x" not in columns.text
    # The hostile header is no valid attribute name: it is offered as ignored.
    select = re.search(r'<select id="target-2".*?</select>', columns.text, re.S)
    assert select and '<option value="" selected>ignored' in select.group(0)

    twice = owner.post(
        columns_path,
        data={
            "csrf_token": csrf_token(columns),
            "target-0": "email",
            "target-1": "email",
            "target-2": "",
            "list": "weekly",
        },
    )
    assert twice.status_code == 400 and "column 2" in twice.text and "already" in twice.text

    started = owner.post(
        columns_path,
        data={
            "csrf_token": csrf_token(columns),
            "target-0": "email",
            "target-1": "name",
            "target-2": "attribute",
            "key-2": "note",
            "list": "weekly",
            "confirmed": "1",
        },
    )
    assert started.status_code == 303, started.text
    page = wait_until_finished(owner, started.headers["location"])
    assert 'data-status="done"' in page.text
    counts = dict(re.findall(r'data-count="([a-z_]+)">(\d+)<', page.text))
    assert counts == {
        "rows_read": "4",
        "added": "2",
        "updated": "0",
        "unchanged": "0",
        "rejected": "2",
        "suppressed": "0",
    }
    assert "<img src=x" not in page.text and "&lt;img src=x" in page.text
    link = re.search(r'href="(/admin/imports/\d+/rejects\.csv)"', page.text)
    assert link, page.text
    rejects = owner.get(link.group(1))
    assert rejects.status_code == 200
    assert rejects.headers["content-type"].startswith("text/csv")
    assert "attachment" in rejects.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(rejects.text)))
    assert [row[:3] for row in rows] == [
        ["line", "email", "outcome"],
        ["3", "nobody", "rejected"],
        ["5", "dee@", "rejected"],
    ]
    assert all("invalid email address" in row[3] for row in rows[1:])
    listing = owner.get("/admin/imports")
    assert "&lt;img src=x" in listing.text and "done" in listing.text
    # Only the rejects are kept: the upload itself is gone.
    assert [name.endswith("-rejects.csv") for name in stored(db_project)] == [True]


def test_an_upload_past_the_limit_is_refused_and_nothing_is_left(
    owner: httpx.Client, db_project: Project
) -> None:
    big = b"email\n" + b"someone@example.com\n" * 80_000  # 1.6 MB, over 1 MiB
    answer = post_upload(owner, big)
    assert answer.status_code == 413
    assert "larger than 1 MiB" in answer.text
    # Streamed without a declared length, it is cut off as it arrives.
    token = form_token(owner, "/admin/imports/new")
    boundary = "b0undary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{token}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.csv"\r\n'
        "Content-Type: text/csv\r\n\r\n"
    ).encode()

    def body() -> Iterator[bytes]:
        yield head
        for _ in range(40):
            yield b"someone@example.com\n" * 2000
        yield f"\r\n--{boundary}--\r\n".encode()

    streamed = owner.post(
        "/admin/imports/new",
        content=body(),
        headers={"content-type": f"multipart/form-data; boundary={boundary}"},
    )
    assert streamed.status_code == 413
    assert stored(db_project) == []


def test_an_upload_without_its_token_is_refused_before_anything_is_stored(
    owner: httpx.Client, db_project: Project
) -> None:
    for token in ("", "forged-token"):
        answer = post_upload(owner, PEOPLE, token=token)
        assert answer.status_code == 403
        assert "The form could not be sent" in answer.text
    plain = owner.post("/admin/imports/new", data={"file": "email\nann@example.com\n"})
    assert plain.status_code == 403
    assert stored(db_project) == []


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00", "not a CSV file"),
        (b"", "the file is empty"),
    ],
)
def test_a_file_that_is_not_csv_is_refused_naming_it(
    owner: httpx.Client, db_project: Project, data: bytes, problem: str
) -> None:
    answer = post_upload(owner, data, name="picture.png")
    assert answer.status_code == 400
    assert problem in answer.text
    assert stored(db_project) == []


def test_an_export_downloads_csv_whose_formulas_are_text(owner: httpx.Client) -> None:
    uploaded = post_upload(owner, PEOPLE)
    columns = owner.get(uploaded.headers["location"])
    started = owner.post(
        uploaded.headers["location"],
        data={
            "csrf_token": csrf_token(columns),
            "target-0": "email",
            "target-1": "name",
            "target-2": "",
            "list": "weekly",
        },
    )
    wait_until_finished(owner, started.headers["location"])
    token = form_token(owner, "/admin/imports")
    export = owner.post("/admin/exports", data={"csrf_token": token, "list": "weekly"})
    assert export.status_code == 200
    assert export.headers["content-disposition"] == 'attachment; filename="weekly.csv"'
    rows = list(csv.reader(io.StringIO(export.text)))
    assert rows[0] == ["email", "name", "timezone"]
    assert ["cy@example.com", '\'=HYPERLINK("http://evil")', ""] in rows
    for field, value in (("status", "gone"), ("segment", 'country = "'), ("list", HOSTILE)):
        data = {"csrf_token": token, "list": "weekly", field: value}
        refused = owner.post("/admin/exports", data=data)
        assert refused.status_code == 400, field
        assert field in refused.text and HOSTILE not in refused.text
    assert owner.post("/admin/exports", data={"list": "weekly"}).status_code == 403


@pytest.mark.parametrize("who", [EDITOR, VIEWER])
def test_roles_without_manage_audience_are_refused(server: WebServer, who: str) -> None:
    with logged_in(server, who) as client:
        token = form_token(client, "/admin")
        for path in (
            "/admin/imports",
            "/admin/imports/new",
            "/admin/imports/1",
            "/admin/imports/1/columns",
            "/admin/imports/1/rejects.csv",
        ):
            assert client.get(path).status_code == 403, path
        upload = post_upload(client, PEOPLE, token=token)
        assert upload.status_code == 403 and "managing lists and subscribers" in upload.text
        export = client.post("/admin/exports", data={"csrf_token": token, "list": "weekly"})
        assert export.status_code == 403


def test_unknown_imports_are_not_found(owner: httpx.Client) -> None:
    for path in (
        "/admin/imports/999",
        "/admin/imports/999/columns",
        "/admin/imports/9/rejects.csv",
    ):
        assert owner.get(path).status_code == 404, path
