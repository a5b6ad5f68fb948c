"""Telling whether a SQLite database file exists yet, from its URL alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from mailer.db.presence import sqlite_file_missing


def test_a_sqlite_file_not_made_yet_is_missing_and_one_made_is_not(tmp_path: Path) -> None:
    path = tmp_path / "var" / "mailer db.sqlite"
    url = f"sqlite:///{path}"
    assert sqlite_file_missing(url)
    assert sqlite_file_missing(f"sqlite+pysqlite:///{path}")
    path.parent.mkdir()
    path.write_bytes(b"")
    assert not sqlite_file_missing(url)
    assert not sqlite_file_missing(f"sqlite:///{str(path).replace(' ', '%20')}")
    assert not sqlite_file_missing(f"SQLite:///{path}?timeout=5")


@pytest.mark.parametrize(
    "url",
    [
        "sqlite://",
        "sqlite:///:memory:",
        "postgresql://postgres@127.0.0.1:5432/test",
        "postgresql+psycopg://u@h/db",
    ],
)
def test_memory_and_server_databases_are_never_missing(url: str) -> None:
    assert not sqlite_file_missing(url)
