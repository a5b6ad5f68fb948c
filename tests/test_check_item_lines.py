"""``mailer check`` points a digest item's warning at the item's own ``##`` heading."""

from __future__ import annotations

import json
from collections.abc import Callable

from tests.conftest import CliResult, Project

ISSUE = """---
number: 92
title: Items
subject: Items
preheader: Three items
date: 2026-11-23
template: digest
---
Intro paragraph.

## First item

Body of the first item.

[Read more](https://example.com/first)

## Second item

Body of the second item, with no link to read more.

## Third item

[Read more](https://example.com/third)
"""
SECOND_HEADING_LINE = 17


def test_missing_read_more_warning_names_the_items_heading_line(
    cli: Callable[..., CliResult], project: Project
) -> None:
    path = project.write_issue("0092-items.md", ISSUE)
    assert ISSUE.splitlines()[SECOND_HEADING_LINE - 1] == "## Second item"
    result = cli("check", "92", "--json")
    [report] = json.loads(result.out)
    [warning] = [w for w in report["warnings"] if "read more" in w["message"]]
    assert "'Second item'" in warning["message"]
    assert (warning["path"], warning["line"]) == (str(path), SECOND_HEADING_LINE)
    human = cli("check", "92").out
    assert f"{path}:{SECOND_HEADING_LINE}: warning: digest item 'Second item'" in human
