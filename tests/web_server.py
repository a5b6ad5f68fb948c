"""Test harness for the public web: real ``mailer serve`` processes on loopback ports, and a
real headless Chromium (Debian's) driven by Playwright.

Fixtures (loaded for every test module through ``tests/conftest.py``):

``web_server``         a server on the test's ``db_project`` (SQLite, and PostgreSQL in CI);
``start_web_server``   start one or more servers on ``db_project`` (``start_web_server()``);
``shared_web_server``  one server per database backend for a whole test module (faster);
``running_app(project, extra_modules)``  the app with a test's own routes added, served
                       in this process (for what the default routes cannot show);
``chromium``           the browser, for the session; ``new_page(chromium, width)`` opens a
                       page that can reach nothing beyond loopback.

Each server signs with ``SIGNING_KEY``, so tests can make the tokens mail would carry.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

from tests.conftest import DATABASE_BACKENDS, POSTAL_ADDRESS, REPO, Project, fresh_database_url
from tests.servers import serve

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Route

    from mailer.web.app import RouteModule

SIGNING_KEY = "web-tests-signing-key-0123456789abcdef"
STARTUP_SECONDS = 30.0
MAILER = [sys.executable, "-m", "mailer"]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass
class WebServer:
    base_url: str
    project: Project
    process: subprocess.Popen[bytes]
    log: Path

    def url(self, path: str = "/") -> str:
        return self.base_url + path

    def client(self) -> httpx.Client:
        """An HTTP client for this server that keeps cookies and never follows redirects."""
        return httpx.Client(base_url=self.base_url, follow_redirects=False, timeout=30)

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def server_environment(base_url: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    """This process's environment without its MAILER_* settings, plus the server's own."""
    environ = {name: value for name, value in os.environ.items() if not name.startswith("MAILER_")}
    environ.update(
        MAILER_NEWSLETTER_BASE_URL=base_url,
        MAILER_SECRET_KEY=SIGNING_KEY,
        PYTHONUNBUFFERED="1",
    )
    environ.update(extra or {})
    return environ


def _launch(project: Project, env: dict[str, str] | None, attempt: int) -> WebServer:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    log = project.root / f"serve-{port}-{attempt}.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [*MAILER, "--config", str(project.config), "serve", "--port", str(port)],
            cwd=project.root,
            env=server_environment(base_url, env),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    return WebServer(base_url, project, process, log)


def _answering(server: WebServer) -> bool:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            return False
        try:
            if httpx.get(server.url("/healthz"), timeout=5).status_code == 200:
                return True
        except httpx.TransportError:
            pass
        time.sleep(0.05)  # the server is still starting
    server.stop()
    raise RuntimeError(
        f"mailer serve did not answer within {STARTUP_SECONDS:g} s:\n{server.log_text()}"
    )


@contextmanager
def running_server(project: Project, env: dict[str, str] | None = None) -> Iterator[WebServer]:
    """``mailer serve`` on ``project`` on a free loopback port, stopped afterwards. A port
    another process took between the probe and the start is tried again on a new one."""
    for attempt in range(3):
        server = _launch(project, env, attempt)
        if _answering(server):
            break
        if "address already in use" not in server.log_text().lower():
            raise RuntimeError(f"mailer serve stopped at start:\n{server.log_text()}")
    else:
        raise RuntimeError(f"no free port for mailer serve:\n{server.log_text()}")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def web_server(db_project: Project) -> Iterator[WebServer]:
    with running_server(db_project) as server:
        yield server


@pytest.fixture
def start_web_server(db_project: Project) -> Iterator[Callable[..., WebServer]]:
    """``start_web_server(env=None)``: one more server on the test's project and database."""
    with ExitStack() as servers:

        def start(env: dict[str, str] | None = None) -> WebServer:
            return servers.enter_context(running_server(db_project, env))

        yield start


def make_project(root: Path, database_url: str) -> Project:
    """A copy of the repository's issues and templates with a config using ``database_url``."""
    shutil.copytree(REPO / "issues", root / "issues")
    shutil.copytree(REPO / "templates", root / "templates")
    config = root / "mailer.toml"
    config.write_text(
        f'[newsletter]\npostal_address = "{POSTAL_ADDRESS}"\n[database]\nurl = "{database_url}"\n',
        encoding="utf-8",
    )
    return Project(root, config)


@pytest.fixture(scope="module", params=DATABASE_BACKENDS)
def shared_web_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[WebServer]:
    """One server per database backend for the whole module: for tests that only read, or
    that do not disturb one another."""
    folder = tmp_path_factory.mktemp("web")
    with ExitStack() as stack:
        url = stack.enter_context(fresh_database_url(request.param, folder))
        yield stack.enter_context(running_server(make_project(folder / "project", url)))


@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _loopback_only(route: Route) -> None:
    host = route.request.url.split("/")[2].rsplit(":", 1)[0]
    if host in ("127.0.0.1", "localhost", "[::1]"):
        route.continue_()
    else:
        route.abort()


def new_page(browser: Browser, width: int = 1280, height: int = 900) -> Page:
    """A page in a new browser context (its own cookies) that reaches only loopback."""
    context = browser.new_context(viewport={"width": width, "height": height})
    context.route("**/*", _loopback_only)
    return context.new_page()


@contextmanager
def running_app(project: Project, extra_modules: Sequence[RouteModule] = ()) -> Iterator[str]:
    """The web app with the default routes plus ``extra_modules``' (a test's own routes),
    served by uvicorn on a free loopback port in this process; yields its base URL. Uvicorn
    believes forwarded headers from loopback here, as a server behind a local proxy would."""
    from mailer.app import Mailer
    from mailer.web.app import create_app, default_route_modules

    mailer = Mailer(project.settings(), environ={"MAILER_SECRET_KEY": SIGNING_KEY})
    app = create_app(mailer, [*default_route_modules(), *extra_modules])
    try:
        with serve(app) as base_url:
            yield base_url
    finally:
        mailer.close()
