"""Run bookkeeping shared by every step: lookup, status changes, atomic counters."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from app.legacy_import.models import RUN_COUNTERS, LegacyImportRun
from app.legacy_import.vocab import RunStatus
from app.models_base import utcnow

log = logging.getLogger(__name__)


class RunError(Exception):
    """A run cannot do what was asked; the message is one line for the operator."""

    safe_message = True


def get_run(session: Session, run_id: int) -> LegacyImportRun:
    run = session.get(LegacyImportRun, run_id)
    if run is None:
        raise RunError(f"no import run with id {run_id}")
    return run


def create_run(
    session: Session, connection_name: str, label: str | None = None, initiated_by_id: int | None = None
) -> LegacyImportRun:
    """A new run, committed, so that its id can be handed to a worker."""
    run = LegacyImportRun(
        connection_name=connection_name,
        label=label,
        initiated_by_id=initiated_by_id,
        status=RunStatus.PENDING,
        **{name: 0 for name in RUN_COUNTERS},
    )
    session.add(run)
    session.commit()
    log.info("import run %s created on connection %s", run.id, connection_name)
    return run


def enter_step(session: Session, run_id: int, status: RunStatus, step: str) -> None:
    session.execute(
        update(LegacyImportRun)
        .where(LegacyImportRun.id == run_id)
        .values(status=status, current_step=step, step_started_at=utcnow(), failure_reason=None)
    )
    session.commit()


def add_counters(session: Session, run_id: int, **increments: int) -> None:
    """Add to the run's counters in the caller's transaction; safe with concurrent writers."""
    table = LegacyImportRun.__table__
    values: dict[str, Any] = {name: table.c[name] + amount for name, amount in increments.items() if amount}
    if values:
        session.execute(update(table).where(table.c.id == run_id).values(values))


def mark_failed(session: Session, run_id: int, error: BaseException) -> str:
    """Record a failure whose reason names the step and the error class, never row data."""
    session.rollback()
    run = get_run(session, run_id)
    reason = f"{run.current_step or 'start'}: {describe_error(error)}"
    run.status = RunStatus.FAILED
    run.failure_reason = reason
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
