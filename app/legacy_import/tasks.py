"""Celery tasks: thin, they take ids and call the same services as the CLI.

Every task is safe to run twice (at-least-once delivery): chunks and runs are claimed in the
database, and a task that finds its chunk or run held by another worker retries later.
"""

from __future__ import annotations

from celery import Task, group, shared_task
from flask import current_app

from app.extensions import db
from app.legacy_import import ingest
from app.legacy_import.connections import open_reader
from app.legacy_import.pipeline import run_named_phase
from app.legacy_import.runs import RunBusy, describe_error, get_run
from app.legacy_import.settings import IngestSettings


class TaskFailed(Exception):
    """A task's failure, told without the original message (driver messages can hold PII).
    The run itself records the step and the error kind."""


def _settings() -> IngestSettings:
    return IngestSettings.from_config(current_app.config)


def _retry_later(task: Task) -> Exception:
    """The run or chunk is held by another worker: try again once its lease could have expired.
    In process (no broker) there is no later: the caller gets the one-line error."""
    if task.request.is_eager:
        return RunBusy("another worker holds this run; try again later")
    return task.retry(countdown=_settings().lease_seconds)


@shared_task(bind=True, max_retries=None, name="legacy_import.ingest_run")
def ingest_run(self, run_id: int) -> None:  # type: ignore[no-untyped-def]
    """Stage formations and sessions, plan the chunks, and fan them out to the workers."""
    reader = open_reader(current_app.config, get_run(db.session(), run_id).connection_name)
    try:
        chunks = ingest.prepare(db.session(), run_id, reader, _settings())
    except RunBusy:
        raise _retry_later(self) from None
    except Exception as error:  # noqa: BLE001 - re-raised, without the message
        raise TaskFailed(describe_error(error)) from None
    finally:
        reader.close()
    if chunks:
        group(ingest_chunk.si(run_id, chunk_id) for chunk_id in chunks).apply_async()
    else:
        ingest.finish_if_complete(db.session(), run_id)


@shared_task(bind=True, max_retries=None, name="legacy_import.ingest_chunk")
def ingest_chunk(self, run_id: int, chunk_id: int) -> None:  # type: ignore[no-untyped-def]
    """Stage one chunk; the worker that stages the last one marks the run ingested."""
    reader = open_reader(current_app.config, get_run(db.session(), run_id).connection_name)
    try:
        claim = ingest.stage_chunk(db.session(), run_id, chunk_id, reader, _settings())
    except Exception as error:  # noqa: BLE001 - re-raised, without the message
        raise TaskFailed(describe_error(error)) from None
    finally:
        reader.close()
    if claim is ingest.Claim.HELD:
        raise _retry_later(self)
    ingest.finish_if_complete(db.session(), run_id)


@shared_task(bind=True, max_retries=None, name="legacy_import.run_phase")
def run_phase(self, run_id: int, phase: str, batch_size: int | None = None) -> None:  # type: ignore[no-untyped-def]
    """Validate, classify, dry-run, commit or roll back a run (`phase` names which)."""
    try:
        run_named_phase(db.session(), current_app.config, run_id, phase, batch_size=batch_size)
    except RunBusy:
        raise _retry_later(self) from None
    except Exception as error:  # noqa: BLE001 - re-raised, without the message
        raise TaskFailed(describe_error(error)) from None
