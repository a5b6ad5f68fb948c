"""Whether a database has been created yet, told without loading SQLAlchemy: commands that only
read (``mailer issues``, ``render --to``) skip the database when there is none, rather than create
one, and stay quick to start."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit


def sqlite_file_missing(url: str) -> bool:
    """True when ``url`` names a SQLite file that does not exist (an in-memory database and every
    server database count as present)."""
    scheme = url.split(":", 1)[0].lower()
    if scheme.split("+", 1)[0] != "sqlite":
        return False
    # sqlite:///relative/path, sqlite:////absolute/path, sqlite:// or sqlite:///:memory: (memory).
    path = unquote(urlsplit(url).path.split("?", 1)[0])
    if path in ("", "/", "/:memory:"):
        return False
    return not Path(path[1:]).is_file()
