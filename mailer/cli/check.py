"""``mailer check``: exit 1 when any issue has errors; warnings alone exit 0."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.text import Text

from mailer.cli.context import app_context, out_console, print_json


def check_command(
    ctx: typer.Context,
    issues: Annotated[list[str], typer.Argument(help="Issue file paths or numbers.")],
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Check issues for broken front matter, links, images, compliance, size and MJML."""
    from mailer.checks.issue_checks import check_issue
    from mailer.content import find_issue

    app = app_context(ctx)
    reports = [
        check_issue(find_issue(reference, app.settings.paths.issues), app.settings, app.renderer)
        for reference in issues
    ]
    if as_json:
        print_json([report.as_json() for report in reports])
    else:
        console = out_console()
        for report in reports:
            for finding in report.findings:
                style = "red" if finding.level == "error" else "yellow"
                console.print(Text(str(finding), style=style))
            size = f", {report.html_bytes / 1024:.1f} KB of HTML" if report.html_bytes else ""
            verdict = "ok" if report.ok else "has errors"
            console.print(Text(f"{report.path}: {verdict}{size}", style="bold"))
    if not all(report.ok for report in reports):
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("check")(check_command)
