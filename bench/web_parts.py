"""Parts of the public web benchmark (bench/web.py): a project with a list and the SendGrid
emulator, ``mailer serve`` processes, wrk runs, and sends in a loop while wrk runs."""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from measure import mailer, run_measured
from send_parts import API_KEY, LINK_KEY, REPO, Emulator, write_subscribers

WRK_SCRIPT = Path(__file__).with_name("web_load.lua")
POSTGRES_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
ENV = {**os.environ, "SENDGRID_API_KEY": API_KEY, "MAILER_SECRET_KEY": LINK_KEY}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextlib.contextmanager
def database(backend: str, work: Path) -> Iterator[str]:
    """A fresh database: a SQLite file, or a schema of its own on PostgreSQL."""
    if backend == "sqlite":
        yield ""
        return
    import sqlalchemy as sa

    schema = f"mailer_bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    with admin.begin() as connection:
        connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
    separator = "&" if "?" in POSTGRES_URL else "?"
    try:
        yield f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


def write_config(work: Path, database_url: str, sendgrid_url: str) -> Path:
    config = work / "mailer.toml"
    config.write_text(
        f"""[newsletter]
name = "Bench Weekly"
postal_address = "Room 1201, 88 Example Road, Shanghai 200000, China"
base_url = "http://127.0.0.1:8080"
[paths]
issues = "{REPO / "issues"}"
templates = "{REPO / "templates" / "email"}"
web_templates = "{REPO / "templates" / "web"}"
var = "{work / "var"}"
[database]
url = "{database_url}"
[transport]
default = "sendgrid"
[transport.sendgrid]
host = "{sendgrid_url}"
[web]
forwarded_allow_ips = ["127.0.0.1"]
""",
        encoding="utf-8",
    )
    return config


def run_mailer(config: Path, *args: str) -> str:
    done = subprocess.run(mailer(config, *args), capture_output=True, text=True, env=ENV)
    if done.returncode != 0:
        raise SystemExit(f"mailer {' '.join(args)} failed:\n{done.stderr}")
    return done.stdout


@dataclass
class Project:
    work: Path
    config: Path
    emulator: Emulator
    database_url: str

    def mailer_object(self) -> Any:
        from mailer.app import Mailer
        from mailer.config import load_settings

        return Mailer(load_settings(self.config, ENV), environ=ENV)


def make_project(work: Path, database_url: str, subscribers: int, list_names: list[str]) -> Project:
    """A project whose lists each hold the same ``subscribers`` confirmed people."""
    data = work / "people.csv"
    write_subscribers(data, subscribers)
    config = write_config(work, database_url, "http://127.0.0.1:1")
    for name in list_names:
        run_mailer(config, "lists", "create", name)
        run_mailer(config, "subscribers", "import", str(data), "--list", name, "--confirmed")
    data.unlink()
    emulator = Emulator(config)
    return Project(work, write_config(work, database_url, emulator.url), emulator, database_url)


def unsubscribe_paths(project: Project, list_name: str, count: int, seed: int = 5) -> list[str]:
    """The one-click paths of ``count`` members of the list, in a random order."""
    import sqlalchemy as sa

    from mailer.db.tables import lists, memberships, subscribers
    from mailer.links import UNSUBSCRIBE, link_token

    app = project.mailer_object()
    key = app.signing_key
    with app.engine.connect() as connection:
        rows = connection.execute(
            sa.select(subscribers.c.id, subscribers.c.email)
            .join(memberships, memberships.c.subscriber_id == subscribers.c.id)
            .join(lists, lists.c.id == memberships.c.list_id)
            .where(lists.c.name == list_name)
            .order_by(subscribers.c.id)
            .limit(count)
        ).all()
    app.close()
    paths = [f"/unsubscribe/{link_token(key, UNSUBSCRIBE, i, e, list_name)}" for i, e in rows]
    random.Random(seed).shuffle(paths)
    return paths


def count_unsubscribed(project: Project, list_name: str) -> int:
    import sqlalchemy as sa

    from mailer.db.tables import lists, memberships

    app = project.mailer_object()
    with app.engine.connect() as connection:
        found = connection.execute(
            sa.select(sa.func.count())
            .select_from(memberships)
            .join(lists, lists.c.id == memberships.c.list_id)
            .where(lists.c.name == list_name, memberships.c.status == "unsubscribed")
        ).scalar_one()
    app.close()
    return int(found)


