"""A finding of ``mailer check``: an error (exit 1) or a warning, with where it is."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

Level = Literal["error", "warning"]


@dataclass(frozen=True)
class Finding:
    level: Level
    message: str
    path: Path | None = None
    line: int | None = None

    @property
    def where(self) -> str:
        if self.path is None:
            return ""
        return f"{self.path}:{self.line}" if self.line else str(self.path)

    def as_json(self) -> dict[str, Any]:
        return {
            "level": self.level,
            "message": self.message,
            "path": str(self.path) if self.path else None,
            "line": self.line,
        }

    def __str__(self) -> str:
        return f"{self.where}: {self.level}: {self.message}" if self.where else self.message
