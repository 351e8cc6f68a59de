"""The dry run: what a commit would do with a run, written nowhere but on the run itself."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from app.legacy_import.models import LegacyCourseMapping, LegacyDuplicateHint, LegacyImportRun
from app.legacy_import.phases import STUDENTS, TRAININGS, Phase, StepContext, student_batches
from app.legacy_import.references import RunReferences
from app.legacy_import.rules import plan
from app.legacy_import.rules.duplicates import STAGED_ROW
from app.legacy_import.vocab import DuplicateConfidence, RunStatus
from app.models_base import utcnow

HINTS = LegacyDuplicateHint.__table__
ROW_COLUMNS = (
    STUDENTS.c.classification,
    STUDENTS.c.validation_state,
    STUDENTS.c.legacy_formation_id,
    STUDENTS.c.legacy_session_id,
    STUDENTS.c.review_decision,
    STUDENTS.c.classification_override,
)


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
    """Plan every row in id order, so that the first row of a person gets the lead and the
    later rows sharing its phone or e-mail link to it."""
    session, run_id = context.session, context.run_id
    course_decisions = dict(
        session.execute(
            select(LegacyCourseMapping.legacy_formation_id, LegacyCourseMapping.decision).where(
                LegacyCourseMapping.import_run_id == run_id
            )
        ).all()
    )
    references = RunReferences.load(session, run_id)
    outcomes: Counter[tuple[str, str]] = Counter()
    people_with_lead: set[int] = set()
    whole_run = StepContext(session, run_id, 0, context.settings, None)
    for batch in student_batches(whole_run, ROW_COLUMNS):
        existing, same_person = row_links(session, [row.id for row in batch])
        for row in batch:
            person = same_person.get(row.id, row.id)
            planned = plan.plan_row(
                row.classification,
                row.validation_state,
                row.id in existing,
                person in people_with_lead,
                course_decisions.get(references.formation_of(row.legacy_formation_id, row.legacy_session_id)),
                review_decision=row.review_decision,
                classification_override=row.classification_override,
            )
            if planned.outcome == plan.CREATE_LEAD:
                people_with_lead.add(person)
            outcomes[planned] += 1
    return outcomes


def row_links(session: Session, row_ids: list[int]) -> tuple[set[int], dict[int, int]]:
    """Rows tied to an existing user or lead, and each row's first row of the same person in the
    run: by high hints that no reviewer rejected, and by any hint a reviewer confirmed."""
    query = select(
        HINTS.c.student_import_id,
        HINTS.c.target_type,
        HINTS.c.target_id,
        HINTS.c.confidence,
        HINTS.c.decision,
    ).where(
        HINTS.c.student_import_id.in_(row_ids),
        or_(HINTS.c.confidence == DuplicateConfidence.HIGH, HINTS.c.decision == plan.CONFIRMED),
    )
    existing: set[int] = set()
    first_rows: dict[int, list[int]] = defaultdict(list)
    for row_id, target_type, target_id, confidence, decision in session.execute(query):
        if not plan.hint_links(confidence, decision):
            continue
        if target_type == STAGED_ROW:
            first_rows[row_id].append(target_id)
        else:
            existing.add(row_id)
    return existing, {row_id: min(targets) for row_id, targets in first_rows.items()}
