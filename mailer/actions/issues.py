"""Issues on behalf of a principal: listed, checked and rendered with ``read``; test copies
sent with ``edit_issues``, each test send in the audit log.

An issue is named by its number (the ``NNNN`` of ``issues/NNNN-slug.md``): text that is not
one names no issue, so no face can reach a file outside the issues folder."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from mailer.accounts import audit
from mailer.accounts.roles import Permission, Principal
from mailer.actions.paging import Page, check_limit, page_of
from mailer.app import Mailer
from mailer.catalog import CatalogEntry, catalog
from mailer.checks.findings import Finding, Level
from mailer.checks.issue_checks import IssueReport, check_issue
from mailer.content import load_issue
from mailer.db.engine import write_transaction
from mailer.errors import MailerError
from mailer.render.output import parse_reader
from mailer.render.pipeline import PersonalizedEmail
from mailer.services import issue_files
from mailer.services.issue_files import SentCopies

IssueStatus = Literal["ready", "draft", "invalid"]


@dataclass(frozen=True)
class ShownFinding:
    level: Level
    message: str
    where: str
    """``issues/0087-x.md:12`` (relative to the project's folder), or "" when nowhere."""
    path: str | None
    line: int | None


@dataclass(frozen=True)
class IssueSummary:
    number: int
    file: str
    """The file's name in the issues folder."""
    status: IssueStatus
    """From the front matter, or "invalid" when the file cannot be read as an issue."""
    title: str | None
    date: dt.date | None
    template: str | None
    sent_to: tuple[str, ...]
    """The lists a campaign of the issue started sending to."""
    errors: int
    warnings: int


@dataclass(frozen=True)
class IssueDetail:
    summary: IssueSummary
    subject: str | None
    preheader: str | None
    findings: tuple[ShownFinding, ...]
    html_bytes: int | None
    """The HTML part's size for a reader, when it renders."""


def _shown_path(mailer: Mailer, path: Path) -> str:
    """A path as an editor knows it: relative to the project's folder (the issues folder's
    parent) when inside it, else just the file's name, never the server's whole path."""
    root = mailer.settings.paths.issues.parent
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.name


def _shown(mailer: Mailer, finding: Finding) -> ShownFinding:
    path = None if finding.path is None else _shown_path(mailer, finding.path)
    where = "" if path is None else f"{path}:{finding.line}" if finding.line else path
    return ShownFinding(finding.level, finding.message, where, path, finding.line)


def _summary(entry: CatalogEntry, sent: dict[int, list[str]], report: IssueReport) -> IssueSummary:
    meta = entry.issue.meta if entry.issue else None
    number = issue_files.file_number(entry.path)
    errors = sum(1 for finding in report.findings if finding.level == "error")
    return IssueSummary(
        number=number,
        file=entry.path.name,
        status=meta.status if meta else "invalid",
        title=meta.title if meta else None,
        date=meta.date if meta else None,
        template=meta.template if meta else None,
        sent_to=tuple(sent.get(number, ())),
        errors=errors,
        warnings=len(report.findings) - errors,
    )


def _report(mailer: Mailer, path: Path) -> IssueReport:
    return check_issue(path, mailer.settings, mailer.renderer)


def issue_page(
    mailer: Mailer, principal: Principal, *, after: int | None, limit: int
) -> Page[IssueSummary, int]:
    """Issues by number after issue ``after`` (from the first when None), each checked."""
    principal.require(Permission.READ)
    check_limit(limit)
    settings = mailer.settings
    entries = [
        entry
        for entry in catalog(settings.paths.issues, settings.paths.templates)
        if after is None or issue_files.file_number(entry.path) > after
    ][: limit + 1]
    sent = issue_files.sent_lists(mailer.engine)
    summaries = [_summary(entry, sent, _report(mailer, entry.path)) for entry in entries]
    return page_of(summaries, limit, lambda summary: summary.number)


def _entry(mailer: Mailer, number: int) -> CatalogEntry:
    """The issue's file, read; one that cannot be read comes with why (as ``catalog``)."""
    settings = mailer.settings
    path = issue_files.issue_path(settings.paths.issues, number)
    try:
        return CatalogEntry(path, load_issue(path, settings.paths.templates), None)
    except MailerError as exc:
        return CatalogEntry(path, None, str(exc))


def show_issue(mailer: Mailer, principal: Principal, number_text: str) -> IssueDetail:
    """The issue, checked as `mailer check` checks it, with every finding and where it is."""
    principal.require(Permission.READ)
    entry = _entry(mailer, issue_files.issue_number(number_text))
    report = _report(mailer, entry.path)
    summary = _summary(entry, issue_files.sent_lists(mailer.engine), report)
    meta = entry.issue.meta if entry.issue else None
    return IssueDetail(
        summary=summary,
        subject=meta.subject if meta else None,
        preheader=meta.preheader if meta else None,
        findings=tuple(_shown(mailer, finding) for finding in report.findings),
        html_bytes=report.html_bytes,
    )


def render_issue(mailer: Mailer, principal: Principal, number_text: str) -> PersonalizedEmail:
    """The HTML and text parts as a sample reader gets them (their links signed as theirs);
    a LocatedError says what keeps the issue from rendering."""
    principal.require(Permission.READ)
    path = issue_files.issue_path(
        mailer.settings.paths.issues, issue_files.issue_number(number_text)
    )
    issue = load_issue(path, mailer.settings.paths.templates)
    return mailer.renderer.render(issue).personalize(parse_reader(mailer, None))


def send_test_copies(
    mailer: Mailer, principal: Principal, number_text: str, to: Sequence[str]
) -> SentCopies:
    """Send test copies of the issue to one to five addresses through the configured
    transport; the audit log says who sent which issue to whom."""
    principal.require(Permission.EDIT_ISSUES)
    number = issue_files.issue_number(number_text)
    path = issue_files.issue_path(mailer.settings.paths.issues, number)
    readers = issue_files.readers_of(to)
    result = issue_files.send_test(mailer, path, readers)
    detail = {"to": result.sent, "refused": result.refused, "transport": result.transport}
    with write_transaction(mailer.engine) as connection:
        audit.record(
            connection, principal.actor, "issue.test_send", path.name, detail, mailer.clock()
        )
    return result
