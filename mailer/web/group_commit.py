"""Group commit: requests that arrive while a transaction runs wait, and go together in the
next one.

A burst of one-click unsubscribes (a big send's readers opening it at once, or a mail
client's background POSTs) would otherwise be a write transaction each: on SQLite every one
queues for the single writer lock, which a send in another process holds batch after batch.
Gathered, a few hundred requests cost about what one does. Each request still gets its own
answer only after the transaction that holds it has committed, so nothing is answered that
is not stored. ``[web] group_commit = false`` gives every request its own transaction, the
reference to compare with.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

from starlette.concurrency import run_in_threadpool

Item = TypeVar("Item")
Result = TypeVar("Result")


class GroupCommit(Generic[Item, Result]):
    """Runs ``apply_all`` (a blocking function taking a batch, answering each item in order)
    in a worker thread, one batch at a time per process, with everything submitted since
    the previous batch began (at most ``max_batch`` items)."""

    def __init__(
        self, apply_all: Callable[[Sequence[Item]], list[Result]], max_batch: int = 500
    ) -> None:
        self.apply_all = apply_all
        self.max_batch = max_batch
        self._waiting: list[tuple[Item, asyncio.Future[Result]]] = []
        self._worker: asyncio.Task[None] | None = None

    async def submit(self, item: Item) -> Result:
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, future))
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._work())
        # A request whose client goes away may still be carried out (its batch may have
        # begun): only its answer is dropped.
        return await future

    async def _work(self) -> None:
        while self._waiting:
            batch = self._waiting[: self.max_batch]
            del self._waiting[: self.max_batch]
            try:
                results = await run_in_threadpool(self.apply_all, [item for item, _ in batch])
            except Exception as exc:  # every request of a failed batch fails with it
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (_, future), result in zip(batch, results, strict=True):
                if not future.done():
                    future.set_result(result)
