"""Run a producer in a forked child process and receive what it yields, in order.

An import parses the CSV in a child while the parent writes to the database, so the two halves
use both cores of a small server. The pipe between them holds little, so the child stays at
most about one item ahead and memory stays flat.
"""

from __future__ import annotations

import gc
import os
import signal
import threading
import traceback
from collections.abc import Callable, Iterable, Iterator
from multiprocessing.connection import Connection, Pipe
from typing import TypeVar

from mailer.errors import MailerError

T = TypeVar("T")
_ITEM, _END, _ERROR = "item", "end", "error"


def _can_fork() -> bool:
    # Forking a process that runs other threads can copy a lock in a held state; only a
    # single-threaded parent forks, anything else produces in-process.
    return hasattr(os, "fork") and threading.active_count() == 1


def _produce(produce: Callable[[], Iterable[object]], sender: Connection) -> None:
    try:
        for item in produce():
            sender.send((_ITEM, item))
        sender.send((_END, None))
    except (BrokenPipeError, KeyboardInterrupt):
        pass  # the parent stopped listening, or the user pressed Ctrl-C: nothing to tell
    except MailerError as exc:
        sender.send((_ERROR, exc))
    except Exception as exc:  # a bug: hand the parent the traceback text to raise
        sender.send((_ERROR, RuntimeError("".join(traceback.format_exception(exc)))))
    finally:
        sender.close()


def produced_in_child(produce: Callable[[], Iterable[T]]) -> Iterator[T]:
    """What ``produce()`` yields, computed in a child process when that is safe."""
    if not _can_fork():
        yield from produce()
        return
    receiver, sender = Pipe(duplex=False)
    # A bare fork rather than multiprocessing.Process, whose child closes sys.stdin: an
    # import may be reading exactly that.
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child, which never returns
        try:
            receiver.close()
            # Producers build plain values without reference cycles; the cycle collector
            # would only walk the whole inherited heap again and again.
            gc.disable()
            _produce(produce, sender)
        finally:
            os._exit(0)
    sender.close()
    finished = False
    try:
        while True:
            try:
                kind, payload = receiver.recv()
            except EOFError:
                raise MailerError("the process reading the file stopped unexpectedly") from None
            if kind == _END:
                finished = True
                return
            if kind == _ERROR:
                raise payload
            yield payload
    finally:
        receiver.close()
        if not finished:
            os.kill(child, signal.SIGKILL)  # it only reads; nothing of its work is lost
        os.waitpid(child, 0)
