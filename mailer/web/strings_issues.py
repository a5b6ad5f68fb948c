"""The words of the admin app's issues pages (``/admin/issues``): the list, one issue's
findings and preview, and the test-send form."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class IssuesText:
    title: str = "Issues"
    intro: str = (
        "The issue files in the issues folder, checked as `mailer check` checks them. "
        "Open one to see its findings, preview it and send a test copy."
    )
    none: str = "No issue files in the issues folder."
    column_number: str = "Number"
    column_title: str = "Title"
    column_status: str = "Status"
    column_date: str = "Date"
    column_findings: str = "Findings"
    column_sent_to: str = "Sent to"
    not_sent: str = "not sent"
    findings_count: str = "{errors} errors, {warnings} warnings"
    statuses: tuple[tuple[str, str], ...] = (
        ("ready", "ready"),
        ("draft", "draft"),
        ("invalid", "invalid"),
    )
    back: str = "All issues"
    issue_title: str = "Issue {number}"
    file_label: str = "File"
    subject_label: str = "Subject"
    preheader_label: str = "Preheader"
    template_label: str = "Template"
    size_label: str = "HTML size"
    size_value: str = "{kb:.1f} KB"
    findings_heading: str = "Findings"
    no_findings: str = "Nothing found: the issue is ready to send."
    column_level: str = "Level"
    column_where: str = "Where"
    column_message: str = "What"
    preview_heading: str = "Preview"
    preview_note: str = "As a sample reader gets it; links are signed for that reader."
    desktop_label: str = "Desktop ({width} px)"
    phone_label: str = "Phone ({width} px)"
    text_heading: str = "Text part"
    no_preview: str = "The issue cannot be rendered: {error}"
    test_heading: str = "Send a test copy"
    test_intro: str = (
        "One to five addresses, one a line (email or Name <email>). The subject is marked "
        "[TEST]; the copies go through the configured transport ({transport})."
    )
    test_label: str = "Addresses"
    test_button: str = "Send test"
    test_sent: str = "Test copy sent to {addresses} via {transport}."
    test_refused: str = "{address} was refused: {reason}"
    test_needs_permission: str = "Sending a test copy needs a role that edits issues."

    def status(self, name: str) -> str:
        return dict(self.statuses).get(name, name)


ISSUES_TEXT = IssuesText()
