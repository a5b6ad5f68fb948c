"""A few SMTP connections kept open and lent to one batch at a time.

Opening a connection costs a TCP handshake, often a TLS handshake and a login; a campaign sends
hundreds of batches, so connections are kept between them. Up to ``size`` are out at once: a
caller beyond that waits for one to come back, so a server never sees more sessions from one
sender than ``[transport.smtp] connections``. An idle connection is checked with NOOP before it
is lent (the server may have closed it while it waited); one that fails is closed and another
opened. What a server offers (SMTPUTF8) is learnt after EHLO and kept with its connection.
"""

from __future__ import annotations

import contextlib
import smtplib
import ssl
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from mailer.config import SmtpSettings
from mailer.delivery.transports.base import AuthenticationFailed, TemporaryFailure

TIMEOUT_SECONDS = 60.0


def smtp_reason(code: int, text: bytes | str) -> str:
    message = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    return f"SMTP {code} {message}".strip()


def _close(client: smtplib.SMTP | None) -> None:
    """Drop a socket without a word to the server (it failed, or is being set up)."""
    if client is not None:
        with contextlib.suppress(OSError, smtplib.SMTPException):
            client.close()


@dataclass(eq=False)
class SmtpConnection:
    """One open session with the server; ``lost`` once it failed, so it is not lent again."""

    client: smtplib.SMTP
    smtputf8: bool
    lost: bool = False

    def alive(self) -> bool:
        try:
            code, _ = self.client.noop()
        except (OSError, smtplib.SMTPException):
            return False
        return code == 250

    def quit(self) -> None:
        with contextlib.suppress(OSError, smtplib.SMTPException):
            self.client.quit()
        _close(self.client)  # quit() leaves the socket open when the server did not answer


def open_connection(settings: SmtpSettings, password: str) -> SmtpConnection:
    """Connect, secure, log in and greet; a failure says how the dispatcher must react."""
    where = f"{settings.host}:{settings.port}"
    client: smtplib.SMTP | None = None
    try:
        if settings.security == "ssl":
            client = smtplib.SMTP_SSL(
                settings.host,
                settings.port,
                timeout=TIMEOUT_SECONDS,
                context=ssl.create_default_context(),
            )
        else:
            client = smtplib.SMTP(settings.host, settings.port, timeout=TIMEOUT_SECONDS)
            if settings.security == "starttls":
                client.starttls(context=ssl.create_default_context())
        if settings.username:
            client.login(settings.username, password)
        # The server's extensions (SMTPUTF8) are known only after EHLO.
        client.ehlo_or_helo_if_needed()
    except smtplib.SMTPAuthenticationError as exc:
        _close(client)
        raise AuthenticationFailed(
            f"the SMTP server {where} refused the login {settings.username!r}: "
            f"{smtp_reason(exc.smtp_code, exc.smtp_error)}"
        ) from exc
    except smtplib.SMTPNotSupportedError as exc:
        _close(client)
        raise AuthenticationFailed(f"the SMTP server {where}: {exc}") from exc
    except (OSError, smtplib.SMTPException) as exc:
        _close(client)
        raise TemporaryFailure(f"cannot reach the SMTP server {where}: {exc}") from exc
    return SmtpConnection(client, smtputf8=client.has_extn("smtputf8"))


class SmtpPool:
    """Lends connections, opening them with ``opener`` when none idle is still alive."""

    def __init__(self, size: int, opener: Callable[[], SmtpConnection]) -> None:
        self._opener = opener
        self._slots = threading.BoundedSemaphore(size)
        self._lock = threading.Lock()
        # Last in, first out: the connection used most recently is the likeliest to be alive.
        self._idle: list[SmtpConnection] = []

    @contextlib.contextmanager
    def lease(self) -> Iterator[SmtpConnection]:
        """A connection for the caller alone; given back at the end unless it was marked
        ``lost`` or an exception left the block (its state is then unknown): those are closed."""
        with self._slots:
            connection = self._take()
            try:
                yield connection
            except BaseException:
                _close(connection.client)
                raise
            if connection.lost:
                _close(connection.client)
            else:
                with self._lock:
                    self._idle.append(connection)

    def _take(self) -> SmtpConnection:
        while True:
            with self._lock:
                if not self._idle:
                    break
                connection = self._idle.pop()
            # NOOP outside the lock: a slow server must not hold up the other senders.
            if connection.alive():
                return connection
            _close(connection.client)
        return self._opener()

    def close(self) -> None:
        """QUIT every idle connection; those lent out come back idle and stay open."""
        with self._lock:
            idle, self._idle = self._idle, []
        for connection in idle:
            connection.quit()
