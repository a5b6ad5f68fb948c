"""Reads of the database shared by the requests that arrive together, none of them older than
the request it answers.

Two hundred requests for the same issue page at once would each take a thread and a
connection for the same small query, and the hops to and from the threads cost more than the
query. Here one read per key runs at a time, in the thread pool; requests that arrive while it
runs wait for the next read, which starts as soon as it is done and answers all of them. So
every answer was read after its request arrived, as if each request had read it itself (a
change another process committed before the request is seen), and under load one read
answers many requests.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Hashable
from functools import partial
from typing import Any, Generic, TypeVar

from starlette.concurrency import run_in_threadpool

Key = TypeVar("Key", bound=Hashable)
Value = TypeVar("Value")


def _retrieved(answer: asyncio.Future[Any]) -> None:
    # Every request waiting for a failed read may have gone away: the error is then nobody's
    # to report, and asyncio would log it as never retrieved.
    if not answer.cancelled():
        answer.exception()


class SharedReads(Generic[Key, Value]):
    """``await reads(key)``: ``read(key)`` run in the thread pool, started after this call,
    its answer shared with every call for ``key`` that came while it waited. Used from the
    event loop's thread only."""

    def __init__(self, read: Callable[[Key], Value]) -> None:
        self._read = read
        self._running: set[Key] = set()
        self._next: dict[Key, asyncio.Future[Value]] = {}
        self._tasks: set[asyncio.Future[Value]] = set()  # held, so none is collected early

    async def __call__(self, key: Key) -> Value:
        answer = self._next.get(key)
        if answer is None:
            answer = asyncio.get_running_loop().create_future()
            answer.add_done_callback(_retrieved)
            self._next[key] = answer
            if key not in self._running:
                self._start(key)
        # A request that goes away leaves the read to the others waiting for it.
        return await asyncio.shield(answer)

    def _start(self, key: Key) -> None:
        answer = self._next.pop(key)
        self._running.add(key)
        task = asyncio.ensure_future(run_in_threadpool(self._read, key))
        self._tasks.add(task)
        task.add_done_callback(partial(self._finish, key, answer))

    def _finish(self, key: Key, answer: asyncio.Future[Value], task: asyncio.Future[Value]) -> None:
        self._tasks.discard(task)
        self._running.discard(key)
        if task.cancelled():
            answer.cancel()
        elif (error := task.exception()) is not None:
            answer.set_exception(error)
        else:
            answer.set_result(task.result())
        if key in self._next:  # requests came while it ran: read again for them
            self._start(key)
