"""What routes exempt from the CSRF check need for themselves (the middleware reads, and so
limits, only the bodies it checks): a request body read up to a limit, and mail handed to
the response to send once the answer has gone out."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable

from starlette.background import BackgroundTasks
from starlette.requests import Request
from starlette.types import Message

from mailer.errors import MailerError
from mailer.services.notice_mail import Job

log = logging.getLogger("mailer.web")
_ADDRESS = re.compile(r"[^\s<>\"']+@[^\s<>\"']+")


class TooLarge(Exception):
    """The body is longer than the route takes."""


async def bounded(request: Request, limit: int) -> Request:
    """``request`` with its body read (at most ``limit`` bytes, else TooLarge), to be read
    again by ``body()``, ``json()`` or ``form()``."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise TooLarge()
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise TooLarge()
        chunks.append(chunk)
    body = b"".join(chunks)

    async def receive() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    return Request(request.scope, receive)


class AfterAnswer:
    """A ``deliver`` for the services: jobs run after the response is sent, so how long an
    answer takes does not tell whether mail was sent. A failure is logged (without the
    address: the log is no place for it). ``runner``, when given, runs each job instead
    (one that gathers the mails of many requests)."""

    def __init__(self, runner: Callable[[Job], Awaitable[None]] | None = None) -> None:
        self.jobs: list[Job] = []
        self.runner = runner

    def __call__(self, job: Job) -> None:
        self.jobs.append(job)

    def tasks(self) -> BackgroundTasks:
        tasks = BackgroundTasks()
        for job in self.jobs:
            if self.runner is not None:
                tasks.add_task(self.runner, job)
            else:
                tasks.add_task(_run, job)
        return tasks


def log_unsent(exc: MailerError) -> None:
    log.warning("a mail to one reader was not sent: %s", _ADDRESS.sub("<address>", str(exc)))


def _run(job: Job) -> None:
    try:
        job()
    except MailerError as exc:
        log_unsent(exc)
