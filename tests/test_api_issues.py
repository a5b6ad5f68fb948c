"""``/api/v1/issues`` on a real server (SQLite and PostgreSQL): the issues paged with their
status and findings, one issue's findings with file:line, its rendered parts, a check, and test
copies sent through the outbox by editors and up (in the audit log); numbers that name no
issue are 404 problems, and hostile input a 422 naming the field."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mailer.accounts.audit import entries
from tests.api_helpers import Api, assert_problem, serve_api
from tests.conftest import DATABASE_BACKENDS

HOSTILE_ISSUE = """---
number: 90
title: '<script>alert("x")</script>'
subject: 'Say "hi" & <b>bold</b>'
date: 2026-12-01
template: digest
---
Hello.

![](https://www.example.com/no-alt.png)
"""
BROKEN_ISSUE = "---\nnumber: 91\ntitle: Broken\n---\nBody.\n"


@pytest.fixture(scope="module", params=DATABASE_BACKENDS)
def api(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    for served in serve_api(request, tmp_path_factory):
        issues = served.server.project.issues
        (issues / "0090-hostile.md").write_text(HOSTILE_ISSUE, encoding="utf-8")
        (issues / "0091-broken.md").write_text(BROKEN_ISSUE, encoding="utf-8")
        yield served


def _outbox(api: Api) -> list[Path]:
    folder = api.server.project.root / "var" / "outbox" / "test"
    return sorted(folder.glob("*.eml")) if folder.is_dir() else []


def test_issues_are_paged_by_number_each_once_with_status_and_findings(api: Api) -> None:
    seen: list[dict[str, Any]] = []
    cursor = None
    with api.client("viewer") as client:
        while True:
            params: dict[str, Any] = {"limit": 1} | ({"cursor": cursor} if cursor else {})
            page = client.get("/issues", params=params)
            assert page.status_code == 200, page.text
            seen += page.json()["items"]
            cursor = page.json()["next_cursor"]
            if cursor is None:
                break
    assert [issue["number"] for issue in seen] == [87, 88, 90, 91]
    first, _, hostile, broken = seen
    assert first["status"] == "ready" and first["date"] == "2018-11-18"
    assert first["errors"] == 0 and first["sent_to"] == []
    assert first["file"] == "0087-postal-pact-and-ai-talent.md"
    assert hostile["title"] == '<script>alert("x")</script>' and hostile["errors"] == 1
    assert broken["status"] == "invalid" and broken["title"] is None and broken["errors"] == 1


def test_an_issue_with_its_findings_where_they_are(api: Api) -> None:
    with api.client("viewer") as client:
        hostile = client.get("/issues/90").json()
        broken = client.get("/issues/91").json()
    assert hostile["subject"] == 'Say "hi" & <b>bold</b>'
    (error,) = [finding for finding in hostile["findings"] if finding["level"] == "error"]
    assert error["where"] == "issues/0090-hostile.md:10"
    assert (error["path"], error["line"]) == ("issues/0090-hostile.md", 10)
    assert "has no alt text" in error["message"]
    assert broken["status"] == "invalid" and broken["subject"] is None
    assert broken["findings"][0]["where"].startswith("issues/0091-broken.md:")
    assert "missing required key" in broken["findings"][0]["message"]


def test_an_issue_rendered_and_checked(api: Api) -> None:
    with api.client("viewer") as client:
        rendered = client.get("/issues/87/render")
        checked = client.post("/issues/87/check")
        failed = client.post("/issues/90/check")
        unrenderable = client.get("/issues/91/render")
    assert rendered.status_code == 200
    body = rendered.json()
    assert body["subject"].startswith("Tech in China #87")
    assert "<html" in body["html"] and "Three postal services agree" in body["text"]
    assert "@@" not in body["html"] + body["text"]  # no merge token left unfilled
    assert checked.status_code == 200 and checked.json()["ok"] is True
    assert checked.json()["html_bytes"] > 1000
    assert failed.json()["ok"] is False
    problem = assert_problem(unrenderable, 400)
    assert "0091-broken.md" in problem["detail"]


@pytest.mark.parametrize(
    "number", ["999", "abc", "0x57", "%C2%B2", "1234567", "-1", "0", "..%2F..%2Fmailer.toml"]
)
def test_a_number_that_names_no_issue_is_a_404_problem(api: Api, number: str) -> None:
    with api.client("editor") as client:
        for answer in (
            client.get(f"/issues/{number}"),
            client.get(f"/issues/{number}/render"),
            client.post(f"/issues/{number}/check"),
            client.post(f"/issues/{number}/test-send", json={"to": ["a@example.com"]}),
        ):
            assert_problem(answer, 404)


def test_an_editor_sends_test_copies_and_the_audit_log_says_so(api: Api) -> None:
    before = len(_outbox(api))
    with api.client("editor") as client:
        answer = client.post(
            "/issues/88/test-send",
            json={"to": ["Ann <ann@example.com>", "bo@example.com", "ANN@example.com"]},
        )
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "transport": "outbox",
        "sent": ["ann@example.com", "bo@example.com"],
        "refused": {},
    }
    assert len(_outbox(api)) == before + 2
    latest = entries(api.mailer, limit=1, action_prefix="issue.")[0]
    assert (latest.actor, latest.action) == ("token:editor-token", "issue.test_send")
    assert latest.target == "0088-ai-startups-draw-talent.md"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"to": []}, "to"),
        ({"to": [f"r{index}@example.com" for index in range(6)]}, "to"),
        ({"to": "ann@example.com"}, "to"),
        ({"to": ["not an address"]}, "to"),
        ({"to": ['<script>alert("x")</script>']}, "to"),
        ({"to": ["ann@example.com\u0000"]}, "to.0"),
        ({"to": ["ann@example.com"], "subject": "x"}, "subject"),
        ({}, "to"),
    ],
)
def test_a_test_send_to_wrong_addresses_is_refused_naming_the_field(
    api: Api, body: dict[str, Any], field: str
) -> None:
    before = len(_outbox(api))
    with api.client("editor") as client:
        assert_problem(client.post("/issues/87/test-send", json=body), 422, field)
    assert len(_outbox(api)) == before


def test_an_issue_with_errors_is_not_sent_and_a_viewer_may_not_send(api: Api) -> None:
    before = len(_outbox(api))
    with api.client("editor") as editor:
        problem = assert_problem(
            editor.post("/issues/90/test-send", json={"to": ["ann@example.com"]}), 400
        )
    assert "has errors, so nothing was sent" in problem["detail"]
    with api.client("viewer") as viewer:
        refused = assert_problem(
            viewer.post("/issues/87/test-send", json={"to": ["ann@example.com"]}), 403
        )
    assert "may not edit issues" in refused["detail"]
    assert len(_outbox(api)) == before
