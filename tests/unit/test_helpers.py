"""The helper processes of an in-process import, as the importing process sees them."""

from __future__ import annotations

import multiprocessing
import sys
import threading

import pytest

from app.legacy_import.helpers import Helpers, other_threads_running
from app.legacy_import.runs import RunError


def spawned(exit_code: int) -> multiprocessing.process.BaseProcess:
    process = multiprocessing.get_context("spawn").Process(target=sys.exit, args=(exit_code,))
    process.start()
    return process


def test_a_helper_that_failed_fails_the_import() -> None:
    helpers = Helpers([spawned(0), spawned(3)])
    with pytest.raises(RunError, match="a helper process failed"):
        for _ in range(100):  # each wait returns when a helper ends (or after the timeout)
            helpers.wait(timeout=1)
    for process in helpers.processes:
        process.join()


def test_helpers_that_finished_cleanly_are_waited_for_quietly() -> None:
    helpers = Helpers([spawned(0)])
    helpers.processes[0].join()
    helpers.wait(timeout=0.01)


def test_a_running_thread_is_seen_so_helpers_are_spawned_not_forked() -> None:
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert other_threads_running()
    finally:
        stop.set()
        thread.join()
