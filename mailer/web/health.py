"""``GET /healthz`` for load balancers: 200 while the database answers, 503 when it does not."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import anyio
import sqlalchemy as sa
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from mailer.app import Mailer

log = logging.getLogger("mailer.web")
# A balancer's probe gives up after a few seconds: answer before it does.
TIMEOUT_SECONDS = 5.0
NO_STORE = {"cache-control": "no-store"}


def _file_identity(path: Path) -> tuple[int, int] | None:
    try:
        found = os.stat(path)
    except OSError:
        return None
    return found.st_dev, found.st_ino


class DatabaseCheck:
    """Whether the database answers: a read of the schema version. A SQLite file must also
    still be the one opened: a server whose file was deleted or replaced would go on writing
    into a file nobody else can see."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        name = engine.url.database if engine.dialect.name == "sqlite" else None
        self.sqlite_file = Path(name) if name and name != ":memory:" else None
        self.opened = _file_identity(self.sqlite_file) if self.sqlite_file else None
        self.last_problem: str | None = None

    def problem(self) -> str | None:
        """What is wrong with the database, or None when it answers."""
        if self.sqlite_file is not None:
            now = _file_identity(self.sqlite_file)
            if now is None:
                return f"the database file {self.sqlite_file} is gone"
            if now != self.opened:
                return f"the database file {self.sqlite_file} was replaced since it was opened"
        try:
            with self.engine.connect() as connection:
                connection.execute(sa.text("SELECT version_num FROM alembic_version")).all()
        except sa.exc.SQLAlchemyError as exc:
            reason = exc.orig if isinstance(exc, sa.exc.DBAPIError) else exc
            return f"the database does not answer: {' '.join(str(reason).split())}"
        return None

    async def respond(self, request: Request) -> Response:
        try:
            with anyio.fail_after(TIMEOUT_SECONDS):
                problem = await anyio.to_thread.run_sync(self.problem, abandon_on_cancel=True)
        except TimeoutError:
            problem = f"the database did not answer within {TIMEOUT_SECONDS:g} s"
        if problem != self.last_problem:  # logged once when it starts, not at every probe
            if problem:
                log.warning("healthz: %s", problem)
            else:
                log.info("healthz: the database answers again")
            self.last_problem = problem
        if problem:
            return JSONResponse({"status": "unavailable"}, status_code=503, headers=NO_STORE)
        return JSONResponse({"status": "ok"}, headers=NO_STORE)


def routes(mailer: Mailer) -> list[BaseRoute]:
    check = DatabaseCheck(mailer.engine)
    return [Route("/healthz", check.respond, methods=["GET"], name="healthz")]
