"""Issue files cannot exhaust the machine, and one broken file never hides the others.

Each attack runs the real command in a child process with a memory ceiling and a time limit
(tests/guarded.py), so that without the limits the test fails instead of the machine.
"""

from __future__ import annotations

import json

import pytest

from tests.conftest import Project
from tests.guarded import GuardedRun, run_mailer

HEAD = """---
number: 90
title: Limits
subject: Limits
preheader: Testing limits
date: 2026-11-23
template: digest
"""
BODY_LINE = 9  # the body starts on the line after the closing '---'
ISSUE = "0090-limits.md"


def with_front_matter(extra: str) -> str:
    """An issue whose front matter has ``extra`` from line 8 on."""
    return f"{HEAD}{extra}---\n## One\n\nText.\n\n[Read more](https://example.com/one)\n"


def with_body(body: str) -> str:
    return f"{HEAD}---\n{body}"


def billion_laughs() -> str:
    lines = ["lol0: &a0 [" + ", ".join(["lol"] * 9) + "]"]
    for level in range(1, 10):
        lines.append(f"lol{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def check_errors(project: Project) -> tuple[GuardedRun, list[dict[str, object]]]:
    run = run_mailer(project.root, "check", "90", "--json")
    assert run.code == 1, f"exit {run.code}\n{run.err[-2000:]}"
    [report] = json.loads(run.out)
    return run, report["errors"]


def assert_one_error_at(project: Project, line: int, fragment: str) -> None:
    _, errors = check_errors(project)
    assert len(errors) == 1, errors
    [error] = errors
    assert (error["path"], error["line"]) == (str(project.issues / ISSUE), line), error
    assert fragment in str(error["message"]), error


FRONT_MATTER_ATTACKS = {
    "billion laughs": (billion_laughs(), 8, "anchors and aliases"),
    "900 nested lists": ("tags: " + "[" * 900 + "]" * 900 + "\n", 8, "nested more than"),
    "a control character": ("byline: a\x01b\n", 8, "control character (U+0001)"),
    "an alias alone": ("byline: *nowhere\n", 8, "anchors and aliases"),
}


@pytest.mark.parametrize("attack", FRONT_MATTER_ATTACKS)
def test_front_matter_attacks_are_refused_with_file_and_line(project: Project, attack: str) -> None:
    extra, line, fragment = FRONT_MATTER_ATTACKS[attack]
    project.write_issue(ISSUE, with_front_matter(extra))
    assert_one_error_at(project, line, fragment)


@pytest.mark.parametrize("attack", ["billion laughs", "900 nested lists", "a control character"])
def test_issues_lists_every_other_file_next_to_a_hostile_one(project: Project, attack: str) -> None:
    extra, line, fragment = FRONT_MATTER_ATTACKS[attack]
    project.write_issue(ISSUE, with_front_matter(extra))
    project.write_issue("0091-fine.md", with_front_matter("").replace("number: 90", "number: 91"))
    run = run_mailer(project.root, "issues", "--json")
    assert run.code == 0, run.err[-2000:]
    rows = json.loads(run.out)
    assert [row["number"] for row in rows if row["status"] != "invalid"] == [87, 88, 91]
    [broken] = [row for row in rows if row["status"] == "invalid"]
    assert broken["error"].startswith(f"{project.issues / ISSUE}:{line}: ")
    assert fragment in broken["error"]


def test_an_issue_file_over_the_size_limit_is_refused(project: Project) -> None:
    paragraph = "All work and no play makes a long newsletter. " * 20 + "\n\n"
    project.write_issue(ISSUE, with_body(paragraph * 300))  # about 280 KiB
    run = run_mailer(project.root, "issues", "--json")
    [broken] = [row for row in json.loads(run.out) if row["status"] == "invalid"]
    assert str(project.issues / ISSUE) in broken["error"]
    assert "256 KiB" in broken["error"]
    _, [error] = check_errors(project)
    assert "256 KiB" in str(error["message"])


BODY_ATTACKS = {
    "nested loops": (
        "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}",
        "{% for %}",
    ),
    "string multiplication": ('{{ ("a" * 300000000)|length }}', "'*'"),
    "a replace chain": ('{{ "aaaaaaaaaa"' + '|replace("a", "aaaaaaaaaa")' * 9 + " }}", "replace"),
    "doubling with set": (
        '{% set x = "ab" %}' + "\n".join(["{% set x = x ~ x %}"] * 40) + "{{ x|length }}",
        "{% set %}",
    ),
}


@pytest.mark.parametrize("attack", BODY_ATTACKS)
def test_body_template_attacks_are_refused_with_file_and_line(
    project: Project, attack: str
) -> None:
    body, fragment = BODY_ATTACKS[attack]
    project.write_issue(ISSUE, with_body(f"Hello.\n\n{body}\n"))
    assert_one_error_at(project, BODY_LINE + 2, fragment)


def test_a_body_that_renders_too_large_is_stopped(project: Project) -> None:
    title = "A title that goes on and on " * 120
    issue = with_body("Hello.\n\n" + "{{ issue.title }}\n" * 100)
    project.write_issue(ISSUE, issue.replace("title: Limits", f"title: {title}"))
    _, errors = check_errors(project)
    assert [error["line"] for error in errors] == [BODY_LINE]
    assert "more than" in str(errors[0]["message"])

