"""Strikethrough in the text part: a text-only reader must still see what was struck out."""

from __future__ import annotations

from mailer.content import load_issue
from tests.conftest import Project

ISSUE = """---
number: 91
title: Timetable
subject: Timetable
preheader: The trains today
date: 2026-11-23
template: feature
---
The 8:15 to Ningbo: ~~Delayed~~ On time.

## ~~Closed~~ Open platforms

Platform 3 is ~~shut~~ open again.
"""


def test_struck_out_words_keep_their_tildes_in_the_text_part(project: Project) -> None:
    path = project.write_issue("0091-timetable.md", ISSUE)
    rendered = project.renderer().render(load_issue(path, project.templates))
    assert "The 8:15 to Ningbo: ~~Delayed~~ On time." in rendered.text
    assert "~~Closed~~ Open platforms" in rendered.text
    assert "Platform 3 is ~~shut~~ open again." in rendered.text
    # The HTML part strikes the words out rather than showing the tildes.
    assert "<s>Delayed</s> On time" in rendered.html
    assert "~~" not in rendered.html
