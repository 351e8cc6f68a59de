"""Helper processes of an in-process import: they stage chunks beside the importing process.

Normalizing a row costs far more Python time than reading or writing it, so an import run
from the command line uses `LEGACY_IMPORT_PROCESSES` processes (default: two, or one on a
single core; each holds ~115 MB at its peak): the importing process and helpers it starts.
Helpers open their own connections from the same URLs and share out the run's chunks through
the claims and leases Celery workers use. A helper that dies therefore loses nothing: its
chunk's lease expires and the importing process stages it. A helper stops when the run stops
ingesting or its parent is gone.

Helpers are forked when the importing process runs no other thread (the command line): a
forked helper starts with the app's modules imported, where a spawned one first spends about
a second of CPU importing them. A process with other threads (a web server) spawns them: a
fork would copy the locks those threads may hold, never to be released in the helper.

Only a PostgreSQL app database gets helpers: SQLite takes one writer at a time.
"""

from __future__ import annotations

import logging
import multiprocessing
import multiprocessing.connection
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing.context import ForkContext, SpawnContext
from multiprocessing.process import BaseProcess
from typing import Any

from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from app.legacy_import.runs import RunError, get_run
from app.legacy_import.settings import IngestSettings
from app.legacy_import.source import DatabaseLegacySourceReader, LegacySourceReader
from app.legacy_import.vocab import RunStatus

log = logging.getLogger(__name__)


@dataclass
class Helpers:
    """The running helpers of one import (none when the import runs alone)."""

    processes: list[BaseProcess] = field(default_factory=list)

    def running(self) -> int:
        """How many helpers are still at work; a failed helper fails the import here (the run
        already holds the reason, written by the helper)."""
        if any(p.exitcode not in (None, 0) for p in self.processes):
            raise RunError("a helper process failed staging a chunk; see the run's failure reason")
        return sum(p.exitcode is None for p in self.processes)

    def wait(self, timeout: float) -> None:
        """Sleep until a helper ends or `timeout` passes."""
        running = [p for p in self.processes if p.exitcode is None]
        if running:
            ready = set(multiprocessing.connection.wait([p.sentinel for p in running], timeout=timeout))
            for process in running:
                if process.sentinel in ready:
                    process.join()  # ready once it is exiting; its exit code comes soon after
        else:
            time.sleep(timeout)
        self.running()  # raises if a helper failed meanwhile


@contextmanager
def helper_processes(
    session: Session, run_id: int, reader: LegacySourceReader, settings: IngestSettings, open_chunks: int
) -> Iterator[Helpers]:
    """Start up to `settings.processes - 1` helpers for the run's open chunks; on leaving,
    wait for them (they stop after their chunk once the run has stopped ingesting)."""
    count = min(settings.processes - 1, open_chunks - 1)
    bind = session.get_bind()
    if count < 1 or bind.dialect.name != "postgresql" or not isinstance(reader, DatabaseLegacySourceReader):
        yield Helpers()
        return
    app_url = bind.engine.url.render_as_string(hide_password=False)
    arguments = (app_url, reader.url, reader.column_map, run_id, settings, os.getpid())
    context = helper_context()
    helpers = Helpers([context.Process(target=stage_open_chunks, args=arguments) for _ in range(count)])
    for process in helpers.processes:
        process.start()
    log.info("run %s: %d helper process(es) staging chunks (%s)", run_id, count, context.get_start_method())
    try:
        yield helpers
    finally:
        for process in helpers.processes:
            process.join()


def helper_context() -> ForkContext | SpawnContext:
    """How to start helpers: fork from a process that runs no other thread, else spawn."""
    if other_threads_running():
        return multiprocessing.get_context("spawn")
    return multiprocessing.get_context("fork")


def other_threads_running() -> bool:
    return threading.active_count() > 1


def stage_open_chunks(
    app_url: str,
    legacy_url: str,
    column_map: dict[str, Any],
    run_id: int,
    settings: IngestSettings,
    parent_pid: int,
) -> None:
    """A helper's work: stage every open chunk it can claim. A failure fails the run (in
    stage_chunk) and ends the process with a non-zero exit code."""
    from app import engine_options  # here: app/__init__ imports this module's importers
    from app.legacy_import.ingest import open_chunks, stage_chunk

    engine = create_engine(app_url, **engine_options(app_url))
    reader = DatabaseLegacySourceReader(legacy_url, column_map)
    try:
        with Session(engine) as session:
            for chunk_id in open_chunks(session, run_id):
                if os.getppid() != parent_pid or get_run(session, run_id).status != RunStatus.INGESTING:
                    break
                stage_chunk(session, run_id, chunk_id, reader, settings)
    finally:
        reader.close()
        engine.dispose()
