"""Run ``mailer`` in a child process with a memory ceiling and a time limit.

Tests of inputs that once exhausted the machine (YAML "billion laughs", unbounded template
loops) run the real command this way: on code without the limits they fail with a
MemoryError or a timeout in the child instead of taking the test run, or the machine, down.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import REPO

MEMORY_LIMIT = 1 << 30
"""Address space for the child: a normal ``mailer check`` stays far below it."""
TIME_LIMIT = 90.0
"""Seconds before the child is killed; a normal run takes one or two on a busy machine."""


@dataclass(frozen=True)
class GuardedRun:
    code: int | None
    """The exit code, or None when the time limit ended the run."""
    out: str
    err: str


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def run_mailer(cwd: Path, *args: str) -> GuardedRun:
    """``python -m mailer ARGS`` in ``cwd`` (which holds the project's mailer.toml)."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("MAILER_")}
    env["PYTHONPATH"] = str(REPO)  # the code under test, however the package is installed
    try:
        done = subprocess.run(
            [sys.executable, "-m", "mailer", *args],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=TIME_LIMIT,
            preexec_fn=_limit_memory,
            check=False,
        )
    except subprocess.TimeoutExpired as expired:
        return GuardedRun(None, _text(expired.stdout), _text(expired.stderr))
    return GuardedRun(done.returncode, done.stdout, done.stderr)


def _text(output: str | bytes | None) -> str:
    if isinstance(output, bytes):
        return output.decode("utf-8", "replace")
    return output or ""
