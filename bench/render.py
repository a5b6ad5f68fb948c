"""Render speed (warm, per issue) and per-recipient substitution speed. Prints JSON.

Run: make bench   (or .venv/bin/python bench/render.py [--runs N] [--recipients N])
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from mailer.config import load_settings
from mailer.content import load_issue
from mailer.render.pipeline import Renderer
from mailer.render.tokens import Recipient

REPO = Path(__file__).resolve().parent.parent


def time_renders(renderer: Renderer, path: Path, templates: Path, runs: int) -> list[float]:
    renderer.render(load_issue(path, templates))  # warm: templates compiled, caches filled
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        renderer.render(load_issue(path, templates))
        timings.append(time.perf_counter() - started)
    return timings


def time_substitution(
    renderer: Renderer, path: Path, templates: Path, count: int
) -> dict[str, float]:
    rendered = renderer.render(load_issue(path, templates))
    readers = [
        Recipient(
            email=f"reader{n}@example.com",
            name=f"Reader <{n}> & Co",
            unsubscribe_url=f"https://newsletter.example.com/unsubscribe/{n:012d}.c2lnbmF0dXJlc2ln",
            preferences_url=f"https://newsletter.example.com/preferences/{n:012d}.c2lnbmF0dXJlc2ln",
            attributes={"city": "Hangzhou"},
        )
        for n in range(count)
    ]
    html_merge, text_merge = rendered.html_merge, rendered.text_merge
    started_cpu = time.process_time()
    started = time.perf_counter()
    size = 0
    for reader in readers:
        size += len(html_merge.personalize(reader)) + len(text_merge.personalize(reader))
    wall = time.perf_counter() - started
    cpu = time.process_time() - started_cpu
    return {
        "recipients": count,
        "html_bytes": len(rendered.html),
        "wall_seconds": round(wall, 3),
        "cpu_seconds": round(cpu, 3),
        "recipients_per_second": round(count / wall),
        "bytes_written": size,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=60)
    parser.add_argument("--recipients", type=int, default=200_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as var:
        os.environ["MAILER_PATHS_VAR"] = var
        settings = load_settings(REPO / "config.example.toml", cwd=REPO)
        renderer = Renderer(settings)
        issues = sorted(settings.paths.issues.glob("[0-9]*.md"))
        results: dict[str, object] = {"python": sys.version.split()[0], "runs": args.runs}
        per_issue = {}
        for path in issues:
            timings = time_renders(renderer, path, settings.paths.templates, args.runs)
            per_issue[path.name] = {
                "median_ms": round(statistics.median(timings) * 1000, 2),
                "p90_ms": round(sorted(timings)[int(len(timings) * 0.9)] * 1000, 2),
            }
        results["render_warm"] = per_issue
        results["substitution"] = time_substitution(
            renderer, issues[0], settings.paths.templates, args.recipients
        )
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
