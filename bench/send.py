"""Sending benchmark: prints JSON.

For each size (default 100,000 and 1,000,000 subscribers): imports a list into a fresh SQLite
project (not timed), starts the SendGrid emulator in a process of its own, then times
``mailer send 87 --list bench --transport sendgrid --yes`` end to end in a child process:
audience snapshot, batches, HTTP, ledger. Reports wall time, the sender's CPU time and peak
RSS, requests and recipients/s, and checks the emulator received everyone exactly once.

Then, from the same run, the floor: bench/send_floor.py POSTs the same request bodies, built
beforehand, to a fresh emulator over one connection; the ratio is sender wall / floor time.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path
from typing import Any

from measure import VENV_BIN, mailer, run_measured

REPO = Path(__file__).resolve().parent.parent
API_KEY = "SG.bench-key"
LINK_KEY = "bench-link-signing-key-0123456789"
NAMES = ["Ada Lin", "王芳", "陈伟", "李娜", "Sam Taylor", "María García", "Kenji Sato"]
ZONES = ["Asia/Shanghai", "Asia/Hong_Kong", "Asia/Singapore", "America/New_York"]


def write_subscribers(path: Path, count: int, seed: int = 11) -> None:
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["email", "name", "country", "timezone"])
        for number in range(count):
            writer.writerow(
                [
                    f"reader{number}@mail{number % 997}.example.com",
                    rng.choice(NAMES),
                    rng.choice(["CN", "HK", "SG", "US"]),
                    rng.choice(ZONES),
                ]
            )


class Emulator:
    """``mailer emulate sendgrid`` in a process of its own, on a free port."""

    def __init__(self, config: Path) -> None:
        self.process = subprocess.Popen(
            mailer(config, "emulate", "sendgrid", "--port", "0"),
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        self.url = line.rsplit(" ", 1)[-1].strip()

    def summary(self) -> dict[str, Any]:
        with urllib.request.urlopen(f"{self.url}/_emulator/summary") as response:
            found: dict[str, Any] = json.loads(response.read())
        return found

    def stop(self) -> float:
        """Stops it; returns the CPU seconds it used."""
        self.process.send_signal(signal.SIGTERM)
        _, _, usage = os.wait4(self.process.pid, 0)
        self.process.returncode = 0
        return usage.ru_utime + usage.ru_stime


def write_config(work: Path, url: str) -> Path:
    config = work / "mailer.toml"
    config.write_text(
        f"""[newsletter]
postal_address = "Room 1201, 88 Example Road, Shanghai 200000, China"
[paths]
issues = "{REPO / "issues"}"
templates = "{REPO / "templates" / "email"}"
var = "{work / "var"}"
[transport]
default = "sendgrid"
[transport.sendgrid]
host = "{url}"
""",
        encoding="utf-8",
    )
    return config


def measure(size: int, floor: bool) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="mailer-bench-send-"))
    env = {**os.environ, "SENDGRID_API_KEY": API_KEY, "MAILER_SECRET_KEY": LINK_KEY}
    try:
        data = work / "people.csv"
        write_subscribers(data, size)
        config = write_config(work, "http://127.0.0.1:1")
        for command in (
            ["lists", "create", "bench"],
            ["subscribers", "import", str(data), "--list", "bench", "--confirmed", "--json"],
        ):
            subprocess.run(mailer(config, *command), check=True, capture_output=True, env=env)

        emulator = Emulator(config)
        config = write_config(work, emulator.url)
        sent = run_measured(
            mailer(config, "send", "87", "--list", "bench", "--yes", "--json"), env=env
        )
        received = emulator.summary()
        emulator_cpu = emulator.stop()
        campaign = json.loads(sent.pop("stdout"))
        report: dict[str, Any] = {
            "subscribers": size,
            "wall_seconds": round(sent["seconds"], 2),
            "sender_cpu_seconds": round(sent["cpu_seconds"], 2),
            "emulator_cpu_seconds": round(emulator_cpu, 2),
            "requests": received.get("accepted", 0),
            "recipients_per_second": round(size / sent["seconds"]),
            "peak_rss_mb": round(sent["peak_rss_mb"], 1),
            "sent": campaign["counts"]["sent"],
            "received": received["recipients"],
            "duplicates": received["duplicates"],
        }
        if floor:
            emulator = Emulator(config)
            posted = run_measured(
                [
                    str(VENV_BIN / "python"),
                    str(Path(__file__).with_name("send_floor.py")),
                    str(config),
                    str(campaign["id"]),
                    emulator.url,
                ],
                env=env,
            )
            floor_received = emulator.summary()["recipients"]
            emulator.stop()
            result = json.loads(posted["stdout"])
            report["floor"] = {
                "post_seconds": round(result["post_seconds"], 2),
                "requests": result["requests"],
                "body_mb": round(result["body_mb"], 1),
                "received": floor_received,
                "ratio": round(sent["seconds"] / result["post_seconds"], 2),
            }
        return report
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--subscribers", type=int, nargs="+", default=[100_000, 1_000_000],
        help="List sizes to send to; the floor is measured for the largest.",
    )  # fmt: skip
    args = parser.parse_args()
    sizes = sorted(args.subscribers)
    runs = []
    for size in sizes:
        runs.append(measure(size, floor=size == sizes[-1]))
        print(json.dumps(runs[-1]), file=sys.stderr, flush=True)  # progress, for long runs
    report: dict[str, Any] = {"python": sys.version.split()[0], "runs": runs}
    if len(runs) > 1:
        report["peak_rss_growth_mb"] = round(runs[-1]["peak_rss_mb"] - runs[0]["peak_rss_mb"], 1)
    print(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
