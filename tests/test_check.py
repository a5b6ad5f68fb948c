"""``mailer check``: what it catches, where it says it is, and its exit codes."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from tests.conftest import CliResult, Project

Cli = Callable[..., CliResult]

BASE = """---
number: 90
title: Checks
subject: Checks
preheader: Checking
date: 2026-11-23
template: digest
---
## One

Some text with [a relative link](/about) and [an http link](http://example.com/x).

![](https://example.com/no-alt.png)

[Read more](https://example.com/one)

## Two

No read more link here, and [a script](javascript:alert(1)).
"""


def findings(cli: Cli, *issues: str) -> tuple[int, list[dict[str, Any]]]:
    result = cli("check", *issues, "--json")
    return result.code, json.loads(result.out)


def test_samples_pass(cli: Cli) -> None:
    code, reports = findings(cli, "87", "88")
    assert code == 0, reports
    assert all(report["ok"] and report["errors"] == [] for report in reports)
    assert all(0 < report["html_bytes"] < 102 * 1024 for report in reports)


def test_bad_links_images_and_items_are_found_with_lines(cli: Cli, project: Project) -> None:
    path = project.write_issue("0090-checks.md", BASE)
    code, [report] = findings(cli, "90")
    assert code == 1
    errors = {(e["line"], e["message"].split(" ")[0]) for e in report["errors"]}
    assert (11, "relative") in errors
    assert (13, "image") in errors  # no alt text
    assert (19, "link") in errors  # javascript: scheme
    warnings = [w["message"] for w in report["warnings"]]
    assert any("not https" in w for w in warnings)
    assert any("'Two' has no 'read more' link" in w for w in warnings)
    assert all(e["path"] == str(path) for e in report["errors"])


def test_human_output_names_file_and_line(cli: Cli, project: Project) -> None:
    project.write_issue("0090-checks.md", BASE)
    result = cli("check", "90")
    assert result.code == 1
    assert f"{project.issues / '0090-checks.md'}:11: error: relative link '/about'" in result.out


def test_missing_postal_address_is_an_error(cli: Cli, project: Project) -> None:
    project.config.write_text("", encoding="utf-8")
    code, [report] = findings(cli, "87")
    assert code == 1
    assert any("postal_address is empty" in e["message"] for e in report["errors"])


def test_missing_unsubscribe_link_is_an_error(cli: Cli, project: Project) -> None:
    footer = project.templates / "partials" / "footer.mjml.j2"
    footer.write_text(
        footer.read_text(encoding="utf-8").replace(
            '<a href="{{ subscriber.unsubscribe_url }}">Unsubscribe</a> · ', ""
        ),
        encoding="utf-8",
    )
    code, [report] = findings(cli, "87")
    assert code == 1
    assert any("HTML part has no unsubscribe link" in e["message"] for e in report["errors"])


def test_unknown_mjml_tags_and_attributes_are_errors_pointing_at_the_template(
    cli: Cli, project: Project
) -> None:
    digest = project.templates / "digest.mjml.j2"
    lines = digest.read_text(encoding="utf-8").splitlines()
    index = next(i for i, line in enumerate(lines) if "<mj-button" in line)
    lines[index] = lines[index].replace("<mj-button ", '<mj-button colour="red" ')
    lines.insert(index, "<mj-sparkle>shiny</mj-sparkle>")
    digest.write_text("\n".join(lines), encoding="utf-8")
    code, [report] = findings(cli, "87")
    assert code == 1
    by_message = {e["message"]: e for e in report["errors"]}
    attribute = next(e for m, e in by_message.items() if "'colour'" in m)
    assert (attribute["path"], attribute["line"]) == (str(digest), index + 2)
    element = next(e for m, e in by_message.items() if "<mj-sparkle>" in m)
    assert (element["path"], element["line"]) == (str(digest), index + 1)


def test_size_close_to_gmail_clip_warns_and_over_it_errors(cli: Cli, project: Project) -> None:
    head = BASE.split("## One")[0]

    def check_with(paragraphs: int) -> tuple[int, dict[str, Any]]:
        filler = "\n\n".join(f"Paragraph {n} " + "words " * 60 for n in range(paragraphs))
        project.write_issue(
            "0090-checks.md", f"{head}## One\n\n{filler}\n\n[Read more](https://example.com/1)\n"
        )
        code, [report] = findings(cli, "90")
        return code, report

    low, high = 1, 400
    while low < high:  # the fewest paragraphs that pass the warning threshold
        middle = (low + high) // 2
        if check_with(middle)[1]["html_bytes"] < 90 * 1024:
            low = middle + 1
        else:
            high = middle
    code, report = check_with(low)
    assert 90 * 1024 <= report["html_bytes"] < 102 * 1024
    assert code == 0
    assert any("close to Gmail's 102 KB" in w["message"] for w in report["warnings"])
    code, report = check_with(400)
    assert code == 1
    assert any("Gmail clips" in e["message"] for e in report["errors"])


def test_broken_front_matter_is_a_finding_not_a_crash(cli: Cli, project: Project) -> None:
    project.write_issue("0090-checks.md", BASE.replace("date: 2026-11-23", "date: someday"))
    code, [report] = findings(cli, "90")
    assert code == 1
    assert report["errors"][0]["line"] == 6
