"""`mailer users add` and `users password` at a terminal: the password is asked for twice,
never echoed, and a weak one is refused before it is asked again. Run in a pseudo-terminal,
as a person would; and the account commands' help loads neither the database nor argon2."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from mailer.accounts.users import list_users
from mailer.app import Mailer
from tests.conftest import REPO, Project
from tests.test_cli_startup import NOT_FOR_HELP, run_fresh

# A safety net for a child that stopped answering, not a measure of anything.
STUCK_SECONDS = 120


class Terminal:
    """A `mailer` process on the far side of a pseudo-terminal."""

    def __init__(self, process: subprocess.Popen[bytes], master: int) -> None:
        self.process = process
        self.master = master
        self.seen = b""

    def expect(self, text: str) -> None:
        """Read until ``text`` has been shown."""
        while text.encode() not in self.seen:
            ready, _, _ = select.select([self.master], [], [], STUCK_SECONDS)
            assert ready, f"waited for {text!r}; the terminal shows {self.seen!r}"
            try:
                chunk = os.read(self.master, 4096)
            except OSError:  # the child closed the terminal
                chunk = b""
            assert chunk, f"ended before {text!r}; the terminal shows {self.seen!r}"
            self.seen += chunk

    def type(self, line: str) -> None:
        os.write(self.master, line.encode() + b"\r")

    def finish(self) -> int:
        """Read what is left and the exit code."""
        while True:
            ready, _, _ = select.select([self.master], [], [], STUCK_SECONDS)
            assert ready, f"the command did not end; the terminal shows {self.seen!r}"
            try:
                chunk = os.read(self.master, 4096)
            except OSError:
                break
            if not chunk:
                break
            self.seen += chunk
        return self.process.wait(timeout=STUCK_SECONDS)


@contextmanager
def terminal(project: Project, *args: str) -> Iterator[Terminal]:
    master, slave = pty.openpty()
    env = {name: value for name, value in os.environ.items() if not name.startswith("MAILER_")}
    env["PYTHONPATH"] = str(REPO)
    # A session of its own, so that getpass finds no other terminal than this one.
    process = subprocess.Popen(
        [sys.executable, "-m", "mailer", "--config", str(project.config), *args],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        cwd=project.root,
        env=env,
        start_new_session=True,
    )
    os.close(slave)
    try:
        yield Terminal(process, master)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(master)


def _users(project: Project) -> list[str]:
    mailer = Mailer(project.settings(), environ={})
    try:
        return [user.email for user in list_users(mailer)]
    finally:
        mailer.close()


def test_the_password_is_asked_twice_and_never_shown(project: Project) -> None:
    with terminal(project, "users", "add", "ann@example.com", "--role", "owner") as tty:
        tty.expect("Password: ")
        tty.type("plum blossom ferry 8")
        tty.expect("The same password again: ")
        tty.type("plum blossom ferry 8")
        assert tty.finish() == 0
    assert b"Added ann@example.com as owner (can send)." in tty.seen
    assert b"plum blossom" not in tty.seen
    assert _users(project) == ["ann@example.com"]


def test_two_different_passwords_change_nothing(project: Project) -> None:
    with terminal(project, "users", "add", "ann@example.com", "--role", "owner") as tty:
        tty.expect("Password: ")
        tty.type("plum blossom ferry 8")
        tty.expect("The same password again: ")
        tty.type("plum blossom ferry 9")
        assert tty.finish() == 1
    assert b"the two passwords typed differ; nothing was changed" in tty.seen
    assert _users(project) == []


def test_a_weak_password_is_refused_before_it_is_asked_again(project: Project) -> None:
    with terminal(project, "users", "add", "ann@example.com", "--role", "owner") as tty:
        tty.expect("Password: ")
        tty.type("hunter2")
        assert tty.finish() == 1
    assert b"password: use at least 12 characters (this one has 7)" in tty.seen
    assert b"again" not in tty.seen


@pytest.mark.parametrize(
    "args",
    [
        ["users", "--help"],
        ["users", "add", "--help"],
        ["tokens", "create", "--help"],
        ["audit", "--help"],
    ],
    ids=" ".join,
)
def test_account_help_loads_no_database_or_password_hashing(
    project: Project, args: list[str]
) -> None:
    run = run_fresh(project, *args)
    assert run.code == 0
    assert run.loaded((*NOT_FOR_HELP, "argon2", "mailer.accounts.passwords")) == []
