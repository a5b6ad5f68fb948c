"""Validate MJML against MJML's own element and attribute lists, since mjml-python drops
whatever it does not know without a word."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from mailer.checks.mjml_schema import (
    ATTRIBUTE_DEFAULT_CONTAINERS,
    ELEMENT_ATTRIBUTES,
    ENDING_TAGS,
    GLOBAL_ATTRIBUTES,
)

ALL_ATTRIBUTES = frozenset().union(*ELEMENT_ATTRIBUTES.values()) | GLOBAL_ATTRIBUTES


@dataclass(frozen=True)
class MjmlProblem:
    message: str
    tag: str
    attribute: str | None
    line: int


def _is_mjml(tag: object) -> bool:
    return isinstance(tag, str) and (tag == "mjml" or tag.startswith("mj-"))


def _allowed(tag: str, parent: str | None) -> frozenset[str] | None:
    """Attributes allowed on ``tag``; None means anything goes."""
    if parent in ATTRIBUTE_DEFAULT_CONTAINERS:
        if tag == "mj-all":
            return ALL_ATTRIBUTES
        if tag == "mj-class":
            return None
    return ELEMENT_ATTRIBUTES.get(tag, frozenset()) | GLOBAL_ATTRIBUTES


def _walk(element: etree._Element, parent: str | None) -> Iterator[MjmlProblem]:
    tag = element.tag
    if not _is_mjml(tag):
        return
    assert isinstance(tag, str)
    line = int(getattr(element, "sourceline", None) or 0)
    if tag not in ELEMENT_ATTRIBUTES:
        yield MjmlProblem(f"<{tag}> is not an MJML element", tag, None, line)
        return
    allowed = _allowed(tag, parent)
    if allowed is not None:
        for name in element.attrib:
            if name not in allowed:
                yield MjmlProblem(
                    f"<{tag}> has no attribute {name!r} in MJML (it would be dropped silently)",
                    tag,
                    str(name),
                    line,
                )
    if tag in ENDING_TAGS:
        return
    for child in element:
        yield from _walk(child, tag)


def validate_mjml(source: str) -> list[MjmlProblem]:
    parser = etree.XMLParser(recover=True, resolve_entities=False, no_network=True)
    root = etree.fromstring(source.encode("utf-8"), parser)
    if root is None:
        return [MjmlProblem("the MJML is not well-formed", "mjml", None, 1)]
    return list(_walk(root, None))


def locate_in_templates(problem: MjmlProblem, templates_dir: Path) -> tuple[Path, int] | None:
    """Best guess at the template line that wrote the offending element."""
    needle = f"{problem.attribute}=" if problem.attribute else None
    for path in sorted(templates_dir.rglob("*.mjml.j2")):
        for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if f"<{problem.tag}" in text and (needle is None or needle in text):
                return path, number
    return None
