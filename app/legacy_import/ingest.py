"""Ingestion: stage every legacy row of a run, in batches, resumable from its checkpoint.

Each batch commits with its counters and its checkpoint in one transaction: the last legacy
id staged, kept on the batch's chunk (reference tables: the highest id staged), is exactly
where to go on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from app.legacy_import import staging
from app.legacy_import.bulk import analyze, changed_rows, insert_rows, insert_with_ids
from app.legacy_import.helpers import helper_processes
from app.legacy_import.models import (
    CHUNKS,
    COURSE_MAPPINGS,
    SESSION_MAPPINGS,
    STUDENTS,
    TRAININGS,
    LegacyImportRun,
)
from app.legacy_import.prefetch import prefetched
from app.legacy_import.references import RunReferences, type_session_mappings
from app.legacy_import.runs import (
    RUNS,
    RunError,
    add_counters,
    enter_step,
    finish_run,
    get_run,
    mark_failed,
    release_lease,
    take_lease,
)
from app.legacy_import.settings import IngestSettings
from app.legacy_import.source import BEFORE_FIRST_ID, LegacyRecord, LegacySourceReader
from app.legacy_import.vocab import IngestStep, RunStatus, SourceTable
from app.models_base import utcnow

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
RESUMABLE = {RunStatus.PENDING, RunStatus.INGESTING, RunStatus.FAILED}
HELD_CHUNK_POLL_SECONDS = 0.5
REFERENCE_STEPS = (IngestStep.FORMATIONS, IngestStep.SESSIONS)
STUDENT_TABLES = (SourceTable.STAGIAIRES, SourceTable.ARCHIVES)


class Claim(StrEnum):
    STAGED = "staged"  # this worker staged the chunk (or what was left of it)
    ALREADY_DONE = "already_done"
    HELD = "held"  # another worker holds it and its lease has not expired


def ingest(
    session: Session,
    run_id: int,
    reader: LegacySourceReader,
    settings: IngestSettings,
    progress: Progress | None = None,
) -> LegacyImportRun:
    """Stage the legacy tables into run `run_id` from this process and its helper processes
    (helpers.py), continuing from the run's checkpoint.

    A chunk another worker holds is waited for: it is either finished by that worker or, once
    the worker has been silent for the lease, taken over here. When a helper ended meanwhile,
    the chunks it held are done: they are looked at again at once (measured: waiting for them
    anyway cost a 10k-row import 0.5 s, a quarter of its time)."""
    chunks = prepare(session, run_id, reader, settings)
    with helper_processes(session, run_id, reader, settings, len(chunks)) as helpers:
        while chunks:
            running = helpers.running()
            chunks = [
                c for c in chunks if stage_chunk(session, run_id, c, reader, settings, progress) is Claim.HELD
            ]
            if chunks and helpers.running() == running:
                helpers.wait(timeout=min(HELD_CHUNK_POLL_SECONDS, settings.lease_seconds))
                _report(session, run_id, progress)
    finish_if_complete(session, run_id)
    return get_run(session, run_id)


def _report(session: Session, run_id: int, progress: Progress | None) -> None:
    if progress is not None:
        run = get_run(session, run_id)
        progress(run.rows_done, run.rows_total)
        session.rollback()  # the read's transaction: no snapshot held while waiting


def prepare(session: Session, run_id: int, reader: LegacySourceReader, settings: IngestSettings) -> list[int]:
    """Count the rows, stage formations and sessions, and plan the student chunks; returns the
    chunks still to stage. Safe to repeat: what is staged or planned already is kept."""
    run = get_run(session, run_id)
    if run.status not in RESUMABLE or run.current_step not in (None, *IngestStep):
        raise RunError(f"run {run_id} is {run.status}; there is no ingestion to resume")
    take_lease(session, run_id, settings.lease_seconds)
    steps = (*REFERENCE_STEPS, IngestStep.STUDENTS)
    first = steps.index(IngestStep(run.current_step)) if run.current_step else 0
    try:
        reader.check_layout()
        _count_rows(session, run_id, reader)
        for position, step in enumerate(steps[first:], start=first):
            if position > first or run.current_step is None:
                enter_step(session, run_id, RunStatus.INGESTING, step)
            if step in REFERENCE_STEPS:
                _stage_range(session, run_id, step, reader, settings.batch_size, None, None)
        type_session_mappings(session, run_id)  # the student rows' first decisions need them
        session.commit()
        _plan_chunks(session, run_id, reader, settings)
        _set_status(session, run_id, RunStatus.INGESTING)
    except Exception as error:
        mark_failed(session, run_id, error)
        raise
    release_lease(session, run_id)
    return open_chunks(session, run_id)


def _count_rows(session: Session, run_id: int, reader: LegacySourceReader) -> None:
    run = get_run(session, run_id)
    if run.started_at is None:
        run.started_at = utcnow()
    run.rows_total = sum(reader.count(step) for step in (*REFERENCE_STEPS, *STUDENT_TABLES))
    session.commit()


def _set_status(session: Session, run_id: int, status: RunStatus) -> None:
    session.execute(update(RUNS).where(RUNS.c.id == run_id).values(status=status, failure_reason=None))
    session.commit()


def _plan_chunks(session: Session, run_id: int, reader: LegacySourceReader, settings: IngestSettings) -> None:
    """Cut the student tables in chunks of `chunk_size` rows, and the run's last chunk in
    batches: the processes sharing the chunks then finish within a batch of each other, where
    one of them used to stage a whole last chunk alone (measured at 10k rows: 0.25 s of the
    import's 2 s)."""
    planned = session.execute(select(func.count()).where(CHUNKS.c.import_run_id == run_id)).scalar_one()
    if planned:
        return
    bounds = [
        (table, bound)
        for table in STUDENT_TABLES
        for bound in reader.chunk_bounds(table, settings.chunk_size)
    ]
    if bounds:
        table, (after_id, _) = bounds.pop()
        bounds += [(table, bound) for bound in reader.chunk_bounds(table, settings.batch_size, after_id)]
    rows = [
        {
            "import_run_id": run_id,
            "source_table": table.value,
            "after_id": after_id,
            "up_to_id": up_to_id,
            "status": "pending",
            "attempts": 0,
        }
        for table, (after_id, up_to_id) in bounds
    ]
    insert_rows(session, CHUNKS, rows)
    session.commit()


def open_chunks(session: Session, run_id: int) -> list[int]:
    query = select(CHUNKS.c.id).where(CHUNKS.c.import_run_id == run_id, CHUNKS.c.status != "done")
    return list(session.scalars(query.order_by(CHUNKS.c.id)))


def stage_chunk(
    session: Session,
    run_id: int,
    chunk_id: int,
    reader: LegacySourceReader,
    settings: IngestSettings,
    progress: Progress | None = None,
) -> Claim:
    """Claim the chunk and stage its rows from its checkpoint; a failure fails the run."""
    claim = _claim(session, chunk_id, settings.lease_seconds)
    if claim is not Claim.STAGED:
        return claim
    chunk = session.execute(select(CHUNKS).where(CHUNKS.c.id == chunk_id)).one()
    try:
        _stage_range(
            session, run_id, IngestStep(chunk.source_table), reader, settings.batch_size, chunk, progress
        )
        session.execute(
            update(CHUNKS).where(CHUNKS.c.id == chunk_id).values(status="done", finished_at=utcnow())
        )
        session.commit()
    except Exception as error:
        mark_failed(session, run_id, error)
        session.execute(
            update(CHUNKS).where(CHUNKS.c.id == chunk_id).values(status="pending", claimed_at=None)
        )
        session.commit()
        raise
    return Claim.STAGED


def _claim(session: Session, chunk_id: int, lease_seconds: int) -> Claim:
    now = utcnow()
    claimable = or_(
        CHUNKS.c.status == "pending",
        and_(CHUNKS.c.status == "running", CHUNKS.c.claimed_at < now - timedelta(seconds=lease_seconds)),
    )
    claimed = changed_rows(
        session,
        update(CHUNKS)
        .where(CHUNKS.c.id == chunk_id, claimable)
        .values(status="running", claimed_at=now, attempts=CHUNKS.c.attempts + 1),
    )
    session.commit()
    if claimed:
        return Claim.STAGED
    status = session.execute(select(CHUNKS.c.status).where(CHUNKS.c.id == chunk_id)).scalar_one()
    return Claim.ALREADY_DONE if status == "done" else Claim.HELD


def finish_if_complete(session: Session, run_id: int) -> bool:
    """Mark the run ingested when its last chunk is done; true for the one caller that did it."""
    unfinished = select(CHUNKS.c.id).where(CHUNKS.c.import_run_id == run_id, CHUNKS.c.status != "done")
    finished = changed_rows(
        session,
        update(RUNS)
        .where(
            RUNS.c.id == run_id,
            RUNS.c.status == RunStatus.INGESTING,
            RUNS.c.current_step == IngestStep.STUDENTS,
            ~unfinished.exists(),
        )
        .values(status=RunStatus.INGESTED),
    )
    session.commit()
    if finished:
        finish_run(session, run_id, RunStatus.INGESTED)
        analyze(session, ANALYZED_COLUMNS, sample_target=ANALYZE_SAMPLE_TARGET)
        log.info("run %s ingested", run_id)
    return bool(finished)


# The columns validation and classification look the run's rows up by, with the few values
# each holds once staged (`bulk.analyze`). The names, and the states validation decides, are
# analyzed once validated (`validate.VALIDATED_COLUMNS`): the name search reads validated rows.
ANALYZED_COLUMNS = {
    STUDENTS: ("import_run_id", "source_table", "legacy_id", "validation_state", "classification"),
    TRAININGS: ("import_run_id", "session_type", "student_import_id"),
}
# 3,000 sampled rows: the run's size and its few values are as clear as in 30,000 (measured at
# 100k staged rows: 0.40 -> 0.05 s).
ANALYZE_SAMPLE_TARGET = 10


def _stage_range(
    session: Session,
    run_id: int,
    step: IngestStep,
    reader: LegacySourceReader,
    batch_size: int,
    chunk: Any,
    progress: Progress | None,
) -> None:
    """Stage the rows of `step` (within the chunk's id range, if any) after its checkpoint.

    The next batch is read and normalized in a thread while this one is written."""
    stager = _stager(session, run_id, step)
    up_to_id = chunk.up_to_id if chunk is not None else None
    after_id = max(
        checkpoint(session, run_id, step, chunk), chunk.after_id if chunk is not None else BEFORE_FIRST_ID
    )
    batches = reader.read_batches(step, after_id, batch_size, up_to_id)
    for rows in prefetched(stager.values(batch) for batch in batches):
        counters = stager.write(rows)
        add_counters(session, run_id, rows_done=len(rows), **counters)
        if chunk is not None:  # the lease renewed, the checkpoint moved on
            session.execute(
                update(CHUNKS)
                .where(CHUNKS.c.id == chunk.id)
                .values(claimed_at=utcnow(), staged_up_to=rows[-1]["legacy_id"])
            )
        session.commit()
        _report(session, run_id, progress)


# step -> (legacy id, run) columns of the mappings a reference step stages
REFERENCE_CHECKPOINTS = {
    IngestStep.FORMATIONS: (COURSE_MAPPINGS.c.legacy_formation_id, COURSE_MAPPINGS.c.import_run_id),
    IngestStep.SESSIONS: (SESSION_MAPPINGS.c.legacy_session_id, SESSION_MAPPINGS.c.import_run_id),
}


def checkpoint(session: Session, run_id: int, step: IngestStep, chunk: Any = None) -> int:
    """The highest legacy id of `step` (within the chunk) already staged in the run;
    `BEFORE_FIRST_ID` if none. Student rows are staged by chunk, and a chunk keeps its own,
    written with each batch (migration 0014); a reference step's is its mappings' highest."""
    if chunk is not None:
        staged = chunk.staged_up_to
    else:
        column, run = REFERENCE_CHECKPOINTS[step]
        staged = session.execute(select(func.max(column)).where(run == run_id)).scalar()
    return BEFORE_FIRST_ID if staged is None else int(staged)


Values = list[dict[str, Any]]


def _stager(session: Session, run_id: int, step: IngestStep) -> ReferenceStager | StudentStager:
    if step in REFERENCE_STEPS:
        return ReferenceStager(session, run_id, step)
    return StudentStager(session, run_id, SourceTable(step.value))


# step -> (table, values of one record, counter)
REFERENCE_STAGING: dict[IngestStep, tuple[Any, Callable[[LegacyRecord, int], dict[str, Any]], str]] = {
    IngestStep.FORMATIONS: (COURSE_MAPPINGS, staging.formation_values, "formations_staged"),
    IngestStep.SESSIONS: (SESSION_MAPPINGS, staging.session_values, "sessions_staged"),
}


class ReferenceStager:
    """Stages batches of `formations` or `session_ecoins` rows as mappings."""

    def __init__(self, session: Session, run_id: int, step: IngestStep) -> None:
        self.session = session
        self.run_id = run_id
        self.table, self.to_values, self.counter = REFERENCE_STAGING[step]

    def values(self, batch: list[LegacyRecord]) -> Values:
        """The batch's staging values: pure, safe to run in another thread."""
        return [self.to_values(record, self.run_id) for record in batch]

    def write(self, rows: Values) -> dict[str, int]:
        insert_rows(self.session, self.table, rows)
        return {self.counter: len(rows)}


class StudentStager:
    """Stages batches of `stagiaires` or `archives` rows with their training children.

    Each row is staged with the rules' first decisions on it: its training's session type, its
    classification and import action. They depend on the legacy data alone (the row and the
    run's formations and sessions, staged and typed before any student), so validation and
    classification apply the same rules again and write only where a decision differs: a row is
    rewritten, with all its indexes, only when something changed."""

    def __init__(self, session: Session, run_id: int, source_table: SourceTable) -> None:
        self.session = session
        self.run_id = run_id
        self.source_table = source_table
        self.references = RunReferences.load(session, run_id)

    def values(self, batch: list[LegacyRecord]) -> Values:
        """The batch's staging values: pure, safe to run in another thread."""
        today = date.today()
        rows = [staging.student_values(r, self.source_table, self.run_id, today) for r in batch]
        for row in rows:
            decision = self.references.classify(
                row["status_text"], row["legacy_formation_id"], row["legacy_session_id"]
            )
            row["classification"] = decision.classification.value
            row["classification_rule"] = decision.rule
            row["import_action"] = decision.import_action.value
        return rows

    def write(self, rows: Values) -> dict[str, int]:
        staged = self._insert_students(rows)
        return {
            f"{self.source_table}_staged": len(rows),
            "trainings_staged": self._insert_trainings(staged),
            **batch_counters(rows),
        }

    def _insert_students(self, rows: Values) -> Values:
        """The rows as staged, each with its id: the whole batch, or row by row if it is refused."""
        try:
            with self.session.begin_nested():
                insert_with_ids(self.session, STUDENTS, rows)
        except DBAPIError:
            log.warning(
                "run %s: a %s batch was refused; staging it row by row", self.run_id, self.source_table
            )
            return [self._insert_one(row) for row in rows]
        return rows

    def _insert_one(self, row: dict[str, Any]) -> dict[str, Any]:
        """One row in its own savepoint; if the database refuses it, what is safe to keep of it.
        The row as staged."""
        try:
            with self.session.begin_nested():
                insert_with_ids(self.session, STUDENTS, [row])
        except DBAPIError:
            log.warning(
                "run %s: %s row %s staged without its normalized values",
                self.run_id,
                self.source_table,
                row["legacy_id"],
            )
            fallback = staging.fallback_values(row)
            with self.session.begin_nested():
                insert_with_ids(self.session, STUDENTS, [fallback])
            return fallback
        return row

    def _insert_trainings(self, staged: Values) -> int:
        """The training child of each row as staged, built from it and the run's mappings
        (`staging.training_values`) and written with one COPY on PostgreSQL. An INSERT ...
        SELECT joining the rows to the mappings in the database took 30 ms a batch of 2,000
        rows; the COPY takes 10 ms of the database's time."""
        trainings = [staging.training_values(row, self.references) for row in staged]
        insert_rows(self.session, TRAININGS, trainings)
        return len(trainings)


def batch_counters(rows: Iterable[dict[str, Any]]) -> dict[str, int]:
    counters: dict[str, int] = {}
    for row in rows:
        for name in (f"phones_{row['phone_status']}", f"emails_{row['email_status']}"):
            counters[name] = counters.get(name, 0) + 1
        if row["normalization_issues"]:
            counters["rows_with_issues"] = counters.get("rows_with_issues", 0) + 1
        if row["text_repairs"]:
            counters["text_repairs"] = counters.get("text_repairs", 0) + 1
    return counters
