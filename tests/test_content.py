"""Issue files: broken input is reported as ``path:line: what is wrong``, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailer.content import load_issue, parse_issue
from mailer.errors import LocatedError, MailerError
from tests.conftest import Project

GOOD = """---
number: 90
title: A title
subject: A subject
preheader: A preheader
date: 2026-11-23
template: digest
status: ready
---
## Item

Text.
"""


def error_for(project: Project, text: str | bytes, name: str = "0090-x.md") -> LocatedError:
    path = project.write_issue(name, text)
    with pytest.raises(LocatedError) as caught:
        load_issue(path, project.templates)
    assert caught.value.path == path
    return caught.value


def test_good_issue_loads(project: Project) -> None:
    issue = load_issue(project.write_issue("0090-x.md", GOOD), project.templates)
    assert (issue.number, issue.meta.status, issue.body_line) == (90, "ready", 10)
    assert str(issue.meta.date) == "2026-11-23"


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("## no front matter\n", 1, "missing front matter"),
        ("---\nnumber: 90\ntitle: x\n", 1, "not closed"),
        (GOOD.replace("title: A title\n", ""), 2, "missing required key 'title'"),
        (GOOD.replace("template: digest", "template: gazette"), 7, "unknown template 'gazette'"),
        (GOOD.replace("date: 2026-11-23", "date: 2026-13-45"), 6, "date"),
        (GOOD.replace("date: 2026-11-23", "date: next tuesday"), 6, "date"),
        (GOOD.replace("status: ready", "status: done"), 8, "status"),
        (GOOD.replace("number: 90", "number: ninety"), 2, "number"),
        (GOOD.replace("number: 90", "number: 91"), 2, "does not match the file name"),
        (
            GOOD.replace("status: ready", "status: ready\ncolour: red"),
            9,
            "unknown front matter key 'colour'",
        ),
        (GOOD.replace("subject: A subject", "subject: [unclosed"), 5, "not valid YAML"),
        (GOOD.replace("## Item\n\nText.\n", "\n   \n"), 10, "no body"),
        (GOOD.replace("status: ready", "hero:\n  src: https://x.example/a.png"), 8, "hero.alt"),
        ("---\n- a\n- b\n---\nbody\n", 2, "must be a mapping"),
        (GOOD.replace("Text.", "Te\x1fxt."), 12, "control character (U+001F)"),
        (GOOD.replace("title: A title", "title: A\x7f title"), 3, "not valid YAML"),
    ],
)
def test_broken_issue_files_name_file_and_line(
    project: Project, text: str, line: int, fragment: str
) -> None:
    error = error_for(project, text)
    assert error.line == line
    assert fragment in error.message
    assert str(error).startswith(f"{project.issues / '0090-x.md'}:{line}: ")


def test_invalid_utf8_names_the_line(project: Project) -> None:
    raw = GOOD.encode("utf-8").replace(b"Text.", b"Caf\xe9 text.")
    error = error_for(project, raw)
    assert error.line == 12
    assert "not valid UTF-8" in error.message


def test_body_template_error_names_the_file_line(project: Project) -> None:
    path = project.write_issue("0090-x.md", GOOD.replace("Text.", "Hi {{ subscriber.nickname }}"))
    issue = load_issue(path, project.templates)
    with pytest.raises(LocatedError) as caught:
        project.renderer().render(issue)
    assert (caught.value.path, caught.value.line) == (path, 12)
    assert "nickname" in caught.value.message


def test_yaml_scalars_stay_text(project: Project) -> None:
    issue = load_issue(
        project.write_issue("0090-x.md", GOOD.replace("title: A title", "title: NO")),
        project.templates,
    )
    assert issue.meta.title == "NO"


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(MailerError, match="no such issue file"):
        load_issue(tmp_path / "0001-missing.md")


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400))
def test_arbitrary_bytes_never_crash_the_parser(raw: bytes) -> None:
    try:
        parse_issue(Path("issues/0001-fuzz.md"), b"---\n" + raw)
    except LocatedError as error:
        assert error.line is not None and error.line >= 1
