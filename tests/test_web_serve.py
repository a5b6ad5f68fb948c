"""``mailer serve``: what it refuses to start with (one line, exit 1, before listening), and a
real server that starts, answers and stops cleanly on SIGTERM."""

from __future__ import annotations

import signal
import socket
from collections.abc import Callable

import httpx
import pytest

from tests.conftest import CliResult, Project
from tests.web_server import WebServer

Cli = Callable[..., CliResult]


def _one_line_error(result: CliResult) -> str:
    assert result.code == 1, result
    assert "Traceback" not in result.out + result.err
    lines = [line for line in result.err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.err
    return lines[0]


def test_a_port_in_use_is_refused_naming_the_options(cli: Cli) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        message = _one_line_error(cli("serve", "--port", str(port)))
    assert f"cannot listen on 127.0.0.1 port {port} (--host, --port)" in message


def test_a_host_that_is_no_address_is_refused(cli: Cli) -> None:
    message = _one_line_error(cli("serve", "--host", "no such host.invalid", "--port", "1"))
    assert "--host 'no such host.invalid'" in message


def test_a_missing_web_templates_folder_is_refused_naming_the_setting(
    cli: Cli, project: Project
) -> None:
    project.config.write_text('[paths]\nweb_templates = "our-pages"\n', encoding="utf-8")
    message = _one_line_error(cli("serve", "--port", "1"))
    assert str(project.root / "our-pages") in message
    assert "paths.web_templates" in message


def test_a_database_that_cannot_be_opened_is_refused_before_serving(
    cli: Cli, project: Project
) -> None:
    (project.root / "taken").write_text("a file where the database folder should be")
    project.config.write_text('[database]\nurl = "sqlite:///taken/x.db"\n', encoding="utf-8")
    assert "taken" in _one_line_error(cli("serve", "--port", "1"))


def test_a_real_server_answers_and_stops_cleanly_on_sigterm(web_server: WebServer) -> None:
    home = httpx.get(web_server.url("/"))
    assert home.status_code == 200
    assert "Tech in China Weekly" in home.text
    assert f"Serving {web_server.base_url} on {web_server.base_url}/" in web_server.log_text()
    web_server.process.send_signal(signal.SIGTERM)
    # Uvicorn shuts down gracefully, then ends by the signal it got, as systemd expects.
    assert web_server.process.wait(timeout=15) in (0, -signal.SIGTERM)
    assert "Finished server process" in web_server.log_text()
    with pytest.raises(httpx.TransportError):
        httpx.get(web_server.url("/healthz"), timeout=2)
    assert "Traceback" not in web_server.log_text()
