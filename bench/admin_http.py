"""The HTTP part of the admin benchmark (bench/admin.py): ``mailer serve`` on the bench's
database, an owner logged in to the admin app and an API token, then each page timed.

Times are taken by the client on loopback over one warm keep-alive connection (httpx), from
sending the request to having read the whole answer: the server's time plus a fraction of a
millisecond of the client and loopback. Each figure is the median of ``runs`` requests after
one untimed request. Beside it (``*_cpu_ms``), the CPU time the server process used, per
request, over those requests (from /proc): on a busy machine a steadier figure than the wall
time, and on SQLite nearly all of the work (PostgreSQL's own processes are not in it).
A deep page is the 50th, reached by following the pages' own links (the admin page's
next-page link, whose ``after`` goes on from the page's last person; the API's
``next_cursor``); only its last request is timed. A route the server does not have (404) is
reported as such instead of timed.
"""

from __future__ import annotations

import contextlib
import html
import os
import re
import statistics
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
from measure import mailer
from web_parts import ENV, free_port, write_config

EMAIL = "bench-owner@example.com"
PASSWORD = "a long bench password"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_NEXT = re.compile(r'href="([^"]*[?&](?:amp;)?after=[^"]*)"')


@contextlib.contextmanager
def served(work: Path, database_url: str) -> Iterator[tuple[str, int]]:
    """``mailer serve`` on the database; yields its URL and process id."""
    config = write_config(work, database_url, "http://127.0.0.1:1")
    (work / "var").mkdir(exist_ok=True)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = work / "serve.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            mailer(config, "serve", "--port", str(port)),
            env={**ENV, "MAILER_NEWSLETTER_BASE_URL": url},
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_for(url, log)
        yield url, process.pid
    finally:
        process.terminate()
        process.wait(timeout=30)


def _wait_for(url: str, log: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    raise SystemExit(f"mailer serve did not answer:\n{log.read_text()}")


def accounts(work: Path, database_url: str) -> str:
    """An owner (EMAIL, PASSWORD) and a viewer's API token; the token's secret."""
    from mailer.accounts.tokens import create_token
    from mailer.accounts.users import add_user
    from mailer.app import Mailer
    from mailer.config import load_settings

    config = write_config(work, database_url, "http://127.0.0.1:1")
    app = Mailer(load_settings(config, ENV), environ=ENV)
    try:
        add_user(app, EMAIL, "owner", PASSWORD, actor="bench")
        _, secret = create_token(app, "bench", "viewer", actor="bench")
    finally:
        app.close()
    return secret


def logged_in(url: str) -> httpx.Client:
    client = httpx.Client(base_url=url, follow_redirects=False, timeout=120)
    form = client.get("/admin/login")
    token = _CSRF.search(form.text)
    assert token, form.text
    answer = client.post(
        "/admin/login", data={"csrf_token": token.group(1), "email": EMAIL, "password": PASSWORD}
    )
    assert answer.status_code == 303, answer.text
    return client


SERVER_PID = 0  # the server whose CPU time is read (set by measure_http)


def _cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process (its threads included)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _median_ms(runs: int, call: Callable[[], httpx.Response]) -> dict[str, float]:
    call()
    seconds = []
    cpu = _cpu_seconds(SERVER_PID)
    for _ in range(runs):
        started = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - started)
    used = (_cpu_seconds(SERVER_PID) - cpu) / runs
    return {"ms": round(statistics.median(seconds) * 1000, 1), "cpu_ms": round(used * 1000, 1)}


def _page(client: httpx.Client, path: str, params: dict[str, str]) -> httpx.Response:
    answer = client.get(path, params=params)
    answer.read()
    return answer


def admin_search(client: httpx.Client, query: str, runs: int, deep: int) -> dict[str, Any]:
    """The admin subscribers page for ``query``: the first page and the ``deep``-th."""
    first = _page(client, "/admin/subscribers", {"q": query})
    if first.status_code != 200:
        return {"skipped": f"GET /admin/subscribers answered {first.status_code}"}
    result: dict[str, Any] = _named(
        "first_page", _median_ms(runs, lambda: _page(client, "/admin/subscribers", {"q": query}))
    )
    answer, reached = first, 1
    while reached < deep:
        link = _NEXT.search(answer.text)
        if link is None:
            result["pages"] = reached
            return result
        next_path = html.unescape(link.group(1))
        answer, reached = client.get(next_path), reached + 1
    return result | _named("deep_page", _median_ms(runs, lambda: client.get(next_path)))


def api_search(
    client: httpx.Client, secret: str, query: str, runs: int, deep: int, limit: int
) -> dict[str, Any]:
    """``GET /api/v1/subscribers`` for ``query``: the first page and the ``deep``-th."""
    headers = {"Authorization": f"Bearer {secret}"}
    params = {"q": query, "limit": str(limit)}

    def page(cursor: str | None = None) -> httpx.Response:
        extra = {} if cursor is None else {"cursor": cursor}
        return client.get("/api/v1/subscribers", params={**params, **extra}, headers=headers)

    first = page()
    if first.status_code != 200:
        return {"skipped": f"GET /api/v1/subscribers answered {first.status_code}"}
    result: dict[str, Any] = _named("first_page", _median_ms(runs, page))
    cursor, reached = first.json().get("next_cursor"), 1
    while cursor is not None and reached < deep - 1:
        cursor, reached = page(cursor).json().get("next_cursor"), reached + 1
    if cursor is None:
        result["pages"] = reached
        return result
    deep_cursor: str = cursor
    return result | _named("deep_page", _median_ms(runs, lambda: page(deep_cursor)))


def _named(name: str, timing: dict[str, float]) -> dict[str, float]:
    return {f"{name}_{key}": value for key, value in timing.items()}


def measure_http(
    work: Path, database_url: str, queries: dict[str, str], runs: int, deep: int, limit: int
) -> dict[str, Any]:
    """The dashboard, and the admin page's and the API's search for each query."""
    secret = accounts(work, database_url)
    global SERVER_PID
    with served(work, database_url) as (url, pid), contextlib.closing(logged_in(url)) as client:
        SERVER_PID = pid
        dashboard = client.get("/admin")
        assert dashboard.status_code == 200, dashboard.text
        found: dict[str, Any] = {
            **_named("dashboard", _median_ms(runs, lambda: client.get("/admin"))),
            "admin_page": {},
            "api": {},
        }
        for name, query in queries.items():
            found["admin_page"][name] = admin_search(client, query, runs, deep)
            found["api"][name] = api_search(client, secret, query, runs, deep, limit)
        return found
