"""Ingestion: stage every legacy row of a run, in batches, resumable from its checkpoint.

The checkpoint is the staged data itself: each batch and its counters commit in one
transaction, so the highest legacy id staged for a table is exactly where to go on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from app.legacy_import import staging
from app.legacy_import.bulk import insert_rows
from app.legacy_import.models import (
    LegacyCourseMapping,
    LegacyImportRun,
    LegacySessionMapping,
    LegacyStudentImport,
    LegacyTrainingImport,
)
from app.legacy_import.runs import RunError, add_counters, enter_step, get_run, mark_failed
from app.legacy_import.source import LegacyRecord, LegacySourceReader
from app.legacy_import.vocab import IngestStep, RunStatus, SourceTable
from app.models_base import utcnow

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
RESUMABLE = {RunStatus.PENDING, RunStatus.INGESTING, RunStatus.FAILED}

STUDENTS = LegacyStudentImport.__table__
TRAININGS = LegacyTrainingImport.__table__
COURSE_MAPPINGS = LegacyCourseMapping.__table__
SESSION_MAPPINGS = LegacySessionMapping.__table__


def ingest(
    session: Session,
    run_id: int,
    reader: LegacySourceReader,
    batch_size: int,
    progress: Progress | None = None,
) -> LegacyImportRun:
    """Stage the legacy tables into run `run_id`, continuing from its checkpoint."""
    run = get_run(session, run_id)
    if run.status not in RESUMABLE or run.current_step not in (None, *IngestStep):
        raise RunError(f"run {run_id} is {run.status}; there is no ingestion to resume")
    try:
        reader.check_layout()
        _count_rows(session, run, reader)
        for step in IngestStep:
            enter_step(session, run_id, RunStatus.INGESTING, step)
            _stage_step(session, run_id, step, reader, batch_size, progress)
        _finish(session, run_id)
    except Exception as error:
        mark_failed(session, run_id, error)
        raise
    return get_run(session, run_id)


def _count_rows(session: Session, run: LegacyImportRun, reader: LegacySourceReader) -> None:
    if run.started_at is None:
        run.started_at = utcnow()
    run.rows_total = sum(reader.count(step) for step in IngestStep)
    session.commit()


def _stage_step(
    session: Session,
    run_id: int,
    step: IngestStep,
    reader: LegacySourceReader,
    batch_size: int,
    progress: Progress | None,
) -> None:
    stage_batch = _batch_stager(session, run_id, step)
    after_id = checkpoint(session, run_id, step)
    for batch in reader.read_batches(step, after_id, batch_size):
        counters = stage_batch(batch)
        add_counters(session, run_id, rows_done=len(batch), **counters)
        session.commit()
        if progress is not None:
            run = get_run(session, run_id)
            progress(run.rows_done, run.rows_total)
    log.info("run %s: step %s staged", run_id, step)


def checkpoint(session: Session, run_id: int, step: IngestStep) -> int:
    """The highest legacy id of `step` already staged in the run (0 when none)."""
    if step is IngestStep.FORMATIONS:
        column, where = COURSE_MAPPINGS.c.legacy_formation_id, COURSE_MAPPINGS.c.import_run_id == run_id
    elif step is IngestStep.SESSIONS:
        column, where = SESSION_MAPPINGS.c.legacy_session_id, SESSION_MAPPINGS.c.import_run_id == run_id
    else:
        column = STUDENTS.c.legacy_id
        where = (STUDENTS.c.import_run_id == run_id) & (STUDENTS.c.source_table == step.value)
    return int(session.execute(select(func.max(column)).where(where)).scalar() or 0)


def _batch_stager(
    session: Session, run_id: int, step: IngestStep
) -> Callable[[list[LegacyRecord]], dict[str, int]]:
    if step is IngestStep.FORMATIONS:
        return lambda batch: _stage_reference(
            session,
            COURSE_MAPPINGS,
            [staging.formation_values(r, run_id) for r in batch],
            "formations_staged",
        )
    if step is IngestStep.SESSIONS:
        return lambda batch: _stage_reference(
            session, SESSION_MAPPINGS, [staging.session_values(r, run_id) for r in batch], "sessions_staged"
        )
    stager = StudentStager(session, run_id, SourceTable(step.value))
    return stager.stage


def _stage_reference(
    session: Session, table: Any, rows: list[dict[str, Any]], counter: str
) -> dict[str, int]:
    insert_rows(session, table, rows)
    return {counter: len(rows)}


class StudentStager:
    """Stages batches of `stagiaires` or `archives` rows with their training children."""

    def __init__(self, session: Session, run_id: int, source_table: SourceTable) -> None:
        self.session = session
        self.run_id = run_id
        self.source_table = source_table
        self.formations = _formation_names(session, run_id)
        self.sessions = _sessions(session, run_id)

    def stage(self, batch: list[LegacyRecord]) -> dict[str, int]:
        rows = [staging.student_values(r, self.source_table, self.run_id) for r in batch]
        self._insert_students(rows)
        ids = self._staged_ids(rows[0]["legacy_id"], rows[-1]["legacy_id"])
        insert_rows(self.session, TRAININGS, [self._training(ids[row["legacy_id"]], row) for row in rows])
        return {
            f"{self.source_table}_staged": len(rows),
            "trainings_staged": len(rows),
            **batch_counters(rows),
        }

    def _insert_students(self, rows: list[dict[str, Any]]) -> None:
        try:
            with self.session.begin_nested():
                insert_rows(self.session, STUDENTS, rows)
        except DBAPIError:
            log.warning(
                "run %s: a %s batch was refused; staging it row by row", self.run_id, self.source_table
            )
            for row in rows:
                self._insert_one(row)

    def _insert_one(self, row: dict[str, Any]) -> None:
        """One row in its own savepoint; if the database refuses it, stage what is safe to keep."""
        try:
            with self.session.begin_nested():
                insert_rows(self.session, STUDENTS, [row])
        except DBAPIError:
            log.warning(
                "run %s: %s row %s staged without its normalized values",
                self.run_id,
                self.source_table,
                row["legacy_id"],
            )
            with self.session.begin_nested():
                insert_rows(self.session, STUDENTS, [staging.fallback_values(row)])

    def _staged_ids(self, first: int, last: int) -> dict[int, int]:
        """Staged-row ids of the batch by legacy id, through the run's unique key."""
        query = select(STUDENTS.c.legacy_id, STUDENTS.c.id).where(
            STUDENTS.c.import_run_id == self.run_id,
            STUDENTS.c.source_table == self.source_table.value,
            STUDENTS.c.legacy_id.between(first, last),
        )
        return dict(self.session.execute(query).all())

    def _training(self, student_id: int, row: dict[str, Any]) -> dict[str, Any]:
        session_id = row["legacy_session_id"]
        legacy_session = self.sessions.get(session_id, {})
        formation_id = row["legacy_formation_id"]
        return {
            "student_import_id": student_id,
            "import_run_id": self.run_id,
            "legacy_formation_id": formation_id,
            "legacy_formation_name": self.formations.get(formation_id),
            "legacy_session_id": session_id,
            "legacy_session_code": legacy_session.get("code"),
            "session_starts_on": legacy_session.get("starts_on"),
            "session_ends_on": legacy_session.get("ends_on"),
        }


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


def _formation_names(session: Session, run_id: int) -> dict[int, str | None]:
    query = select(COURSE_MAPPINGS.c.legacy_formation_id, COURSE_MAPPINGS.c.legacy_name).where(
        COURSE_MAPPINGS.c.import_run_id == run_id
    )
    return {fid: name for fid, name in session.execute(query)}


def _sessions(session: Session, run_id: int) -> dict[int, dict[str, Any]]:
    query = select(
        SESSION_MAPPINGS.c.legacy_session_id,
        SESSION_MAPPINGS.c.code,
        SESSION_MAPPINGS.c.starts_on,
        SESSION_MAPPINGS.c.ends_on,
    ).where(SESSION_MAPPINGS.c.import_run_id == run_id)
    return {row.legacy_session_id: row._asdict() for row in session.execute(query)}


def _finish(session: Session, run_id: int) -> None:
    run = get_run(session, run_id)
    run.status = RunStatus.INGESTED
    run.current_step = None
    run.finished_at = utcnow()
    session.commit()
    log.info("run %s ingested: %s rows", run_id, run.rows_done)
