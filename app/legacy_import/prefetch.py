"""Producing the next item in a thread while the caller consumes this one.

The importer's two halves wait on different things: reading and normalizing a batch is Python
work, writing it mostly waits on PostgreSQL (its indexes, foreign keys, the commit), and a
waiting thread lets go of the GIL. With the next batch prepared during the write, the two
overlap instead of taking turns.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")

_DONE = object()
_PUT_POLL_SECONDS = 0.1


class _Failed:
    def __init__(self, error: BaseException) -> None:
        self.error = error


def prefetched(items: Iterable[T], depth: int = 1) -> Iterator[T]:
    """`items`, produced in a thread at most `depth` ahead of the caller.

    An error in the producer is raised to the caller at the item where it happened. When the
    caller stops early, the producer stops after the item in hand."""
    ready: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(entry: object) -> bool:
        while not stop.is_set():
            try:
                ready.put(entry, timeout=_PUT_POLL_SECONDS)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put(item):
                    return
        except BaseException as error:  # noqa: BLE001 - handed to the consumer, raised there
            put(_Failed(error))
            return
        put(_DONE)

    producer = threading.Thread(target=produce, name="prefetch", daemon=True)
    producer.start()
    try:
        while (entry := ready.get()) is not _DONE:
            if isinstance(entry, _Failed):
                raise entry.error
            yield entry  # type: ignore[misc]
    finally:
        stop.set()
        producer.join()
