"""Pieces of bench/send.py: a project with an imported list, the SendGrid emulator in a
process of its own, one measured ``mailer send`` and the floor script's run."""

from __future__ import annotations

import csv
import json
import os
import random
import shutil
import signal
import subprocess
import tempfile
import urllib.request
from pathlib import Path
from typing import Any, NamedTuple

from measure import VENV_BIN, mailer, run_measured

REPO = Path(__file__).resolve().parent.parent
API_KEY = "SG.bench-key"
LINK_KEY = "bench-link-signing-key-0123456789"
NAMES = ["Ada Lin", "王芳", "陈伟", "李娜", "Sam Taylor", "María García", "Kenji Sato"]
ZONES = ["Asia/Shanghai", "Asia/Hong_Kong", "Asia/Singapore", "America/New_York"]
ISSUE = "87"


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
    """``mailer emulate sendgrid --latency S`` in a process of its own, on a free port."""

    def __init__(self, config: Path, latency: float = 0.0) -> None:
        command = mailer(config, "emulate", "sendgrid", "--port", "0", "--latency", str(latency))
        self.process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        self.url = line.rsplit(" ", 1)[-1].strip()

    def _call(self, method: str, path: str) -> bytes:
        request = urllib.request.Request(f"{self.url}{path}", method=method)
        with urllib.request.urlopen(request) as response:
            body: bytes = response.read()
        return body

    def summary(self) -> dict[str, Any]:
        found: dict[str, Any] = json.loads(self._call("GET", "/_emulator/summary"))
        return found

    def reset(self) -> None:
        """Forgets what it received, so that the next send is counted on its own."""
        self._call("DELETE", "/_emulator/messages")

    def stop(self) -> float:
        """Stops it; returns the CPU seconds it used."""
        self.process.send_signal(signal.SIGTERM)
        _, _, usage = os.wait4(self.process.pid, 0)
        self.process.returncode = 0
        return usage.ru_utime + usage.ru_stime


class Sent(NamedTuple):
    report: dict[str, Any]
    campaign_id: int
    seconds: float  # the sender's wall time, unrounded


class Project:
    """A fresh SQLite project in a temporary folder, with a list named "bench" of ``size``
    confirmed subscribers (imported here, not timed). Sends go to the emulator named by
    ``configure``; each ``send`` is a campaign of its own to the same list, and ``restore``
    between them takes the database back to its state after the import."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.work = Path(tempfile.mkdtemp(prefix="mailer-bench-send-"))
        self.env = {**os.environ, "SENDGRID_API_KEY": API_KEY, "MAILER_SECRET_KEY": LINK_KEY}
        self.config = self.configure("http://127.0.0.1:1")
        data = self.work / "people.csv"
        write_subscribers(data, size)
        for command in (
            ["lists", "create", "bench"],
            ["subscribers", "import", str(data), "--list", "bench", "--confirmed", "--json"],
        ):
            subprocess.run(
                mailer(self.config, *command), check=True, capture_output=True, env=self.env
            )
        data.unlink()
        self.snapshot = self.work / "snapshot"
        shutil.copytree(self.work / "var", self.snapshot)

    def restore(self) -> None:
        """Puts the database back as it was after the import, so that repeated sends each
        start from the same state rather than from the campaigns before them."""
        shutil.rmtree(self.work / "var")
        shutil.copytree(self.snapshot, self.work / "var")

    def configure(self, url: str, concurrency: int | None = None) -> Path:
        """Writes the config: the sendgrid transport at ``url``; ``concurrency`` None leaves
        the setting out, so the built-in default holds."""
        setting = "" if concurrency is None else f"concurrency = {concurrency}\n"
        config = self.work / "mailer.toml"
        config.write_text(
            f"""[newsletter]
postal_address = "Room 1201, 88 Example Road, Shanghai 200000, China"
[paths]
issues = "{REPO / "issues"}"
templates = "{REPO / "templates" / "email"}"
var = "{self.work / "var"}"
[transport]
default = "sendgrid"
[transport.sendgrid]
host = "{url}"
{setting}""",
            encoding="utf-8",
        )
        return config

    def send(self, emulator: Emulator) -> Sent:
        """One timed ``mailer send`` to the whole list; the figures and the campaign's id.
        The emulator is reset first, so "received" and "duplicates" are this send's alone."""
        emulator.reset()
        sent = run_measured(
            # --again: each send is one more campaign of the issue to the same list.
            mailer(self.config, "send", ISSUE, "--list", "bench", "--again", "--yes", "--json"),
            env=self.env,
        )
        received = emulator.summary()
        campaign = json.loads(sent.pop("stdout"))
        report = {
            "wall_seconds": round(sent["seconds"], 2),
            "sender_cpu_seconds": round(sent["cpu_seconds"], 2),
            "requests": received.get("accepted", 0),
            "recipients_per_second": round(self.size / sent["seconds"]),
            "peak_rss_mb": round(sent["peak_rss_mb"], 1),
            "sent": campaign["counts"]["sent"],
            "received": received["recipients"],
            "duplicates": received["duplicates"],
        }
        report["exactly_once"] = report["received"] == self.size and not report["duplicates"]
        if "connections" in received:  # TCP connections that carried a send: keep-alive shows
            report["connections"] = received["connections"]
        return Sent(report, int(campaign["id"]), sent["seconds"])

    def floor(self, campaign_id: int, sender_seconds: float | None) -> dict[str, Any]:
        """bench/send_floor.py on a campaign already sent, to a fresh emulator with no latency:
        the time to POST the same bodies, built beforehand, over one connection. The ratio
        (sender wall / floor) is given only for ``sender_seconds`` measured with no latency
        too; against a far server it would mostly measure the latency."""
        emulator = Emulator(self.config)
        try:
            posted = run_measured(
                [
                    str(VENV_BIN / "python"),
                    str(Path(__file__).with_name("send_floor.py")),
                    str(self.config),
                    str(campaign_id),
                    emulator.url,
                ],
                env=self.env,
            )
            received = emulator.summary()["recipients"]
        finally:
            emulator.stop()
        result = json.loads(posted["stdout"])
        floor: dict[str, Any] = {
            "latency_seconds": 0.0,
            "post_seconds": round(result["post_seconds"], 2),
            "requests": result["requests"],
            "body_mb": round(result["body_mb"], 1),
            "received": received,
        }
        if sender_seconds is not None:
            floor["ratio"] = round(sender_seconds / result["post_seconds"], 2)
        return floor

    def remove(self) -> None:
        shutil.rmtree(self.work, ignore_errors=True)
