"""Errors a user can act on: each names the thing that is wrong and where it is."""

from __future__ import annotations

from pathlib import Path


class MailerError(Exception):
    """An error caused by input or state, reported to the user without a traceback."""


class LocatedError(MailerError):
    """An error at a place in a file: printed as ``path:line: message``."""

    def __init__(self, path: Path | str, line: int | None, message: str) -> None:
        self.path = Path(path)
        self.line = line
        self.message = message
        super().__init__(str(self))

    def __reduce__(self) -> tuple[type[LocatedError], tuple[Path, int | None, str]]:
        # Pickled with its own arguments (imports read files in a child process).
        return (type(self), (self.path, self.line, self.message))

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else f"{self.path}"
        return f"{where}: {self.message}"


class ConfigError(MailerError):
    """The configuration file or environment holds a wrong, unknown or missing setting."""
