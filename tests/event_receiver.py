"""A receiver of SendGrid's Event Webhook for the emulator's tests: real HTTP on loopback,
checking each POST's signature with the ``sendgrid`` package's own helper exactly as a
receiver configured with the public key would, and keeping what it stored."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson
from sendgrid.helpers.eventwebhook import EventWebhook
from sendgrid.helpers.eventwebhook.eventwebhook_header import EventWebhookHeader


@dataclass
class Post:
    body: bytes
    signature: str
    timestamp: str
    verified: bool
    status: int


@dataclass
class Receiver:
    public_key: str
    statuses: list[int] = field(default_factory=list)
    """Answers to give, in order, before answering 200 to everything."""
    posts: list[Post] = field(default_factory=list)
    stored: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""
    changed: threading.Condition = field(default_factory=threading.Condition)

    def receive(self, body: bytes, signature: str, timestamp: str) -> int:
        verified = EventWebhook(self.public_key).verify_signature(
            body.decode("utf-8"), signature, timestamp
        )
        with self.changed:
            status = self.statuses.pop(0) if self.statuses else 200
            if not verified:
                status = 403
            if status == 200:
                self.stored.extend(orjson.loads(body))
            self.posts.append(Post(body, signature, timestamp, verified, status))
            self.changed.notify_all()
        return status

    def wait_for(self, events: int, timeout: float = 20.0) -> list[dict[str, Any]]:
        """What was stored once at least ``events`` are (or the timeout passes)."""
        with self.changed:
            self.changed.wait_for(lambda: len(self.stored) >= events, timeout)
            return list(self.stored)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        status = self.server.receiver.receive(
            body,
            self.headers.get(EventWebhookHeader.SIGNATURE) or "",
            self.headers.get(EventWebhookHeader.TIMESTAMP) or "",
        )
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, receiver: Receiver, port: int) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.receiver = receiver


@contextmanager
def running_receiver(
    public_key: str, statuses: list[int] | None = None, port: int = 0
) -> Iterator[Receiver]:
    receiver = Receiver(public_key, list(statuses or []))
    server = _Server(receiver, port)
    host, port = server.server_address[:2]
    receiver.url = f"http://{host!s}:{port}/webhooks/sendgrid"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
