"""Sending benchmark: prints JSON.

For each size (default 100,000 and 1,000,000 subscribers): imports a list into a fresh SQLite
project (not timed), starts the SendGrid emulator in a process of its own (``--latency S``:
every request takes S seconds before its answer, like a far server), then times
``mailer send 87 --list bench --transport sendgrid --yes`` end to end in a child process:
audience snapshot, batches, HTTP, ledger. Reports wall time, the sender's CPU time and peak
RSS, requests and recipients/s, and checks the emulator received everyone exactly once.
``--concurrency N`` writes ``[transport.sendgrid] concurrency = N`` into the project's config;
without it the built-in default holds.

Then, from the same run, the floor: bench/send_floor.py POSTs the same request bodies, built
beforehand, to a fresh emulator over one connection, always with no latency; the ratio
(sender wall / floor time) is given when the sends had no latency either.

With ``--concurrency-table 1 2 4 8 16 32``: one more list of ``--table-subscribers`` is
imported once, and sent to once per concurrency at ``--latency`` (0.2 s if none was given),
each a new campaign, with the database put back to its state after the import and the
emulator's record reset in between: throughput against concurrency, "concurrency_table".
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from send_parts import Emulator, Project

from mailer.config import SendGridSettings

TABLE_LATENCY = 0.2  # about a round trip plus upload to a far provider


def measure(size: int, latency: float, concurrency: int | None, floor: bool) -> dict[str, Any]:
    """One send of ``size`` subscribers, in a project of its own; the floor too if asked."""
    project = Project(size)
    try:
        emulator = Emulator(project.config, latency)
        try:
            project.config = project.configure(emulator.url, concurrency)
            sent = project.send(emulator)
        finally:
            emulator_cpu = emulator.stop()
        report: dict[str, Any] = {
            "subscribers": size,
            "latency_seconds": latency,
            "concurrency": concurrency or SendGridSettings().concurrency,
            **sent.report,
            "emulator_cpu_seconds": round(emulator_cpu, 2),
        }
        if floor:
            sender_seconds = sent.seconds if latency == 0 else None
            report["floor"] = project.floor(sent.campaign_id, sender_seconds)
        return report
    finally:
        project.remove()


def concurrency_table(size: int, latency: float, levels: list[int]) -> list[dict[str, Any]]:
    """One send of the same list per concurrency level, to one emulator reset in between."""
    project = Project(size)
    try:
        emulator = Emulator(project.config, latency)
        try:
            rows = []
            for level in levels:
                project.restore()
                project.config = project.configure(emulator.url, level)
                row = {"concurrency": level, **project.send(emulator).report}
                print(json.dumps(row), file=sys.stderr, flush=True)  # progress
                rows.append(row)
            return rows
        finally:
            emulator.stop()
    finally:
        project.remove()


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--subscribers",
        type=int,
        nargs="+",
        default=[100_000, 1_000_000],
        help="List sizes to send to; the floor is measured for the largest.",
    )
    parser.add_argument(
        "--latency",
        type=float,
        default=None,
        metavar="SECONDS",
        help="Seconds the emulator takes over every request (default 0).",
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        default=None,
        metavar="N",
        help="[transport.sendgrid] concurrency for the main runs (default: the built-in one).",
    )
    parser.add_argument(
        "--no-floor", action="store_true", help="Skip the floor (bench/send_floor.py)."
    )
    parser.add_argument(
        "--concurrency-table",
        type=int,
        nargs="+",
        default=[],
        metavar="N",
        help="After the main runs, one send per concurrency level, e.g. 1 2 4 8 16 32, "
        f"at --latency ({TABLE_LATENCY} s if none was given).",
    )
    parser.add_argument(
        "--table-subscribers",
        type=int,
        default=100_000,
        metavar="N",
        help="List size for the concurrency table (default 100,000).",
    )
    args = parser.parse_args()
    chosen = [*args.concurrency_table, *([] if args.concurrency is None else [args.concurrency])]
    if any(level < 1 for level in chosen):
        parser.error("a concurrency is at least 1")
    return args


def main() -> None:
    args = arguments()
    latency = args.latency or 0.0
    sizes = sorted(args.subscribers)
    runs = []
    for size in sizes:
        floor = not args.no_floor and size == sizes[-1]
        runs.append(measure(size, latency, args.concurrency, floor))
        print(json.dumps(runs[-1]), file=sys.stderr, flush=True)  # progress, for long runs
    report: dict[str, Any] = {"python": sys.version.split()[0], "runs": runs}
    if len(runs) > 1:
        report["peak_rss_growth_mb"] = round(runs[-1]["peak_rss_mb"] - runs[0]["peak_rss_mb"], 1)
    if latency and not args.no_floor:
        report["floor_note"] = (
            f"the floor was measured with no latency; the runs had {latency} s per request"
        )
    if args.concurrency_table:
        table_latency = TABLE_LATENCY if args.latency is None else args.latency
        report["concurrency_table_latency_seconds"] = table_latency
        report["concurrency_table"] = concurrency_table(
            args.table_subscribers, table_latency, args.concurrency_table
        )
    print(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
