"""``mailer preview``: a real uvicorn server that follows edits to the issue and templates."""

from __future__ import annotations

import httpx

from mailer.preview.app import preview_app
from mailer.render.tokens import Recipient
from tests.conftest import Project
from tests.servers import serve

READER = Recipient("reader@example.com", "Sample Reader", "https://n.example.com/unsubscribe/x")


def test_preview_shows_both_widths_text_subject_and_preheader(project: Project) -> None:
    issue = project.issues / "0087-postal-pact-and-ai-talent.md"
    with (
        serve(preview_app(project.settings(), issue, READER)) as base,
        httpx.Client(base_url=base) as http,
    ):
        page = http.get("/")
        assert page.status_code == 200
        assert 'width="375"' in page.text and 'width="800"' in page.text
        assert "Tech in China #87: postal pact" in page.text
        assert "Korea, China and Japan team up on postal tech" in page.text
        assert "Read more: https://www.example.com/news/2018/11/postal-mou" in page.text
        email = http.get("/email.html")
        assert email.status_code == 200 and "Korea Post" in email.text
        assert "https://n.example.com/unsubscribe/x" in email.text
        assert "Korea Post" in http.get("/email.txt").text


def test_preview_follows_edits_to_issue_and_templates(project: Project) -> None:
    issue = project.issues / "0087-postal-pact-and-ai-talent.md"
    with (
        serve(preview_app(project.settings(), issue, READER)) as base,
        httpx.Client(base_url=base) as http,
    ):
        first = http.get("/version").json()["version"]
        issue.write_text(
            issue.read_text(encoding="utf-8").replace("Korea Post", "Korea Post Office"),
            encoding="utf-8",
        )
        second = http.get("/version").json()["version"]
        assert second != first
        assert "Korea Post Office" in http.get("/email.html").text
        footer = project.templates / "partials" / "footer.mjml.j2"
        footer.write_text(
            footer.read_text(encoding="utf-8").replace("You are receiving", "You get"),
            encoding="utf-8",
        )
        assert http.get("/version").json()["version"] != second
        assert "You get Tech in China Weekly" in http.get("/email.html").text


def test_preview_shows_errors_instead_of_failing(project: Project) -> None:
    issue = project.issues / "0087-postal-pact-and-ai-talent.md"
    with (
        serve(preview_app(project.settings(), issue, READER)) as base,
        httpx.Client(base_url=base) as http,
    ):
        issue.write_text("no front matter\n", encoding="utf-8")
        page = http.get("/")
        assert page.status_code == 200
        assert f"{issue}:1: missing front matter" in page.text
        assert http.get("/email.html").status_code == 422
