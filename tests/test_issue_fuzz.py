"""Arbitrary bytes as an issue file: never a traceback, always an issue or ``path:line: message``.

The inputs mix random bytes with pieces of YAML and Jinja, so that the examples reach the
front matter parser, the body's template language and the Markdown renderer, not only the
first check that rejects them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailer.checks.issue_checks import check_issue
from mailer.config import Settings, load_settings
from mailer.content import parse_issue
from mailer.errors import LocatedError
from mailer.render.pipeline import Renderer
from mailer.render.tokens import HTML_PART, TEXT_PART
from tests.conftest import POSTAL_ADDRESS, REPO

VALID_HEAD = (
    "number: 90\ntitle: T\nsubject: S\ndate: 2026-11-23\ntemplate: digest\n"
    "tags: [ai]\nhero:\n  src: https://x.example/a.png\n  alt: A\n"
)
YAML_PIECES = [
    *VALID_HEAD.splitlines(keepends=True),
    *("tags: [", "[", "]", "{", "}", ", ", ": ", "- ", "? ", "  ", "\n", "&a ", "*a", "!!str "),
    *("!x ", "|\n", ">-\n", '"', "'", "\\", "# c", "\t", "\x00", "\x01", "\x85", "\u2028"),
    *("\r", "\ufeff", "%YAML 1.1\n", "--- ", "...\n", "status: ready\n", "byline: "),
    *("number: 99999999999999999999\n", "source: {name: N, url: u}\n", "date: 2026-02-30\n"),
]
JINJA_PIECES = [
    *("{{", "}}", "{%", "%}", "{#", "#}", "{{-", "-}}", " if ", " elif ", " else ", " endif "),
    *(" for ", " endfor ", " in ", " set ", " include ", " raw ", " endraw ", " macro "),
    *("(", ")", "[", "]", "'x'", '"', ".", "|", " upper", " default", " truncate(3)", " length"),
    *(" == ", " not ", " and ", " or ", "~", "=", "subscriber", "issue", "newsletter", ".name"),
    *(".first_name", ".attributes.city", ".title", ".tags", ".__class__", "\n", "\n\n", "## "),
    *("[a](https://x.example/)", "[b](javascript:x)", "![", "](", "*", "`", "<b>", "&amp;"),
    *("| a | b |\n|---|---|\n", "> ", "- ", "\x00", "\u2028", "1" * 5000, "1e999", "0x1f"),
]
PATH = Path("issues/0090-fuzz.md")
# The fixtures are module-scoped and read-only, so sharing them across examples is fine.
FIXTURES = HealthCheck.function_scoped_fixture


@st.composite
def issue_bytes(draw: st.DrawFn) -> bytes:
    """Bytes that look more or less like an issue file."""
    if draw(st.integers(0, 9)) == 0:
        return draw(st.binary(max_size=600))
    head = VALID_HEAD if draw(st.booleans()) else ""
    front = draw(st.lists(st.sampled_from(YAML_PIECES) | st.text(max_size=4), max_size=10))
    body = draw(st.lists(st.sampled_from(JINJA_PIECES) | st.text(max_size=4), max_size=40))
    raw = ("---\n" + head + "".join(front) + "\n---\n" + "".join(body)).encode("utf-8")
    if draw(st.integers(0, 4)) == 0:
        at = draw(st.integers(0, len(raw)))
        raw = raw[:at] + draw(st.binary(min_size=1, max_size=8)) + raw[at:]
    return raw


def assert_located(error: LocatedError, path: Path) -> None:
    assert error.path == path
    assert error.line is not None and error.line >= 1
    assert str(error).startswith(f"{path}:{error.line}: ")
    assert "\n" not in error.message


@pytest.fixture(scope="module")
def fuzz_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    root = tmp_path_factory.mktemp("fuzz")
    (root / "issues").mkdir()
    config = root / "mailer.toml"
    config.write_text(
        f'[newsletter]\npostal_address = "{POSTAL_ADDRESS}"\n'
        f'[paths]\nissues = "{root / "issues"}"\ntemplates = "{REPO / "templates" / "email"}"\n',
        encoding="utf-8",
    )
    return load_settings(config, environ={}, cwd=root)


@pytest.fixture(scope="module")
def renderer(fuzz_settings: Settings) -> Iterator[Renderer]:
    yield Renderer(fuzz_settings)


@settings(max_examples=400, deadline=None, suppress_health_check=[FIXTURES])
@given(raw=issue_bytes())
def test_any_bytes_load_and_render_or_name_file_and_line(
    raw: bytes, fuzz_settings: Settings, renderer: Renderer
) -> None:
    try:
        issue = parse_issue(PATH, raw, fuzz_settings.paths.templates)
    except LocatedError as error:
        assert_located(error, PATH)
        return
    for part in (HTML_PART, TEXT_PART):
        try:
            renderer.body(issue, part)
        except LocatedError as error:
            assert_located(error, PATH)


@settings(max_examples=40, deadline=None, suppress_health_check=[FIXTURES])
@given(raw=issue_bytes())
def test_check_reports_any_file_as_findings(
    raw: bytes, fuzz_settings: Settings, renderer: Renderer
) -> None:
    path = fuzz_settings.paths.issues / "0090-fuzz.md"
    path.write_bytes(raw)
    report = check_issue(path, fuzz_settings, renderer)
    if report.html_bytes is None:  # it did not load or render: one error saying where
        [finding] = report.findings
        assert (finding.level, finding.path) == ("error", path)
        assert finding.line is not None and finding.line >= 1
