"""Read-only views of runs for the CLI and the web pages: summaries, breakdowns, commit logs.

Counts only: nothing here returns a name, phone, e-mail or raw payload of a staged row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.legacy_import.dry_run import breakdown
from app.legacy_import.masking import mask_email
from app.legacy_import.models import COMMIT_LOGS, LegacyImportRun
from app.legacy_import.phases import STUDENTS, TRAININGS

BREAKDOWN_COLUMNS = {
    "classification": STUDENTS.c.classification,
    "validation_state": STUDENTS.c.validation_state,
    "import_action": STUDENTS.c.import_action,
    "session_type": TRAININGS.c.session_type,
}


def run_summary(run: LegacyImportRun) -> dict[str, Any]:
    total = run.rows_total or 0
    return {
        "run_id": run.id,
        "label": run.label,
        "connection": run.connection_name,
        "status": run.status,
        "step": run.current_step,
        "progress": {
            "rows_done": run.rows_done,
            "rows_total": total,
            "percent": round(100 * run.rows_done / total, 1) if total else 0.0,
        },
        "counters": run.counters(),
        "failure_reason": run.failure_reason,
        "started_at": _iso(run.started_at),
        "finished_at": _iso(run.finished_at),
    }


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def run_breakdowns(session: Session, run_id: int) -> dict[str, dict[str, int]]:
    """Staged rows of the run counted by classification, validation state, import action
    (students) and session type (their trainings); one GROUP BY on the run's rows each."""
    return {name: breakdown(session, column, run_id) for name, column in BREAKDOWN_COLUMNS.items()}


@dataclass(frozen=True)
class RunsPage:
    runs: list[LegacyImportRun]
    older_than: int | None  # the `before` of the next page; None on the last page


def runs_page(session: Session, before: int | None, limit: int) -> RunsPage:
    """The newest runs (older than run `before` when given), keyset-paginated on the id."""
    query = select(LegacyImportRun).order_by(LegacyImportRun.id.desc()).limit(limit + 1)
    if before is not None:
        query = query.where(LegacyImportRun.id < before)
    runs = list(session.scalars(query))
    more = len(runs) > limit
    runs = runs[:limit]
    return RunsPage(runs, runs[-1].id if more and runs else None)


def initiators(session: Session, runs: list[LegacyImportRun]) -> dict[int, str]:
    """The masked e-mail of the staff member who started each run started from the web."""
    ids = {run.initiated_by_id for run in runs if run.initiated_by_id is not None}
    if not ids:
        return {}
    people = dict(session.execute(select(User.id, User.email).where(User.id.in_(ids))).tuples().all())
    return {
        run.id: mask_email(people.get(run.initiated_by_id)) or f"#{run.initiated_by_id}"
        for run in runs
        if run.initiated_by_id is not None
    }


@dataclass(frozen=True)
class CommitActivity:
    counts: list[tuple[str, str | None, int]]  # (action, entity type, count)
    latest: list[Any]  # rows: id, student_import_id, action, entity_type, entity_id, reason, ...


def commit_activity(session: Session, run_id: int, latest: int = 20) -> CommitActivity:
    """What the run's commit (and rollback) did so far, from its commit logs; never the entity
    snapshots, which hold personal data."""
    counts = session.execute(
        select(COMMIT_LOGS.c.action, COMMIT_LOGS.c.entity_type, func.count())
        .where(COMMIT_LOGS.c.import_run_id == run_id)
        .group_by(COMMIT_LOGS.c.action, COMMIT_LOGS.c.entity_type)
        .order_by(COMMIT_LOGS.c.action, COMMIT_LOGS.c.entity_type)
    ).tuples()
    lines = session.execute(
        select(
            COMMIT_LOGS.c.id,
            COMMIT_LOGS.c.student_import_id,
            COMMIT_LOGS.c.action,
            COMMIT_LOGS.c.entity_type,
            COMMIT_LOGS.c.entity_id,
            COMMIT_LOGS.c.reason,
            COMMIT_LOGS.c.created_at,
            COMMIT_LOGS.c.rolled_back_at,
        )
        .where(COMMIT_LOGS.c.import_run_id == run_id)
        .order_by(COMMIT_LOGS.c.id.desc())
        .limit(latest)
    ).all()
    return CommitActivity(list(counts), list(lines))
