"""The template language of an issue body: merge fields, ``{% if %}`` and a few filters.

Anything else is refused with the issue file and line, before any of it runs.
"""

from __future__ import annotations

import pytest

from mailer.content import load_issue
from mailer.errors import LocatedError
from mailer.render.tokens import Recipient
from tests.conftest import Project

HEAD = """---
number: 90
title: Limits
subject: Limits
preheader: Testing limits
date: 2026-11-23
template: digest
tags: [ai, chips]
---
"""
TAG_LINE = 12  # "Hello.", a blank line, then the line under test
READER = Recipient(email="ada@example.com", name="Ada Lin")


def render_text(project: Project, body: str) -> str:
    path = project.write_issue("0090-x.md", f"{HEAD}Hello.\n\n{body}\n")
    rendered = project.renderer().render(load_issue(path, project.templates))
    return rendered.personalize(READER).text


def body_error(project: Project, body: str) -> LocatedError:
    path = project.write_issue("0090-x.md", f"{HEAD}Hello.\n\n{body}\n")
    issue = load_issue(path, project.templates)
    with pytest.raises(LocatedError) as caught:
        project.renderer().render(issue)
    assert caught.value.path == path
    return caught.value


REFUSED = {
    "include": ('{% include "_base.mjml.j2" %}', "{% include %}"),
    "extends": ('{% extends "_base.mjml.j2" %}', "{% extends %}"),
    "import": ('{% import "_base.mjml.j2" as base %}', "{% import %}"),
    "macro": ("{% macro m() %}x{% endmacro %}", "{% macro %}"),
    "a call": ("{{ lipsum(5) }}", "calling"),
    "a global": ("{{ cycler }}", "'cycler'"),
    "a method": ("{{ issue.title.upper }}", "'upper'"),
    "a model method": ("{{ issue.model_dump }}", "'model_dump'"),
    "a filter on a merge field": ("{{ subscriber.name|upper }}", "subscriber"),
    "a comparison of a merge field": (
        "{% if subscriber.name == 'Ada' %}Hi{% endif %}",
        "subscriber.name is used in a way that cannot be filled in per reader",
    ),
    "an unknown merge field": ("{{ subscriber.nickname }}", "subscriber.nickname"),
    "an unknown filter": ("{{ issue.title|replace('a', 'b') }}", "'replace'"),
    "deep parentheses": ("{{ " + "(" * 300 + "1" + ")" * 300 + " }}", "nested"),
    "a long not chain": ("{{ " + "not " * 2000 + "1 }}", "nested"),
    "a long filter chain": ("{{ issue.title" + "|lower" * 3000 + " }}", "nested"),
}


@pytest.mark.parametrize("case", REFUSED)
def test_refused_constructs_name_the_issue_line(project: Project, case: str) -> None:
    body, fragment = REFUSED[case]
    error = body_error(project, body)
    assert error.line == TAG_LINE, error
    assert fragment in error.message, error
    assert str(error).startswith(f"{error.path}:{TAG_LINE}: body: ")


def test_conditions_and_filters_work_on_issue_values(project: Project) -> None:
    body = (
        '{% if issue.template == "digest" and "ai" in issue.tags %}A digest: '
        "{{ issue.title|upper }}{% else %}Other{% endif %}, for {{ subscriber.first_name }} "
        "({{ issue.tags|length }} tags, {{ issue.byline|default('no byline', true) }}"
        "{% if issue.tags %}, first {{ issue.tags|first }}{% endif %}) "
        "{{ 'dated' if issue.date.year == 2026 else 'undated' }}."
    )
    text = " ".join(render_text(project, body).split())
    assert "A digest: LIMITS, for Ada (2 tags, no byline, first ai) dated." in text
