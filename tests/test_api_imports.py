"""``/api/v1/imports`` and ``/api/v1/exports`` on a real server: a multipart upload with its
column mapping imported in the server, its progress and counts read back, its rejected rows
as CSV with line and reason; uploads past the limit, without a file, with a wrong mapping or
list refused as problems naming the field, nothing kept; exports streamed with formulas made
text; roles without ``manage_audience`` refused."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from mailer.accounts.audit import entries
from mailer.audience.import_files import FOLDER
from mailer.audience.lists import create_list
from tests.api_helpers import UNLIMITED, Api, assert_problem, serve_api
from tests.conftest import DATABASE_BACKENDS

PEOPLE = (
    b"Email,Full name,Country,Country\r\n"
    b"ann@example.com,Ann,DE,x\r\n"
    b"nobody,Bob,FR,x\r\n"
    b"cy@example.com,=1+2,NL,x\r\n"
)
MAPPING = json.dumps(["email", "name", "attribute:country", ""])


@pytest.fixture(scope="module", params=DATABASE_BACKENDS)
def api(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    env = UNLIMITED | {"MAILER_ADMIN_MAX_UPLOAD_MIB": "1"}
    for api in serve_api(request, tmp_path_factory, env):
        create_list(api.mailer.engine, "weekly")
        yield api


def stored(api: Api) -> list[str]:
    folder = api.mailer.settings.paths.var / FOLDER
    return sorted(path.name for path in folder.iterdir()) if folder.is_dir() else []


def post_import(client: httpx.Client, data: bytes = PEOPLE, **fields: str) -> httpx.Response:
    form = {"list": "weekly", "mapping": MAPPING, "confirmed": "true"} | fields
    return client.post("/imports", data=form, files={"file": ("people.csv", data, "text/csv")})


def finished(client: httpx.Client, path: str) -> dict[str, Any]:
    for _ in range(600):
        body: dict[str, Any] = client.get(path).json()
        if body["status"] in ("done", "failed", "interrupted"):
            return body
    raise AssertionError(f"{path} never finished")


def test_import_by_mapping_then_read_progress_counts_and_rejects(api: Api) -> None:
    before = set(stored(api))
    with api.client("admin") as client:
        started = post_import(client)
        assert started.status_code == 202, started.text
        body = started.json()
        assert body["status"] in ("queued", "running", "done")
        assert body["mapping"] == ["email", "name", "attribute:country", ""]
        assert started.headers["location"] == f"/api/v1/imports/{body['id']}"
        done = finished(client, f"/imports/{body['id']}")
        assert done["status"] == "done", done
        assert (done["rows_read"], done["added"], done["rejected"]) == (3, 2, 1)
        assert done["created_by"] == "token:admin-token"
        rejects = client.get(f"/imports/{body['id']}/rejects")
        assert rejects.status_code == 200
        assert rejects.headers["content-type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(rejects.text)))
        assert rows[0] == ["line", "email", "outcome", "reason"]
        assert rows[1][:3] == ["3", "nobody", "rejected"] and "invalid email" in rows[1][3]

        export = client.get("/exports", params={"list": "weekly"})
        assert export.status_code == 200 and export.headers["content-type"].startswith("text/")
        exported = list(csv.reader(io.StringIO(export.text)))
        assert exported[0] == ["email", "name", "timezone", "country"]
        assert ["cy@example.com", "'=1+2", "", "NL"] in exported
        in_de = client.get("/exports", params={"list": "weekly", "segment": 'country = "DE"'})
        assert [row[0] for row in csv.reader(io.StringIO(in_de.text))] == [
            "email",
            "ann@example.com",
        ]
    actions = {entry.action for entry in entries(api.mailer, limit=50)}
    assert {"import.start", "import.finish", "export.make"} <= actions
    # Only the rejects file is new: the upload is gone once imported.
    assert [name.endswith("-rejects.csv") for name in set(stored(api)) - before] == [True]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"mapping": json.dumps(["email", "email", "", ""])}, "mapping"),
        ({"mapping": json.dumps(["name", "", "", ""])}, "mapping"),
        ({"mapping": "not json"}, "mapping"),
        ({"mapping": json.dumps({"email": 0})}, "mapping"),
        ({"mapping": json.dumps(["email", "attribute:<b>", "", ""])}, "mapping"),
        ({"list": "nope"}, "list"),
        ({"list": "<script>"}, "list"),
        ({"confirmed": "maybe"}, "confirmed"),
    ],
)
def test_a_wrong_field_is_refused_naming_it_and_nothing_is_kept(
    api: Api, fields: dict[str, str], field: str
) -> None:
    before = stored(api)
    with api.client("admin") as client:
        problem = assert_problem(post_import(client, PEOPLE, **fields), 422, field)
    assert "<script>" not in json.dumps(problem).replace("\\u003c", "<") or field == "list"
    assert stored(api) == before


def test_uploads_past_the_limit_or_not_csv_or_not_multipart_are_refused(api: Api) -> None:
    before = stored(api)
    with api.client("admin") as client:
        big = b"email\n" + b"someone@example.com\n" * 80_000
        assert_problem(post_import(client, big), 413, "file")
        assert_problem(post_import(client, b"\x89PNG\r\n\x1a\n\x00\x00"), 422, "file")
        form_only = client.post("/imports", data={"list": "weekly", "mapping": MAPPING})
        assert_problem(form_only, 415)
        no_file = client.post(
            "/imports",
            content=b'--x\r\nContent-Disposition: form-data; name="list"\r\n\r\nweekly\r\n'
            b"--x--\r\n",
            headers={"content-type": "multipart/form-data; boundary=x"},
        )
        assert_problem(no_file, 422, "file")
        other_file = client.post("/imports", files={"photo": ("a.csv", b"email\n")})
        assert_problem(other_file, 400, "photo")
        assert_problem(client.post("/imports", json={"list": "weekly"}), 415)
        garbled = client.post(
            "/imports",
            content=b"--x\r\nnot a part",
            headers={"content-type": "multipart/form-data; boundary=x"},
        )
        assert garbled.status_code == 400 and garbled.json()["status"] == 400
    assert stored(api) == before


def test_unknown_and_unfinished_imports(api: Api) -> None:
    with api.client("admin") as client:
        assert_problem(client.get("/imports/999999"), 404)
        assert_problem(client.get("/imports/999999/rejects"), 404)
        assert_problem(client.get("/imports/0"), 422, "import_id")
        assert_problem(client.get("/exports", params={"list": "nope"}), 422, "list")
        assert_problem(client.get("/exports", params={"list": "weekly", "status": "x"}), 422)
        bad_segment = client.get("/exports", params={"list": "weekly", "segment": "country ="})
        assert_problem(bad_segment, 422, "segment")


@pytest.mark.parametrize("role", ["editor", "viewer"])
def test_roles_without_manage_audience_are_refused(api: Api, role: str) -> None:
    before = stored(api)
    with api.client(role) as client:
        assert_problem(post_import(client), 403)
        assert_problem(client.get("/imports/1"), 403)
        assert_problem(client.get("/imports/1/rejects"), 403)
        assert_problem(client.get("/exports", params={"list": "weekly"}), 403)
    with api.client(None) as anonymous:
        assert_problem(post_import(anonymous), 401)
    assert stored(api) == before
