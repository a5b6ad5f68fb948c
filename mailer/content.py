"""Issue files (``issues/NNNN-slug.md``): YAML front matter plus a Markdown body.

Every problem is reported as ``path:line: what is wrong``. Front matter is read by
``mailer.front_matter_yaml`` (every scalar a string, no anchors or aliases, bounded) and typed by
the model below: a title of ``NO`` or ``1.10`` stays the text the editor typed. A file over
``MAX_ISSUE_BYTES`` is refused before it is parsed.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from mailer.errors import LocatedError, MailerError
from mailer.front_matter_yaml import KeyPath, read_front_matter

FRONT_MATTER_FENCE = "---"
ISSUE_FILE_PATTERN = re.compile(r"^(\d{1,6})-[a-z0-9][a-z0-9-]*\.md$")
MAX_ISSUE_BYTES = 256 * 1024
"""An issue file's size limit: 2.5 times what Gmail shows before it clips a message, so no
sendable issue comes near it, and it bounds the time and memory any one file can cost."""
MAX_ISSUE_NUMBER = 999_999
"""The largest number a file name's ``NNNN`` (up to six digits) can give."""
SHOWN_INPUT_CHARS = 80
# Characters XML (so MJML) cannot hold; an issue is plain text and never needs them.
CONTROL_CHARACTER = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


