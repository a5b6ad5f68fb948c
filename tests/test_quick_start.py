"""The README's promises a newcomer tries first: the Quick start's `mailer check 87 88` passes
as written, the missing postal address says how to set it, and every exit code is documented."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
from collections.abc import Callable

from tests.conftest import REPO, CliResult, Project

Cli = Callable[..., CliResult]
README = REPO / "README.md"


def section(title: str) -> str:
    text = README.read_text(encoding="utf-8")
    return text.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def quick_start_commands() -> list[list[str]]:
    """The shell lines of the Quick start, each split into words, comments dropped."""
    blocks = re.findall(r"```sh\n(.*?)```", section("Quick start"), flags=re.DOTALL)
    lines = [line.split("#", 1)[0].split() for block in blocks for line in block.splitlines()]
    return [words for words in lines if words]


def test_the_quick_starts_check_passes_as_written(cli: Cli, project: Project) -> None:
    # A fresh project: the sample issues and templates and no settings but what the Quick
    # start's own lines set up, run in the order they are written.
    project.config.unlink()
    ran_check = False
    for words in quick_start_commands():
        if words[0] == "cp":
            shutil.copy(REPO / words[1], project.root / words[2])
        elif words[:2] == [".venv/bin/mailer", "check"]:
            result = cli(*words[1:])
            assert result.code == 0, result.out + result.err
            assert result.out.count(": ok, ") == 2
            ran_check = True
    assert ran_check, "the Quick start no longer runs `mailer check`"


def test_a_missing_postal_address_says_how_to_set_it(cli: Cli, project: Project) -> None:
    project.config.write_text("", encoding="utf-8")
    result = cli("check", "87")
    assert result.code == 1
    assert "newsletter.postal_address is empty" in result.out
    assert "postal_address under [newsletter]" in result.out
    assert "MAILER_NEWSLETTER_POSTAL_ADDRESS" in result.out


def documented_exit_codes() -> set[int]:
    rows = re.findall(r"^\| (\d+) \|", section("Exit codes"), flags=re.MULTILINE)
    return {int(code) for code in rows}


def test_the_exit_codes_table_lists_ok_errors_and_usage(cli: Cli) -> None:
    assert cli("check", "87").code in documented_exit_codes()  # 0
    assert cli("check", "9999").code in documented_exit_codes()  # 1: no such issue
    assert cli("check", "--no-such-option").code in documented_exit_codes()  # 2
    assert {0, 1, 2} <= documented_exit_codes()


def test_preview_on_a_busy_port_exits_with_a_documented_code(project: Project) -> None:
    # In a process of its own, as a user runs it: uvicorn sets up logging and signals.
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "mailer", "preview", "87", "--port", str(port)],
            cwd=project.root,
            env={k: v for k, v in os.environ.items() if not k.startswith("MAILER_")},
            capture_output=True,
            text=True,
            timeout=120,  # only if it listened after all
            check=False,
        )
    # Refused as `serve` refuses it: one line naming the options, exit code 1.
    assert result.stderr == (
        f"error: cannot listen on 127.0.0.1 port {port} (--host, --port): Address already in use\n"
    )
    assert result.returncode == 1 and 1 in documented_exit_codes()
