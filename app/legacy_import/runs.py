"""Run bookkeeping shared by every step: lookup, steps and their times, leases, counters."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from app.legacy_import.bulk import changed_rows
from app.legacy_import.models import RUN_COUNTERS, RUNS, LegacyImportRun
from app.legacy_import.vocab import RunStatus
from app.models_base import utcnow

log = logging.getLogger(__name__)


class RunError(Exception):
    """A run cannot do what was asked; the message is one line for the operator."""

    safe_message = True


class RunBusy(RunError):
    """Another worker holds the run (its lease has not expired)."""


def get_run(session: Session, run_id: int) -> LegacyImportRun:
    run = session.get(LegacyImportRun, run_id)
    if run is None:
        raise RunError(f"no import run with id {run_id}")
    return run


def lock_run(session: Session, run_id: int) -> None:
    """Lock the run's row until the transaction ends (FOR UPDATE on PostgreSQL; SQLite has one
    writer at a time anyway). The writers of the review queue's counts take it before they read
    the rows they change, so that they change them one after the other (`queue_counts.py`)."""
    session.execute(select(RUNS.c.id).where(RUNS.c.id == run_id).with_for_update())


def latest_run_id(session: Session) -> int | None:
    return session.scalar(select(func.max(RUNS.c.id)))


def create_run(
    session: Session, connection_name: str, label: str | None = None, initiated_by_id: int | None = None
) -> LegacyImportRun:
    """A new run, committed, so that its id can be handed to a worker."""
    run = LegacyImportRun(
        connection_name=connection_name,
        label=label,
        initiated_by_id=initiated_by_id,
        status=RunStatus.PENDING,
        step_log=[],
        **{name: 0 for name in RUN_COUNTERS},
    )
    session.add(run)
    session.commit()
    log.info("import run %s created on connection %s", run.id, connection_name)
    return run


def enter_step(
    session: Session, run_id: int, status: RunStatus, step: str, rows_total: int | None = None
) -> None:
    """Start `step`: record its start time (closing the previous step), and, for a step that
    counts rows of its own, reset the progress to 0 of `rows_total`."""
    run = get_run(session, run_id)
    now = utcnow()
    run.step_log = [*_closed(run.step_log, now), {"step": step, "started_at": now.isoformat()}]
    run.status, run.current_step, run.step_started_at, run.failure_reason = status, step, now, None
    if rows_total is not None:
        run.rows_done, run.rows_total, run.step_checkpoint = 0, rows_total, 0
    session.commit()


def finish_run(session: Session, run_id: int, status: RunStatus) -> None:
    run = get_run(session, run_id)
    now = utcnow()
    run.step_log = _closed(run.step_log, now)
    run.status, run.current_step, run.finished_at, run.lease_expires_at = status, None, now, None
    session.commit()


def _closed(step_log: list[dict[str, Any]] | None, now: Any) -> list[dict[str, Any]]:
    entries = [dict(entry) for entry in step_log or []]
    if entries and "finished_at" not in entries[-1]:
        entries[-1]["finished_at"] = now.isoformat()
    return entries


def take_lease(session: Session, run_id: int, seconds: int) -> None:
    """Hold the run for `seconds`, unless another worker holds it; committed."""
    now = utcnow()
    claimed = changed_rows(
        session,
        update(RUNS)
        .where(RUNS.c.id == run_id, or_(RUNS.c.lease_expires_at.is_(None), RUNS.c.lease_expires_at < now))
        .values(lease_expires_at=now + timedelta(seconds=seconds)),
    )
    session.commit()
    if not claimed:
        raise RunBusy(f"run {run_id} is being worked on by another worker; try again later")


def renew_lease(session: Session, run_id: int, seconds: int) -> None:
    """Push the lease on, in the caller's transaction (with the batch it just did)."""
    session.execute(
        update(RUNS).where(RUNS.c.id == run_id).values(lease_expires_at=utcnow() + timedelta(seconds=seconds))
    )


def release_lease(session: Session, run_id: int) -> None:
    session.execute(update(RUNS).where(RUNS.c.id == run_id).values(lease_expires_at=None))
    session.commit()


def add_counters(session: Session, run_id: int, **increments: int) -> None:
    """Add to the run's counters in the caller's transaction; safe with concurrent writers."""
    values: dict[str, Any] = {name: RUNS.c[name] + amount for name, amount in increments.items() if amount}
    if values:
        session.execute(update(RUNS).where(RUNS.c.id == run_id).values(values))


def mark_failed(session: Session, run_id: int, error: BaseException) -> str:
    """Record a failure whose reason names the step and the error class, never row data."""
    session.rollback()
    run = get_run(session, run_id)
    reason = f"{run.current_step or 'start'}: {describe_error(error)}"
    run.status = RunStatus.FAILED
    run.failure_reason = reason
    run.lease_expires_at = None
    session.commit()
    log.warning("import run %s failed (%s)", run_id, reason)
    return reason


def describe_error(error: BaseException) -> str:
    """An error's kind without its message: driver messages can quote row values."""
    if isinstance(error, SQLAlchemyError) and getattr(error, "orig", None) is not None:
        return f"{type(error).__name__} ({type(error.orig).__name__})"  # type: ignore[attr-defined]
    if getattr(error, "safe_message", False):
        return str(error)
    return type(error).__name__