class HeroImage(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    src: str
    alt: str = Field(min_length=1)
    width: int = Field(600, ge=1, le=1200)
    href: str | None = None


class Source(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = Field(min_length=1)
    url: str | None = None


class FrontMatter(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)
    number: int = Field(ge=1, le=MAX_ISSUE_NUMBER)
    title: str = Field(min_length=1)
    subject: str = Field(min_length=1, max_length=250)
    preheader: str = Field("", max_length=250)
    date: dt.date
    template: str = Field(pattern=r"^[A-Za-z0-9_-]+$")
    status: Literal["draft", "ready"] = "draft"
    hero: HeroImage | None = None
    tags: list[str] = Field(default_factory=list)
    byline: str | None = None
    source: Source | None = None
    archive: bool = True
    """Whether the sent issue is shown in the public archive and feed (``archive: false``
    keeps it out)."""

    @field_validator("subject")
    @classmethod
    def _one_line(cls, value: str) -> str:
        if "\n" in value or "\r" in value:
            raise ValueError("must be a single line")
        return value


@dataclass(frozen=True)
class Issue:
    path: Path
    meta: FrontMatter
    body: str
    body_line: int
    """1-based line of the file where the Markdown body starts, for error locations."""
    status_line: int | None = None
    """1-based line of the front matter's ``status:`` (None: there is none, so a draft)."""

    @property
    def number(self) -> int:
        return self.meta.number

    @property
    def template(self) -> str:
        return self.meta.template


def _decode(path: Path, raw: bytes) -> str:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise LocatedError(path, line, f"not valid UTF-8 (byte 0x{raw[exc.start]:02x})") from None
    return text.removeprefix("\ufeff")


def _split_front_matter(path: Path, text: str) -> tuple[str, str, int]:
    """Return (front matter text, body text, line where the body starts)."""
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != FRONT_MATTER_FENCE:
        raise LocatedError(path, 1, "missing front matter: the file must start with a '---' line")
    for index in range(1, len(lines)):
        if lines[index].strip() == FRONT_MATTER_FENCE:
            return "".join(lines[1:index]), "".join(lines[index + 1 :]), index + 2
    raise LocatedError(path, 1, "front matter is not closed: add a '---' line after it")


def _line_for(location: KeyPath, lines: dict[KeyPath, int]) -> int:
    for end in range(len(location), 0, -1):
        if location[:end] in lines:
            return lines[location[:end]]
    return 2


def _shown(value: Any) -> str:
    """The value an editor wrote, cut short: a message stays one readable line."""
    shown = repr(value)
    if len(shown) > SHOWN_INPUT_CHARS:
        return shown[: SHOWN_INPUT_CHARS - 3] + "..."
    return shown


def _validate(path: Path, data: dict[str, Any], lines: dict[KeyPath, int]) -> FrontMatter:
    try:
        return FrontMatter.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        location = tuple(error["loc"])
        name = ".".join(str(part) for part in location)
        if error["type"] == "missing":
            message = f"front matter is missing required key {name!r}"
        elif error["type"] == "extra_forbidden":
            message = f"unknown front matter key {name!r}"
        else:
            problem = " ".join(str(error["msg"]).removeprefix("Value error, ").split())
            message = f"{name}: {problem} (got {_shown(error.get('input'))})"
        raise LocatedError(path, _line_for(location, lines), message) from None


def parse_issue(path: Path, raw: bytes, templates_dir: Path | None = None) -> Issue:
    """Parse an issue file's bytes; ``templates_dir`` enables the template-exists check."""
    if len(raw) > MAX_ISSUE_BYTES:
        raise LocatedError(
            path,
            raw.count(b"\n", 0, MAX_ISSUE_BYTES) + 1,
            f"the file is over {MAX_ISSUE_BYTES // 1024} KiB, the limit for an issue file "
            "(Gmail clips mail at 102 KB)",
        )
    text = _decode(path, raw)
    control = CONTROL_CHARACTER.search(text)
    if control:
        raise LocatedError(
            path,
            text.count("\n", 0, control.start()) + 1,
            f"the file has a control character (U+{ord(control.group()):04X}): remove it",
        )
    front, body, body_line = _split_front_matter(path, text)
    data, lines = read_front_matter(path, front)
    meta = _validate(path, data, lines)
    numbered = ISSUE_FILE_PATTERN.match(path.name)
    if numbered and int(numbered.group(1)) != meta.number:
        expected = int(numbered.group(1))
        raise LocatedError(
            path,
            lines.get(("number",), 2),
            f"number {meta.number} does not match the file name (expected {expected})",
        )
    if templates_dir is not None and not (templates_dir / f"{meta.template}.mjml.j2").is_file():
        known = ", ".join(sorted(available_templates(templates_dir))) or "none"
        raise LocatedError(
            path,
            lines.get(("template",), 2),
            f"unknown template {meta.template!r} (templates in {templates_dir}: {known})",
        )
    if not body.strip():
        raise LocatedError(path, body_line, "the issue has no body: write the Markdown after '---'")
    return Issue(
        path=path,
        meta=meta,
        body=body,
        body_line=body_line,
        status_line=lines.get(("status",)),
    )


def load_issue(path: Path, templates_dir: Path | None = None) -> Issue:
    try:
        with path.open("rb") as file:
            raw = file.read(MAX_ISSUE_BYTES + 1)  # one byte more tells a file over the limit
    except FileNotFoundError:
        raise MailerError(f"{path}: no such issue file") from None
    except IsADirectoryError:
        raise MailerError(f"{path}: is a folder, not an issue file") from None
    except OSError as exc:
        raise MailerError(f"{path}: cannot read the issue file: {exc.strerror or exc}") from None
    return parse_issue(path, raw, templates_dir)


def available_templates(templates_dir: Path) -> list[str]:
    return sorted(
        p.name.removesuffix(".mjml.j2")
        for p in templates_dir.glob("*.mjml.j2")
        if not p.name.startswith("_")
    )


def issue_files(issues_dir: Path) -> list[Path]:
    """Issue files in the folder, by number (``NNNN-slug.md``)."""
    if not issues_dir.is_dir():
        raise MailerError(f"{issues_dir}: the issues folder does not exist")
    found = [p for p in issues_dir.iterdir() if p.is_file() and ISSUE_FILE_PATTERN.match(p.name)]
    return sorted(found, key=lambda p: (int(p.name.split("-", 1)[0]), p.name))


def find_issue(reference: str, issues_dir: Path) -> Path:
    """Resolve an issue given as a path or as a number (``87`` finds ``0087-*.md``)."""
    if reference.isdecimal():  # not isdigit: "²" is a digit that int() cannot read
        wanted = int(reference)
        matches = [p for p in issue_files(issues_dir) if int(p.name.split("-", 1)[0]) == wanted]
        if len(matches) == 1:
            return matches[0]
        if not matches:
            raise MailerError(f"no issue number {wanted} in {issues_dir}")
        names = ", ".join(p.name for p in matches)
        raise MailerError(f"issue number {wanted} is ambiguous in {issues_dir}: {names}")
    path = Path(reference)
    if not path.exists():
        raise MailerError(f"{path}: no such issue file (give a path or an issue number)")
    return path
