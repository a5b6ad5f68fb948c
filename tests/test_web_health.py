"""``GET /healthz`` on a real server: 200 while the database answers, 503 while it cannot be
reached (PostgreSQL behind a connection that is cut) or is gone (a SQLite file moved away),
and 200 again once it is back."""

from __future__ import annotations

import contextlib
import socket
import threading
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url

from tests.conftest import POSTGRES_URL, fresh_database_url
from tests.web_server import WebServer, make_project, running_server


def _health(server: WebServer) -> httpx.Response:
    return httpx.get(server.url("/healthz"), timeout=30)


def test_healthz_says_ok_in_a_small_uncached_json(shared_web_server: WebServer) -> None:
    answer = _health(shared_web_server)
    assert (answer.status_code, answer.json()) == (200, {"status": "ok"})
    assert answer.headers["cache-control"] == "no-store"
    assert httpx.head(shared_web_server.url("/healthz")).status_code == 200


def test_healthz_is_503_while_the_sqlite_file_is_gone(tmp_path: Path) -> None:
    database = tmp_path / "var" / "mailer.db"
    with running_server(make_project(tmp_path / "project", f"sqlite:///{database}")) as server:
        assert _health(server).status_code == 200
        moved = database.rename(tmp_path / "moved.db")
        gone = _health(server)
        assert (gone.status_code, gone.json()) == (503, {"status": "unavailable"})
        assert gone.headers["cache-control"] == "no-store"
        assert not database.exists()  # the check did not make an empty database in its place
        moved.rename(database)
        assert _health(server).status_code == 200
    assert f"the database file {database} is gone" in server.log_text()


class Relay:
    """A TCP relay to PostgreSQL that the test can cut (every connection dropped, new ones
    refused) and restore on the same port: the database server going away and coming back."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.listener.getsockname()[1]
        self.connections: list[socket.socket] = []
        self._listen()

    def _listen(self) -> None:
        threading.Thread(target=self._accept, args=(self.listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:  # cut
                return
            server = socket.create_connection(self.upstream)
            self.connections += [client, server]
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        for end in (source, sink):
            end.close()

    def cut(self) -> None:
        # shutdown() first: a socket closed while a thread waits in accept() (or recv())
        # would go on working for that thread.
        for end in [self.listener, *self.connections]:
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)
            end.close()
        self.connections = []

    def restore(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", self.port))
        self._listen()


@pytest.mark.skipif(not POSTGRES_URL, reason="needs MAILER_TEST_DATABASE_URL (PostgreSQL)")
def test_healthz_is_503_while_postgresql_cannot_be_reached(tmp_path: Path) -> None:
    with fresh_database_url("postgresql", tmp_path) as direct:
        url = make_url(direct)
        relay = Relay((url.host or "127.0.0.1", url.port or 5432))
        through_relay = url.set(port=relay.port).render_as_string(hide_password=False)
        try:
            with running_server(make_project(tmp_path / "project", through_relay)) as server:
                assert _health(server).status_code == 200
                relay.cut()
                down = _health(server)
                assert (down.status_code, down.json()) == (503, {"status": "unavailable"})
                relay.restore()
                assert _health(server).status_code == 200
        finally:
            relay.cut()
    assert "healthz: the database does not answer" in server.log_text()
