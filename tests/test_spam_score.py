"""Every sample issue scores under 1.0 with SpamAssassin's local tests (Debian's package and
the rules it ships; no network tests, no Bayes), however mailer writes it: ``mailer render
--format eml``, the outbox transport, or the smtp transport to a real server."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest
import sqlalchemy as sa

from mailer.render.mjml_compile import MJML_PREVIEW_STYLE, PREVIEW_STYLE
from tests.conftest import Project
from tests.wire_messages import SAMPLE_NUMBERS, WAYS, Cli, wire_messages

LIMIT = 1.0
# Local tests only, nothing learnt or looked up, nothing written outside the test's folder.
OFFLINE = ["use_bayes 0", "bayes_auto_learn 0", "skip_rbl_checks 1", "use_auto_whitelist 0"]
_STATUS = re.compile(r"^X-Spam-Status: (.*?)(?=^\S)", re.MULTILINE | re.DOTALL)


@dataclass(frozen=True)
class Verdict:
    score: float
    rules: list[str]


def spam_verdict(raw: bytes, home: Path) -> Verdict:
    command = shutil.which("spamassassin")
    assert command, "SpamAssassin is not installed: run `make spamassassin`"
    home.mkdir(parents=True, exist_ok=True)
    prefs = home / "user_prefs"
    prefs.write_text("", encoding="utf-8")
    extra = [f"--cf={line}" for line in OFFLINE]
    checked = subprocess.run(
        [command, "-L", "-t", "-x", "-p", str(prefs), *extra],
        input=raw,
        capture_output=True,
        env={"HOME": str(home), "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
        timeout=120,
        check=True,
    )
    output = checked.stdout.decode("utf-8", "replace")
    match = _STATUS.search(output)
    assert match, f"no X-Spam-Status in SpamAssassin's answer:\n{output[:2000]}"
    status = " ".join(match.group(1).split())
    score = re.search(r"score=(-?[\d.]+)", status)
    rules = re.search(r"tests=(\S*)", status)
    assert score and rules, status
    return Verdict(float(score.group(1)), [r for r in rules.group(1).split(",") if r != "none"])


@pytest.mark.parametrize("number", SAMPLE_NUMBERS)
def test_every_sample_issue_scores_under_one_however_it_is_written(
    db_project: Project, cli: Cli, project_engine: sa.Engine, tmp_path: Path, number: int
) -> None:
    messages = wire_messages(db_project, cli, project_engine, number)
    assert set(messages) == set(WAYS)
    for way, raw in messages.items():
        verdict = spam_verdict(raw, tmp_path / "sa-home")
        assert verdict.score < LIMIT, (
            f"issue {number} as written by {way}: {verdict.score} points; rules that fired: "
            f"{', '.join(verdict.rules)}"
        )
        assert "HTML_FONT_LOW_CONTRAST" not in verdict.rules
        assert "MIME_QP_LONG_LINE" not in verdict.rules


def test_a_preheader_painted_the_background_colour_would_be_scored(
    project: Project, cli: Cli, tmp_path: Path
) -> None:
    """The check can fail: MJML's own way of hiding the preheader (white text on a white page)
    is scored as hidden text."""
    eml = tmp_path / "87.eml"
    assert cli("render", "87", "--format", "eml", "-o", str(eml)).code == 0
    message = BytesParser(policy=policy.default).parsebytes(eml.read_bytes())
    html_part = message.get_body(("html",))
    assert html_part is not None
    html = html_part.get_content()
    assert PREVIEW_STYLE in html and MJML_PREVIEW_STYLE not in html
    html_part.set_content(
        html.replace(PREVIEW_STYLE, MJML_PREVIEW_STYLE), subtype="html", charset="utf-8"
    )
    verdict = spam_verdict(message.as_bytes(), tmp_path / "sa-home")
    assert "HTML_FONT_LOW_CONTRAST" in verdict.rules, verdict
