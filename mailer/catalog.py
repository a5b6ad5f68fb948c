"""The issues folder as a catalogue: each file with its front matter, or what is wrong with it."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mailer.content import Issue, issue_files, load_issue
from mailer.errors import MailerError

log = logging.getLogger(__name__)


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
    """Every issue file in the folder; one that cannot be read is listed with why, and never
    keeps the others from being listed (``mailer issues``, recurring schedules)."""
    entries = []
    for path in issue_files(issues_dir):
        try:
            entries.append(CatalogEntry(path, load_issue(path, templates_dir), None))
        except MailerError as exc:
            entries.append(CatalogEntry(path, None, str(exc)))
        except Exception as exc:  # a bug in reading one file must not hide every other one
            log.debug("reading %s failed", path, exc_info=True)
            entries.append(CatalogEntry(path, None, f"{path}: cannot be read ({exc!r})"))
    return entries
