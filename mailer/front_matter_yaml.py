"""Front matter YAML read as plain, bounded data, with each key's line for error messages.

Every scalar stays a string (YAML's BaseLoader), so ``title: NO`` stays "NO" and the model in
``mailer.content`` does the typing. Front matter needs none of YAML's anchors and aliases, and
they are how a few hundred bytes stand for gigabytes ("billion laughs"), so they are refused
as soon as the parser meets one, before anything is built. Nesting is bounded too (the
composer recurses once per level), and so is the text given to the parser.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from mailer.errors import LocatedError

MAX_FRONT_MATTER_CHARS = 64 * 1024
"""Far more than any real front matter; the pure-Python parser reads this much in ~0.25 s."""
MAX_NESTING = 8
"""Lists and mappings inside each other; front matter uses two levels (``hero: {src: ...}``)."""
FIRST_LINE = 2
"""The front matter starts on the line after the opening ``---``."""

KeyPath = tuple[Any, ...]


class _Refused(yaml.MarkedYAMLError):
    """YAML that is valid but not allowed in front matter."""


class _FrontMatterLoader(yaml.BaseLoader):
    """BaseLoader that refuses anchors and aliases and nesting past ``MAX_NESTING``."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        event: Any = self.peek_event()  # type: ignore[no-untyped-call]
        collection = isinstance(event, yaml.CollectionStartEvent)
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise _Refused(
                problem="anchors and aliases ('&name', '*name') are not allowed in front matter",
                problem_mark=event.start_mark,
            )
        if collection and self._depth >= MAX_NESTING:
            raise _Refused(
                problem=f"front matter is nested more than {MAX_NESTING} levels deep",
                problem_mark=event.start_mark,
            )
        self._depth += collection
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= collection


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _yaml_error(path: Path, text: str, exc: yaml.YAMLError) -> LocatedError:
    if isinstance(exc, yaml.reader.ReaderError):
        line = FIRST_LINE + text.count("\n", 0, max(exc.position, 0))
        character = f"U+{exc.character:04X}"
        return LocatedError(
            path, line, f"front matter is not valid YAML: the character {character} is not allowed"
        )
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        line = FIRST_LINE + mark.line if mark else FIRST_LINE
        problem = _one_line(exc.problem or exc.context or "cannot be read")
        if isinstance(exc, _Refused):
            return LocatedError(path, line, problem)
        return LocatedError(path, line, f"front matter is not valid YAML: {problem}")
    return LocatedError(path, FIRST_LINE, f"front matter is not valid YAML: {_one_line(str(exc))}")


def _key_lines(node: yaml.Node, prefix: KeyPath) -> dict[KeyPath, int]:
    """Map each key path in the YAML tree to its line number in the file."""
    lines: dict[KeyPath, int] = {}
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            path = (*prefix, key_node.value)
            lines[path] = FIRST_LINE + key_node.start_mark.line
            lines.update(_key_lines(value_node, path))
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            path = (*prefix, index)
            lines[path] = FIRST_LINE + item.start_mark.line
            lines.update(_key_lines(item, path))
    return lines


def read_front_matter(path: Path, text: str) -> tuple[dict[str, Any], dict[KeyPath, int]]:
    """The front matter as a mapping of strings, lists and mappings, and each key's line."""
    if len(text) > MAX_FRONT_MATTER_CHARS:
        raise LocatedError(
            path, FIRST_LINE, f"front matter is over {MAX_FRONT_MATTER_CHARS // 1024} KiB"
        )
    try:
        loader = _FrontMatterLoader(text)
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        raise _yaml_error(path, text, exc) from None
    if not isinstance(data, dict) or node is None:
        raise LocatedError(path, FIRST_LINE, "front matter must be a mapping of 'key: value' lines")
    return data, _key_lines(node, ())
