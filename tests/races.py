"""Two actions started at the same instant from two threads, for the tests of what a
conditional UPDATE lets through when two people (or processes) act at once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from mailer.errors import MailerError


def race(first: Callable[[], Any], second: Callable[[], Any]) -> list[Any]:
    """Run both at once; each result is the value or the MailerError raised."""
    barrier = threading.Barrier(2)
    results: list[Any] = [None, None]

    def run(index: int, action: Callable[[], Any]) -> None:
        barrier.wait()
        try:
            results[index] = action()
        except MailerError as exc:
            results[index] = exc

    threads = [threading.Thread(target=run, args=pair) for pair in enumerate((first, second))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results
