"""Helpers shared by the benchmarks: run the mailer command in a child process and read its
wall time, CPU time and peak memory."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

VENV_BIN = Path(sys.executable).parent


def mailer(config: Path, *args: str) -> list[str]:
    return [str(VENV_BIN / "mailer"), "--config", str(config), *args]


def run_measured(command: list[str], env: dict[str, str] | None = None) -> dict[str, Any]:
    """Wall time, CPU time (user + system) and peak RSS of one child process, and its output."""
    # Output goes to files, not pipes: wait4 must be the one to reap the child (for its
    # resource usage), which communicate() would do first.
    with tempfile.TemporaryFile() as output, tempfile.TemporaryFile() as errors:
        started = time.perf_counter()
        process = subprocess.Popen(command, env=env, stdout=output, stderr=errors)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        output.seek(0)
        errors.seek(0)
        if process.returncode != 0:
            detail = errors.read().decode(errors="replace")
            raise SystemExit(f"{' '.join(command)} failed:\n{detail}")
        return {
            "seconds": seconds,
            "cpu_seconds": usage.ru_utime + usage.ru_stime,
            "peak_rss_mb": usage.ru_maxrss / 1024,
            "stdout": output.read(),
        }
