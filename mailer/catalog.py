"""The issues folder as a catalogue: each file with its front matter, or what is wrong with it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mailer.content import Issue, issue_files, load_issue
from mailer.errors import MailerError


@dataclass(frozen=True)
class CatalogEntry:
    path: Path
    issue: Issue | None
    error: str | None

    def as_json(self) -> dict[str, Any]:
        meta = self.issue.meta if self.issue else None
        return {
            "path": str(self.path),
            "number": meta.number if meta else None,
            "title": meta.title if meta else None,
            "template": meta.template if meta else None,
            "status": meta.status if meta else "invalid",
            "date": meta.date.isoformat() if meta else None,
            "error": self.error,
        }


def catalog(issues_dir: Path, templates_dir: Path) -> list[CatalogEntry]:
    entries = []
    for path in issue_files(issues_dir):
        try:
            entries.append(CatalogEntry(path, load_issue(path, templates_dir), None))
        except MailerError as exc:
            entries.append(CatalogEntry(path, None, str(exc)))
    return entries