class Server:
    """``mailer serve`` in a process of its own, answering on a free port."""

    def __init__(self, project: Project, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = project.work / f"serve-{self.port}.log"
        with self.log.open("wb") as output:
            self.process = subprocess.Popen(
                mailer(project.config, "serve", "--port", str(self.port)),
                env={**ENV, "MAILER_NEWSLETTER_BASE_URL": self.url, **(env or {})},
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(f"{self.url}/healthz", timeout=2) as answer,
            ):
                if answer.status == 200:
                    return
            time.sleep(0.2)
        raise SystemExit(f"mailer serve did not answer:\n{self.log.read_text()}")

    def problems(self) -> int:
        """Lines of the server's log that tell of a failure (tracebacks, a locked database)."""
        text = self.log.read_text(encoding="utf-8", errors="replace")
        return sum(
            1
            for line in text.splitlines()
            if "Traceback" in line or "locked" in line or " 500 " in line
        )

    def stop(self) -> float:
        """Stops it; returns the CPU seconds it used."""
        self.process.send_signal(signal.SIGTERM)
        _, _, usage = os.wait4(self.process.pid, 0)
        self.process.returncode = 0
        return usage.ru_utime + usage.ru_stime


@dataclass(frozen=True)
class Load:
    """What wrk sends: a method, paths (each used once, per thread), an optional body."""

    method: str
    paths: list[str]
    body: str = ""
    content_type: str = ""
    forwarded: bool = False


def run_wrk(
    work: Path, servers: list[Server], load: Load, seconds: int, connections: int
) -> dict[str, Any]:
    """wrk against every server at once (the connections split between them), for a fixed
    time; the answer sums requests and errors and keeps the worst server's latencies."""
    share = len(load.paths) // len(servers)
    threads = max(1, 2 // len(servers))
    processes = []
    for number, server in enumerate(servers):
        paths_file = work / f"paths-{number}.txt"
        mine = load.paths[number * share : (number + 1) * share] or load.paths
        paths_file.write_text("\n".join(mine * max(1, threads // len(mine) + 1)) + "\n")
        env = {
            **os.environ,
            "BENCH_METHOD": load.method,
            "BENCH_PATHS": str(paths_file),
            "BENCH_BODY": load.body,
            "BENCH_TYPE": load.content_type,
            "BENCH_THREADS": str(threads),
            "BENCH_FORWARDED": "1" if load.forwarded else "0",
        }
        options = [f"-t{threads}", f"-c{connections // len(servers)}", f"-d{seconds}s"]
        command = ["wrk", *options, "--timeout", "10s", "-s", str(WRK_SCRIPT), server.url]
        processes.append(subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True))
    results = []
    for process in processes:
        output, _ = process.communicate()
        lines = [line for line in output.splitlines() if line.startswith("{")]
        if process.returncode != 0 or not lines:
            raise SystemExit(f"wrk failed:\n{output}")
        results.append(json.loads(lines[-1]))
    return _combined(results)


def _combined(results: list[dict[str, Any]]) -> dict[str, Any]:
    requests = sum(r["requests"] for r in results)
    seconds = max(r["seconds"] for r in results)
    errors = sum(
        r[k] for r in results for k in ("connect_errors", "read_errors", "write_errors", "timeouts")
    )
    return {
        "requests": requests,
        "seconds": round(seconds, 2),
        "requests_per_second": round(requests / seconds),
        "socket_errors": errors,
        "non_2xx": sum(r["non_2xx"] for r in results),
        "p50_ms": round(max(r["p50_ms"] for r in results), 1),
        "p90_ms": round(max(r["p90_ms"] for r in results), 1),
        "p99_ms": round(max(r["p99_ms"] for r in results), 1),
        "max_ms": round(max(r["max_ms"] for r in results), 1),
        "paths_ran_out": sum(r["paths_ran_out"] for r in results),
    }


@dataclass
class SendLoop:
    """Sends issue ``issue`` to each list in turn, one after the other, until stopped: a send
    is running for as long as the load does."""

    project: Project
    issue: str
    list_names: list[str]
    sends: list[dict[str, Any]] = field(default_factory=list)
    stopping: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        for name in self.list_names:
            if self.stopping.is_set():
                return
            self.sends.append(send_once(self.project, self.issue, name))

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> list[dict[str, Any]]:
        self.stopping.set()
        self.thread.join()
        return self.sends


def send_once(project: Project, issue: str, list_name: str) -> dict[str, Any]:
    started = time.monotonic()
    sent = run_measured(
        # --again: the loop sends the issue to each list over and over, on purpose.
        mailer(project.config, "send", issue, "--list", list_name, "--again", "--yes", "--json"),
        env=ENV,
    )
    campaign = json.loads(sent["stdout"])
    recipients = campaign["counts"]["sent"]
    return {
        "list": list_name,
        "started": started,
        "seconds": round(sent["seconds"], 2),
        "sent": recipients,
        "recipients_per_second": round(recipients / sent["seconds"]),
    }


def fresh_work() -> Path:
    return Path(tempfile.mkdtemp(prefix="mailer-bench-web-"))


def remove(work: Path) -> None:
    shutil.rmtree(work, ignore_errors=True)
