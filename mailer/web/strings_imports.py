"""The admin app's words for imports and exports of subscribers (``t.imports``)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ImportsText:
    imports_title: str = "Imports"
    imports_intro: str = (
        "Subscribers come in from a CSV file: upload it, say what each column holds, and the "
        "import runs on the server while you wait or go elsewhere. Rows that cannot be "
        "imported are listed with their line and the reason, for download."
    )
    new_import_link: str = "Import a CSV file"
    no_imports: str = "No import yet."
    column_started: str = "Started"
    column_file: str = "File"
    column_list: str = "List"
    column_status: str = "Status"
    column_rows: str = "Rows"
    column_by: str = "By"
    statuses: tuple[tuple[str, str], ...] = (
        ("uploaded", "waiting for its columns"),
        ("queued", "queued"),
        ("running", "running"),
        ("done", "done"),
        ("failed", "failed"),
        ("interrupted", "interrupted (its server process stopped)"),
    )

    upload_title: str = "Import a CSV file"
    upload_intro: str = (
        "A CSV file with a header row, in UTF-8, of at most {limit} MiB. Next you choose the "
        "list and what each column holds."
    )
    file_label: str = "CSV file"
    upload_button: str = "Upload"
    upload_missing: str = "Choose a CSV file to upload."

    columns_title: str = "Choose the columns"
    columns_intro: str = (
        "The file {file} ({size}). Say what each column holds: one must be the email address; "
        "any other becomes an attribute of that name, or is ignored. The first rows are shown "
        "to help."
    )
    column_heading: str = "Column {number}"
    header_cell: str = "Header"
    target_label: str = "Holds"
    attribute_key_label: str = "Attribute name"
    targets: tuple[tuple[str, str], ...] = (
        ("", "ignored"),
        ("email", "email address"),
        ("name", "name"),
        ("timezone", "time zone"),
        ("attribute", "an attribute"),
    )
    first_rows: str = "First rows"
    list_label: str = "Into the list"
    no_lists: str = "There is no list yet: create one first."
    confirmed_label: str = "They already agreed: add them as confirmed (no confirmation email)"
    start_button: str = "Start the import"

    progress_title: str = "Import {id}"
    progress_label: str = "Progress"
    status_label: str = "Status"
    list_heading: str = "List"
    file_heading: str = "File"
    refresh_link: str = "Refresh"
    counts: tuple[tuple[str, str], ...] = (
        ("rows_read", "rows read"),
        ("added", "added"),
        ("updated", "updated"),
        ("unchanged", "unchanged"),
        ("rejected", "rejected"),
        ("suppressed", "suppressed or unsubscribed, not added"),
    )
    rejects_link: str = "Download the rows not imported (CSV, with line and reason)"
    no_rejects: str = "Every row was imported."
    interrupted_text: str = (
        "The server process running this import stopped before it finished. The rows "
        "imported by then are kept; import the same file again to finish (rows already in "
        "are left unchanged)."
    )
    failed_text: str = "The import stopped: {error}"
    back_link: str = "All imports"

    export_heading: str = "Export a list"
    export_intro: str = (
        "Download a list's members as CSV (cells that a spreadsheet would run as a formula are "
        "made text). The file imports back to the same data."
    )
    export_list_label: str = "List"
    export_status_label: str = "Members"
    export_statuses: tuple[tuple[str, str], ...] = (
        ("", "all"),
        ("confirmed", "confirmed"),
        ("unconfirmed", "unconfirmed"),
        ("unsubscribed", "unsubscribed"),
    )
    export_segment_label: str = "Segment (optional)"
    export_segment_hint: str = 'For example: country = "DE" and "ai" in tags'
    export_button: str = "Download CSV"

    def status(self, name: str) -> str:
        return dict(self.statuses).get(name, name)


IMPORTS_TEXT = ImportsText()
