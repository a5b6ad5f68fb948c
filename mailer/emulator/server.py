"""The emulator's HTTP server: /v3/mail/send the way SendGrid answers it, plus its record.

- Bearer key check (401; 403 for keys configured as lacking the Mail Send permission).
- 413 over 30 MB, 400 with SendGrid's error body for anything the rules refuse.
- 429 with X-RateLimit-Limit/Remaining/Reset past a requests-per-second limit.
- Injected faults at a chosen rate: 500, 503, "timeout" (the answer is held back longer than a
  client waits) and "drop" (the connection closes without an answer); none of them records.
- 202 with X-Message-Id, or 200 in sandbox mode (validated, not recorded).
- ``GET /_emulator/messages[?to=ADDRESS]``, ``GET /_emulator/summary`` and
  ``DELETE /_emulator/messages`` read and reset the record.
- With an event poster (``--events-to``), every accepted request's events are posted to the
  receiver as SendGrid's Event Webhook would (event_poster.py); ``GET
  /_emulator/events[?to=ADDRESS]`` lists those the receiver acknowledged, and the summary
  counts them under ``events``; it also counts under ``connections`` the TCP connections that
  carried a mail send since the last reset (a client that keeps connections alive shows few).
- ``close_connections()`` on the server closes every open connection at once, as a server does
  with idle ones; stopping the server does it too, so a restarted emulator starts clean.

stdlib's threading HTTP server: one thread per connection, which is plenty at 1,000 recipients
a request, and it lets a fault simply close the socket.
"""

from __future__ import annotations

import contextlib
import gzip
import itertools
import random
import secrets
import socket
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import orjson

from mailer.emulator.mail_send_rules import Problem, check_mail_send, is_sandboxed
from mailer.emulator.record import Record

if TYPE_CHECKING:
    from mailer.emulator.event_poster import EventPoster

MAX_BODY_BYTES = 30 * 1024 * 1024
FAULTS = ("500", "503", "timeout", "drop")
MAIL_SEND = "/v3/mail/send"


@dataclass(frozen=True)
class EmulatorOptions:
    api_keys: frozenset[str] = frozenset()
    """Keys accepted; empty means any non-empty key."""
    forbidden_keys: frozenset[str] = frozenset()
    """Keys that exist but may not send mail (403)."""
    fail_rate: float = 0.0
    faults: tuple[str, ...] = FAULTS
    rate_limit: int = 0
    """Requests per second before 429; 0 for no limit."""
    stall_seconds: float = 60.0
    latency_seconds: float = 0.0
    """Time every request takes before its answer, like a distant server."""
    refused_addresses: frozenset[str] = frozenset()
    """Addresses answered with a 400 naming them, as SendGrid does for addresses it will not
    mail (lets a test exercise finding one bad recipient in a batch)."""
    seed: int | None = None
    store: Path | None = None


@dataclass
class Reply:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


def _errors(*problems: Problem) -> bytes:
    return orjson.dumps({"errors": [problem.as_json() for problem in problems]})


