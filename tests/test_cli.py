"""The command line: formats, listings, exit codes and error messages."""

from __future__ import annotations

import json
from collections.abc import Callable
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest

from mailer.signing import peek
from tests.conftest import CliResult, Project

Cli = Callable[..., CliResult]


def test_render_html_to_stdout_by_number(cli: Cli) -> None:
    result = cli("render", "87")
    assert result.code == 0
    assert result.out.lower().startswith("<!doctype html>")
    assert "Korea Post" in result.out


def test_render_every_format_to_files(cli: Cli, project: Project) -> None:
    for fmt, marker in (("html", "<!doctype html>"), ("text", "Korea Post"), ("mjml", "<mj-body")):
        out = project.root / f"out.{fmt}"
        result = cli(
            "render", "issues/0087-postal-pact-and-ai-talent.md", "--format", fmt, "-o", str(out)
        )
        assert result.code == 0, result.err
        assert marker in out.read_text(encoding="utf-8")
        assert str(out) in result.err


def test_render_eml_is_personalized_for_to(cli: Cli, project: Project) -> None:
    out = project.root / "issue.eml"
    result = cli(
        "render", "88", "--format", "eml", "--to", "陈伟 <chen.wei@example.net>", "-o", str(out)
    )
    assert result.code == 0, result.err
    message = BytesParser(policy=policy.strict).parsebytes(out.read_bytes())
    assert message["To"] == "陈伟 <chen.wei@example.net>"
    assert message["List-Unsubscribe"].startswith("<https://newsletter.example.com/unsubscribe/")
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "chen.wei@example.net" in text


def test_signed_links_are_stable_across_runs(cli: Cli, project: Project) -> None:
    first = cli("render", "87", "--format", "text", "--to", "a@example.com").out
    second = cli("render", "87", "--format", "text", "--to", "a@example.com").out
    unsubscribe = [line for line in first.splitlines() if line.startswith("Unsubscribe:")]
    assert unsubscribe and unsubscribe[0] in second
    # A rendered copy is not a subscriber's: its link is a test copy's and names nobody.
    token = unsubscribe[0].rsplit("/", 1)[1]
    assert peek(token) == "#0\npreview"
    assert (project.root / "var" / "secret_key").stat().st_mode & 0o777 == 0o600


def test_render_bad_to_address_is_an_error(cli: Cli) -> None:
    result = cli("render", "87", "--to", "not an address")
    assert result.code == 1
    assert "--to" in result.err


def test_unknown_issue_number_is_exit_1(cli: Cli) -> None:
    result = cli("render", "4242")
    assert result.code == 1
    assert "no issue number 4242" in result.err
    assert "Traceback" not in result.err


def test_broken_issue_is_reported_with_file_and_line_not_a_traceback(
    cli: Cli, project: Project
) -> None:
    project.write_issue("0099-broken.md", "---\nnumber: 99\ntitle: x\n---\nbody\n")
    result = cli("render", "99")
    assert result.code == 1
    assert "0099-broken.md:2: front matter is missing required key" in result.err
    assert "Traceback" not in result.err


def test_usage_error_is_exit_2(cli: Cli) -> None:
    assert cli("render").code == 2
    assert cli("render", "87", "--format", "pdf").code == 2


def test_bad_config_is_exit_1_naming_key_and_file(cli: Cli, project: Project) -> None:
    project.config.write_text('[newsletter]\nnmae = "x"\n', encoding="utf-8")
    result = cli("issues")
    assert result.code == 1
    assert f"{project.config}: [newsletter] unknown key 'nmae'" in " ".join(result.err.split())


def test_issues_json_lists_every_issue_and_flags_broken_ones(cli: Cli, project: Project) -> None:
    project.write_issue("0099-broken.md", "no front matter\n")
    result = cli("issues", "--json")
    assert result.code == 0
    rows = json.loads(result.out)
    by_number = {row["number"]: row for row in rows if row["number"]}
    assert by_number[87]["template"] == "digest" and by_number[87]["status"] == "ready"
    assert by_number[88]["template"] == "feature" and by_number[88]["status"] == "draft"
    broken = [row for row in rows if row["status"] == "invalid"]
    assert len(broken) == 1 and "0099-broken.md:1:" in broken[0]["error"]


def test_issues_table_shows_titles(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # every column, a row a line
    result = cli("issues")
    assert result.code == 0
    assert "A postal pact" in result.out and "digest" in result.out


def test_python_dash_m_mailer_works(project: Project) -> None:
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "mailer", "issues", "--json"],
        cwd=project.root,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)[0]["number"] == 87


def test_config_option_is_used(cli: Cli, project: Project, tmp_path: Path) -> None:
    other = tmp_path / "other.toml"
    other.write_text(
        f'[newsletter]\nname = "Other Letter"\n[paths]\nissues = "{project.issues}"\n'
        f'templates = "{project.templates}"\n',
        encoding="utf-8",
    )
    result = cli("--config", str(other), "render", "87", "--format", "text")
    assert result.code == 0, result.err
    assert result.out.startswith("Other Letter")
