"""Producing the next item in a thread: order, errors and early stops as the caller sees them."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from app.legacy_import.prefetch import prefetched


def test_items_arrive_in_order_and_all_of_them() -> None:
    assert list(prefetched(range(1000))) == list(range(1000))


def test_an_error_in_the_producer_reaches_the_caller_after_the_items_before_it() -> None:
    def items() -> Iterator[int]:
        yield 1
        yield 2
        raise ConnectionResetError("legacy server went away")

    received = []
    with pytest.raises(ConnectionResetError):
        for item in prefetched(items()):
            received.append(item)
    assert received == [1, 2]


def test_the_producer_stays_at_most_depth_items_ahead_and_stops_when_the_caller_does() -> None:
    produced = []
    threads_before = threading.active_count()

    def items() -> Iterator[int]:
        for number in range(100):
            produced.append(number)
            yield number

    for item in prefetched(items(), depth=1):
        if item == 3:
            break
    assert len(produced) <= 6  # 0..3 taken, one queued, one in hand when the stop came
    assert threading.active_count() == threads_before
