"""Running a phase of a run (validate, classify, dry-run) as resumable steps.

A phase is a list of named steps. The run's `current_step` names the step under way; a step
that works row by row records the last staged-row id it finished in `step_checkpoint`, in the
same transaction as the rows. Resuming a failed or interrupted phase starts again at its
current step, after its checkpoint; steps already finished are not done again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.legacy_import.models import (
    STUDENTS,
    TRAININGS,
    LegacyImportRun,
)
from app.legacy_import.runs import (
    RUNS,
    RunError,
    enter_step,
    finish_run,
    get_run,
    mark_failed,
    renew_lease,
    take_lease,
)
from app.legacy_import.settings import IngestSettings
from app.legacy_import.vocab import RunStatus

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class StepContext:
    session: Session
    run_id: int
    checkpoint: int
    settings: IngestSettings
    progress: Progress | None

    @property
    def batch_size(self) -> int:
        return self.settings.batch_size


Step = Callable[[StepContext], None]


@dataclass(frozen=True)
class Phase:
    name: str
    working: RunStatus
    done: RunStatus
    starts_from: frozenset[RunStatus]
    steps: Sequence[tuple[str, Step]]
    # What the progress counts (rows_total): the run's staged rows unless the phase says.
    count_rows: Callable[[Session, int], int] | None = None

    @property
    def step_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.steps)

    def owns(self, run: LegacyImportRun) -> bool:
        """Whether `run` stopped (failed or was interrupted) inside this phase."""
        return run.status in (self.working, RunStatus.FAILED) and run.current_step in self.step_names


def run_phase(
    session: Session, run_id: int, phase: Phase, settings: IngestSettings, progress: Progress | None = None
) -> LegacyImportRun:
    """Run the phase's steps, from the step it stopped in when it is resumed. The worker holds
    the run's lease throughout, renewed with each batch."""
    run = get_run(session, run_id)
    first = _first_step(run, phase)
    resuming = phase.owns(run)
    take_lease(session, run_id, settings.lease_seconds)
    try:
        for name, step in phase.steps[first:]:
            if not resuming:
                total = (phase.count_rows or staged_rows)(session, run_id)
                enter_step(session, run_id, phase.working, name, rows_total=total)
            resuming = False
            run = get_run(session, run_id)
            step(StepContext(session, run_id, run.step_checkpoint or 0, settings, progress))
        finish_run(session, run_id, phase.done)
    except Exception as error:
        mark_failed(session, run_id, error)
        raise
    log.info("run %s: %s finished", run_id, phase.name)
    return get_run(session, run_id)


def _first_step(run: LegacyImportRun, phase: Phase) -> int:
    if phase.owns(run):
        return phase.step_names.index(run.current_step or "")
    if run.status in phase.starts_from:
        return 0
    allowed = ", ".join(sorted(phase.starts_from))
    raise RunError(f"run {run.id} is {run.status}; {phase.name} needs a run that is {allowed}")


def staged_rows(session: Session, run_id: int) -> int:
    query = select(func.count()).select_from(STUDENTS).where(STUDENTS.c.import_run_id == run_id)
    return int(session.execute(query).scalar_one())


def student_batches(
    context: StepContext, columns: Sequence[Any], trainings: bool = True
) -> Iterator[Sequence[Any]]:
    """The run's staged students (with their training, unless `trainings` is false), after the
    step's checkpoint, by id."""
    after_id = context.checkpoint
    while True:
        query = select(STUDENTS.c.id, *columns)
        if trainings:
            query = query.outerjoin(  # the repeated bound starts the trainings index at the batch
                TRAININGS,
                (TRAININGS.c.student_import_id == STUDENTS.c.id) & (TRAININGS.c.student_import_id > after_id),
            )
        query = (
            query.where(STUDENTS.c.import_run_id == context.run_id, STUDENTS.c.id > after_id)
            .order_by(STUDENTS.c.id)
            .limit(context.batch_size)
        )
        rows = context.session.execute(query).all()
        if not rows:
            return
        yield rows
        after_id = rows[-1].id


def finish_batch(context: StepContext, last_id: int, count: int) -> None:
    """Move the checkpoint and the progress with the batch's changes, in one transaction."""
    context.session.execute(
        update(RUNS)
        .where(RUNS.c.id == context.run_id)
        .values(step_checkpoint=last_id, rows_done=RUNS.c.rows_done + count)
    )
    renew_lease(context.session, context.run_id, context.settings.lease_seconds)
    context.session.commit()
    if context.progress is not None:
        run = get_run(context.session, context.run_id)
        context.progress(run.rows_done, run.rows_total)
