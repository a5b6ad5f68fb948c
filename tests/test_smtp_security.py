"""The smtp transport over STARTTLS and implicit TLS with a login, against aiosmtpd servers
whose certificates come from a throwaway CA that the sender is told to trust."""

from __future__ import annotations

import json
import ssl
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.conftest import CliResult, Project
from tests.sending import fill_list
from tests.test_smtp_and_outbox import free_port

Cli = Callable[..., CliResult]
LOGIN, PASSWORD = "sender", "correct horse"


class SecureInbox:
    """Keeps every message with whether it came over TLS and after a login."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], bool, bool]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        encrypted = server.transport.get_extra_info("ssl_object") is not None
        self.messages.append((list(envelope.rcpt_tos), encrypted, session.authenticated))
        return "250 Message accepted"


def check_login(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
        LOGIN.encode(), PASSWORD.encode(),
    )  # fmt: skip
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def authority(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> trustme.CA:
    ca = trustme.CA()
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    # OpenSSL's default verify paths honour this: the sender trusts the test CA like a
    # system one, and nothing else about its TLS set-up changes.
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    return ca


def server_context(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    return context


@pytest.fixture(params=["starttls", "ssl"])
def secure_server(
    request: pytest.FixtureRequest, authority: trustme.CA
) -> Iterator[tuple[SecureInbox, int, str]]:
    inbox = SecureInbox()
    port = free_port()
    security = str(request.param)
    tls = server_context(authority)
    options: dict[str, Any] = {"authenticator": check_login}
    if security == "starttls":
        options.update(tls_context=tls, require_starttls=True, auth_require_tls=True)
    else:
        # aiosmtpd only counts STARTTLS as TLS for AUTH; here the socket is TLS from the start.
        options.update(ssl_context=tls, auth_require_tls=False)
    controller = Controller(inbox, hostname="127.0.0.1", port=port, **options)
    controller.start()
    try:
        yield inbox, port, security
    finally:
        controller.stop()


def send_over_smtp(
    project: Project, cli: Cli, engine: sa.Engine, port: int, security: str, extra: str = ""
) -> tuple[list[str], CliResult, dict[str, Any]]:
    """Point the project at the server with the login, send #87 to three readers."""
    with project.config.open("a", encoding="utf-8") as config:
        config.write(
            f'\n[transport.smtp]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "{security}"\n'
            f'username = "{LOGIN}"\n{extra}'
        )
    assert cli("lists", "create", "weekly").code == 0
    emails = fill_list(engine, 3)
    result = cli("send", "87", "--list", "weekly", "--transport", "smtp", "--yes", "--json")
    return emails, result, json.loads(result.out)


def test_tls_and_login_carry_every_message(
    db_project: Project, cli: Cli, project_engine: sa.Engine,
    secure_server: tuple[SecureInbox, int, str], monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    inbox, port, security = secure_server
    monkeypatch.setenv("MAILER_SMTP_PASSWORD", PASSWORD)
    emails, result, campaign = send_over_smtp(db_project, cli, project_engine, port, security)
    assert result.code == 0, campaign["message"]
    assert campaign["counts"]["sent"] == 3
    assert sorted(to[0] for to, _, _ in inbox.messages) == sorted(emails)
    assert all(encrypted for _, encrypted, _ in inbox.messages)
    assert all(logged_in for _, _, logged_in in inbox.messages)


def test_a_refused_login_pauses_the_campaign_and_sends_nothing(
    db_project: Project, cli: Cli, project_engine: sa.Engine,
    secure_server: tuple[SecureInbox, int, str], monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    inbox, port, security = secure_server
    monkeypatch.setenv("MAILER_SMTP_PASSWORD", "wrong")
    _, result, campaign = send_over_smtp(db_project, cli, project_engine, port, security)
    assert result.code == 1
    assert campaign["status"] == "paused"
    assert f"refused the login {LOGIN!r}" in campaign["message"]
    assert campaign["counts"]["pending"] == 3 and inbox.messages == []


def test_a_certificate_from_an_unknown_authority_is_refused(
    db_project: Project, cli: Cli, project_engine: sa.Engine,
    secure_server: tuple[SecureInbox, int, str], monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    inbox, port, security = secure_server
    monkeypatch.setenv("MAILER_SMTP_PASSWORD", PASSWORD)
    monkeypatch.delenv("SSL_CERT_FILE")  # the server's CA is no longer trusted
    _, result, campaign = send_over_smtp(
        db_project, cli, project_engine, port, security, "[delivery]\nretry_attempts = 1\n"
    )
    assert result.code == 1
    assert campaign["status"] == "paused" and "CERTIFICATE_VERIFY_FAILED" in campaign["message"]
    assert inbox.messages == []
