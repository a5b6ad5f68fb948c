from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from mailer.config import Settings, load_settings
from mailer.db.engine import create_db_engine
from mailer.db.migrate import open_database
from mailer.render.pipeline import Renderer

REPO = Path(__file__).resolve().parent.parent
# The web harness: real `mailer serve` processes and a headless Chromium (see web_server.py).
pytest_plugins = ["tests.web_server", "tests.report_fixtures"]
POSTAL_ADDRESS = "Room 1201, 88 Example Road, Shanghai 200000, China"


@dataclass
class Project:
    """A copy of the repository's issues and templates with a config of its own."""

    root: Path
    config: Path

    @property
    def issues(self) -> Path:
        return self.root / "issues"

    @property
    def templates(self) -> Path:
        return self.root / "templates" / "email"

    def settings(self) -> Settings:
        return load_settings(self.config, environ={}, cwd=self.root)

    def renderer(self) -> Renderer:
        return Renderer(self.settings())

    def write_issue(self, name: str, text: str | bytes) -> Path:
        path = self.issues / name
        path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
        return path


@pytest.fixture
def project(tmp_path: Path) -> Project:
    root = tmp_path / "project"
    shutil.copytree(REPO / "issues", root / "issues")
    shutil.copytree(REPO / "templates", root / "templates")
    config = root / "mailer.toml"
    config.write_text(f'[newsletter]\npostal_address = "{POSTAL_ADDRESS}"\n', encoding="utf-8")
    return Project(root, config)


# Every database test runs on SQLite, and on PostgreSQL too when CI names a server.
POSTGRES_URL = os.environ.get("MAILER_TEST_DATABASE_URL", "")
DATABASE_BACKENDS = ["sqlite", *(["postgresql"] if POSTGRES_URL else [])]


@contextmanager
def fresh_database_url(backend: str, folder: Path) -> Iterator[str]:
    """An empty database: a SQLite file in ``folder``, or a schema of its own on PostgreSQL."""
    if backend == "sqlite":
        yield f"sqlite:///{folder / 'var' / 'mailer.db'}"
        return
    schema = f"mailer_test_{uuid.uuid4().hex[:12]}"
    admin = create_db_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
    separator = "&" if "?" in POSTGRES_URL else "?"
    try:
        yield f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


@pytest.fixture(params=DATABASE_BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with fresh_database_url(request.param, tmp_path) as url:
        yield url


@pytest.fixture(scope="module", params=DATABASE_BACKENDS)
def module_engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[sa.Engine]:
    """One database per backend shared by a whole test module (for many-example tests)."""
    with fresh_database_url(request.param, tmp_path_factory.mktemp("database")) as url:
        engine = open_database(url)
        yield engine
        engine.dispose()


@pytest.fixture
def engine(database_url: str) -> Iterator[sa.Engine]:
    engine = open_database(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def db_project(project: Project, database_url: str) -> Project:
    """The project with its config pointing at the test database."""
    with project.config.open("a", encoding="utf-8") as config:
        config.write(f'\n[database]\nurl = "{database_url}"\n')
    return project


@pytest.fixture
def project_engine(db_project: Project) -> Iterator[sa.Engine]:
    """An engine on the project's database, for setting up and checking what commands did."""
    engine = open_database(db_project.settings().database.url)
    yield engine
    engine.dispose()


@dataclass
class CliResult:
    code: int
    out: str
    err: str


@pytest.fixture
def cli(
    project: Project, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Callable[..., CliResult]:
    """Run the real ``mailer`` command line in-process inside the project folder."""
    monkeypatch.chdir(project.root)
    for name in ("MAILER_CONFIG", "MAILER_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)

    def run(*args: str) -> CliResult:
        capsys.readouterr()
        from mailer.cli import main

        code = main(list(args))
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run


def show_json(cli: Callable[..., CliResult], email: str) -> dict[str, Any]:
    """``mailer subscribers show EMAIL --json``, which must succeed."""
    result = cli("subscribers", "show", email, "--json")
    assert result.code == 0, result.err
    detail: dict[str, Any] = json.loads(result.out)
    return detail


def sample_issue_paths() -> list[Path]:
    return sorted((REPO / "issues").glob("[0-9]*.md"))
