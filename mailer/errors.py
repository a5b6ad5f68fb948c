"""Errors a user can act on: each names the thing that is wrong and where it is."""

from __future__ import annotations

from collections.abc import Sequence
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


class FieldError(MailerError):
    """One input is wrong: ``field`` names it neutrally ("at", "to", "timezone", "lists"...)
    and ``problem`` says what is wrong, so that each face words it for its user (``--at`` on
    the command line, the form field on a page, a JSON pointer in the API). ``value``, when
    given, is what was typed there, for a face that shows the input beside the problem."""

    def __init__(self, field: str, problem: str, value: str | None = None) -> None:
        self.field = field
        self.problem = problem
        self.value = value
        said = field if value is None else f"{field} {value!r}"
        super().__init__(f"{said}: {problem}")

    def __reduce__(self) -> tuple[type[FieldError], tuple[str, str, str | None]]:
        return (type(self), (self.field, self.problem, self.value))


class FieldErrors(MailerError):
    """Several inputs are wrong at once (each face says them all, not just the first)."""

    def __init__(self, errors: Sequence[FieldError]) -> None:
        self.errors = list(errors)
        super().__init__("; ".join(str(error) for error in self.errors))

    def __reduce__(self) -> tuple[type[FieldErrors], tuple[list[FieldError]]]:
        return (type(self), (self.errors,))


class NotFoundError(MailerError):
    """The named thing (a list, a suppression...) does not exist."""


class ConflictError(MailerError):
    """The change clashes with what is there already (a list of that name exists)."""