class SendGridEmulator:
    def __init__(self, options: EmulatorOptions, events: EventPoster | None = None) -> None:
        self.options = options
        self.events = events
        self.record = Record(options.store)
        self._random = random.Random(options.seed)
        self._lock = threading.Lock()
        self._window = 0
        self._in_window = 0
        self._connections: set[int] = set()

    def connection_used(self, serial: int) -> None:
        """Connection ``serial`` carried a mail send (counted once per connection)."""
        with self._lock:
            self._connections.add(serial)

    def _auth(self, authorization: str | None) -> Reply | None:
        scheme, _, key = (authorization or "").partition(" ")
        key = key.strip()
        if scheme.lower() != "bearer" or not key:
            return Reply(401, _errors(Problem(None, "authorization required: send a Bearer key")))
        if key in self.options.forbidden_keys:
            return Reply(403, _errors(Problem(None, "access forbidden: this key may not send")))
        if self.options.api_keys and key not in self.options.api_keys:
            return Reply(401, _errors(Problem(None, "the API key is invalid or was revoked")))
        return None

    def _rate(self) -> tuple[Reply | None, dict[str, str]]:
        limit = self.options.rate_limit
        if not limit:
            return None, {}
        now = time.time()
        with self._lock:
            window = int(now)
            if window != self._window:
                self._window, self._in_window = window, 0
            self._in_window += 1
            used = self._in_window
        headers = {
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": str(max(limit - used, 0)),
            "X-RateLimit-Reset": str(window + 1),
        }
        if used > limit:
            problem = Problem(None, "too many requests")
            return Reply(429, _errors(problem), headers), headers
        return None, headers

    def _fault(self) -> str | None:
        if not self.options.fail_rate:
            return None
        with self._lock:
            if self._random.random() >= self.options.fail_rate:
                return None
            return self._random.choice(self.options.faults)

    def mail_send(self, headers: Any, body: bytes) -> Reply | str:
        """The reply to a POST, or the name of the fault to act out."""
        self.record.count("requests")
        refused = self._auth(headers.get("Authorization"))
        if refused is not None:
            return refused
        limited, rate_headers = self._rate()
        if limited is not None:
            self.record.count("rate_limited")
            return limited
        fault = self._fault()
        if fault is not None:
            self.record.count(f"fault_{fault}")
            if fault in ("500", "503"):
                problem = Problem(None, "internal server error" if fault == "500" else "busy")
                return Reply(int(fault), _errors(problem))
            return fault
        if not (headers.get("Content-Type") or "").startswith("application/json"):
            return Reply(400, _errors(Problem(None, "Content-Type must be application/json")))
        try:
            if (headers.get("Content-Encoding") or "").lower() == "gzip":
                body = gzip.decompress(body)
            parsed = orjson.loads(body)
        except (OSError, orjson.JSONDecodeError):
            self.record.count("rejected")
            return Reply(400, _errors(Problem(None, "the request body is not valid JSON")))
        problems = check_mail_send(parsed, time.time()) or self._refused(parsed)
        if problems:
            self.record.count("rejected")
            return Reply(400, _errors(*problems), rate_headers)
        if is_sandboxed(parsed):
            self.record.count("sandboxed")
            return Reply(200, b"", rate_headers)
        message_id = secrets.token_urlsafe(16)[:22]
        self.record.accept(parsed, message_id)
        if self.events is not None:
            personalizations = len(parsed["personalizations"])
            self.events.accepted(body, personalizations, message_id, time.time())
        return Reply(202, b"", {**rate_headers, "X-Message-Id": message_id})

    def _refused(self, body: dict[str, Any]) -> list[Problem]:
        if not self.options.refused_addresses:
            return []
        return [
            Problem(f"personalizations.{index}.to.{position}.email", "this address is refused")
            for index, personalization in enumerate(body["personalizations"])
            for position, to in enumerate(personalization["to"])
            if str(to["email"]).lower() in self.options.refused_addresses
        ]

    def inspect(self, method: str, target: str) -> Reply:
        url = urlsplit(target)
        if url.path == "/_emulator/messages" and method == "GET":
            to = parse_qs(url.query).get("to", [None])[0]
            return Reply(200, orjson.dumps(self.record.messages(to)))
        if url.path == "/_emulator/messages" and method == "DELETE":
            self.record.reset()
            with self._lock:
                self._connections.clear()
            if self.events is not None:
                self.events.reset()
            return Reply(204)
        if url.path == "/_emulator/summary" and method == "GET":
            summary = self.record.summary()
            with self._lock:
                summary["connections"] = len(self._connections)
            if self.events is not None:
                summary["events"] = self.events.summary()
            return Reply(200, orjson.dumps(summary))
        if url.path == "/_emulator/events" and method == "GET" and self.events is not None:
            to = parse_qs(url.query).get("to", [None])[0]
            return Reply(200, orjson.dumps(self.events.events(to)))
        return Reply(404, _errors(Problem(None, "not found")))


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.serial = next(self.server.serials)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: a benchmark makes a thousand requests

    def _reply(self, reply: Reply) -> None:
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        if reply.body:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        self.wfile.write(reply.body)

    def _read_body(self) -> bytes | None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            # Read it all first: a client still sending would see a broken pipe, not the 413.
            remaining = length
            while remaining > 0:
                remaining -= len(self.rfile.read(min(remaining, 1 << 20)) or b"\0" * remaining)
            self.close_connection = True
            self._reply(Reply(413, _errors(Problem(None, "content too large: over 30 MB"))))
            return None
        return self.rfile.read(length)

    def do_POST(self) -> None:
        emulator = self.server.emulator
        if urlsplit(self.path).path != MAIL_SEND:
            self._reply(emulator.inspect("POST", self.path))
            return
        emulator.connection_used(self.serial)
        body = self._read_body()
        if body is None:
            return
        if emulator.options.latency_seconds:
            time.sleep(emulator.options.latency_seconds)
        outcome = emulator.mail_send(self.headers, body)
        if outcome == "timeout":
            time.sleep(emulator.options.stall_seconds)
            self.close_connection = True
            return
        if outcome == "drop":
            self.close_connection = True
            return
        assert isinstance(outcome, Reply)
        self._reply(outcome)

    def do_GET(self) -> None:
        self._reply(self.server.emulator.inspect("GET", self.path))

    def do_DELETE(self) -> None:
        self._reply(self.server.emulator.inspect("DELETE", self.path))


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], emulator: SendGridEmulator) -> None:
        self.serials = itertools.count(1)
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(address, _Handler)
        self.emulator = emulator

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Close every open connection now; a handler waiting for the next request on one
        sees it end and finishes. A client finds out when it next looks at the socket."""
        with self._open_lock:
            open_now = list(self._open)
        for connection in open_now:
            with contextlib.suppress(OSError):  # already closed by its handler
                connection.shutdown(socket.SHUT_RDWR)

    def server_close(self) -> None:
        super().server_close()
        self.close_connections()

    def handle_error(self, request: Any, client_address: Any) -> None:
        error = sys.exc_info()[1]
        if isinstance(error, ConnectionError):
            return  # the client went away mid-answer (a killed sender): nothing to report
        super().handle_error(request, client_address)


def make_server(emulator: SendGridEmulator, host: str = "127.0.0.1", port: int = 3030) -> _Server:
    return _Server((host, port), emulator)


def serve_in_thread(
    emulator: SendGridEmulator, host: str = "127.0.0.1", port: int = 0
) -> tuple[_Server, str]:
    """Start serving in a daemon thread (tests); returns the server and its base URL."""
    server = make_server(emulator, host, port)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    bound_host, bound_port = server.server_address[:2]
    return server, f"http://{bound_host!s}:{bound_port}"
