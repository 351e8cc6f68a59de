"""The dry run: what a commit would do with a run, written nowhere but on the run itself."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.legacy_import.models import LegacyImportRun
from app.legacy_import.phases import STUDENTS, TRAININGS, Phase, StepContext, student_batches
from app.legacy_import.planning import ROW_COLUMNS, Planner
from app.legacy_import.rules import plan
from app.legacy_import.vocab import RunStatus
from app.models_base import utcnow


def dry_run_phase() -> Phase:
    return Phase(
        name="dry-run",
        working=RunStatus.CLASSIFIED,
        done=RunStatus.DRY_RUN_READY,
        starts_from=frozenset({RunStatus.CLASSIFIED, RunStatus.DRY_RUN_READY}),
        steps=(("dry_run", store_report),),
    )


def store_report(context: StepContext) -> None:
    report = build_report(context)
    run = context.session.get(LegacyImportRun, context.run_id)
    assert run is not None
    run.dry_run_report = report
    context.session.commit()


def build_report(context: StepContext) -> dict[str, Any]:
    session, run_id = context.session, context.run_id
    outcomes = tally_plans(context)
    return {
        "run_id": run_id,
        "generated_at": utcnow().isoformat(),
        "rows": sum(outcomes.values()),
        "by_classification": breakdown(session, STUDENTS.c.classification, run_id),
        "by_validation_state": breakdown(session, STUDENTS.c.validation_state, run_id),
        "by_import_action": breakdown(session, STUDENTS.c.import_action, run_id),
        "by_session_type": breakdown(session, TRAININGS.c.session_type, run_id),
        "leads": {
            "create": outcomes.get((plan.CREATE_LEAD, "lead_only"), 0),
            "link_existing": outcomes.get((plan.LINK_EXISTING, "high_confidence_match"), 0),
            "link_in_run": outcomes.get((plan.LINK_IN_RUN, "same_contact_in_run"), 0),
        },
        "completed_trainings": {
            "create": sum(n for (kind, _), n in outcomes.items() if kind == plan.CREATE_COMPLETED_TRAINING)
        },
        "deferred": reasons(outcomes, plan.DEFERRED),
        "blocked": reasons(outcomes, plan.BLOCKED),
        "review_decisions": review_decisions(session, run_id),
    }


def breakdown(session: Session, column: Any, run_id: int) -> dict[str, int]:
    query = select(column, func.count()).where(column.table.c.import_run_id == run_id).group_by(column)
    return {str(value): count for value, count in session.execute(query)}


def review_decisions(session: Session, run_id: int) -> dict[str, int]:
    """How many rows reviewers approved, skipped or reclassified: the plan above counts them."""
    decided = breakdown(session, STUDENTS.c.review_decision, run_id)
    overridden = select(func.count()).where(
        STUDENTS.c.import_run_id == run_id, STUDENTS.c.classification_override.is_not(None)
    )
    return {
        "approved": decided.get(plan.APPROVED, 0),
        "skipped": decided.get(plan.SKIPPED, 0),
        "reclassified": int(session.execute(overridden).scalar_one()),
    }


def reasons(outcomes: Counter[tuple[str, str]], outcome: str) -> dict[str, int]:
    return {reason: n for (kind, reason), n in sorted(outcomes.items()) if kind == outcome}


def tally_plans(context: StepContext) -> Counter[tuple[str, str]]:
    """Plan every row of the run, in id order, as the commit would."""
    planner = Planner.load(context.session, context.run_id)
    outcomes: Counter[tuple[str, str]] = Counter()
    whole_run = StepContext(context.session, context.run_id, 0, context.settings, None)
    for batch in student_batches(whole_run, ROW_COLUMNS, trainings=False):
        outcomes.update(row_plan.planned for row_plan in planner.plan(batch))
    return outcomes
