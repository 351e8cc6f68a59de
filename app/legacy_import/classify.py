"""Classification of a run: each row's classification, the rule that decided it, its import action."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.legacy_import.bulk import update_rows
from app.legacy_import.phases import STUDENTS, TRAININGS, Phase, StepContext, finish_batch, student_batches
from app.legacy_import.references import RunReferences
from app.legacy_import.vocab import RunStatus

# What the rules read of a row, and the decision the row holds.
RULE_INPUTS = (STUDENTS.c.status_text, STUDENTS.c.legacy_formation_id, STUDENTS.c.legacy_session_id)
STORED = (STUDENTS.c.classification, STUDENTS.c.classification_rule, STUDENTS.c.import_action)
TRAINING_ACTION = TRAININGS.c.import_action.label("training_action")
ROW_COLUMNS = (*RULE_INPUTS, *STORED, TRAININGS.c.id.label("training_id"), TRAINING_ACTION)


def classification_phase() -> Phase:
    return Phase(
        name="classify",
        working=RunStatus.CLASSIFYING,
        done=RunStatus.CLASSIFIED,
        starts_from=frozenset({RunStatus.VALIDATED, RunStatus.CLASSIFIED, RunStatus.DRY_RUN_READY}),
        steps=(("classification", classify_rows),),
    )


def classify_rows(context: StepContext) -> None:
    """Apply the rules to every row; write only the rows and trainings whose decision differs
    from the one they hold (the import staged each row with the rules' decision).

    The rules are first applied once per distinct status, formation, session and stored
    decision of the run, which the database finds: when every one holds the rules' decision,
    as after an import, no row needs to be read or written (measured at 100k rows: the step
    takes 0.7-0.8 s, against 1.3-1.7 s row by row)."""
    references = RunReferences.load(context.session, context.run_id)
    if context.checkpoint == 0 and (checked := all_decided(context.session, context.run_id, references)):
        last_id, rows = checked
        finish_batch(context, last_id, rows)
        return
    for batch in student_batches(context, ROW_COLUMNS):
        students, trainings = [], []
        for row in batch:
            decision = references.classify(row.status_text, row.legacy_formation_id, row.legacy_session_id)
            decided = (decision.classification, decision.rule, decision.import_action)
            if decided != (row.classification, row.classification_rule, row.import_action):
                students.append(
                    {
                        "b_id": row.id,
                        "classification": decision.classification,
                        "classification_rule": decision.rule,
                        "import_action": decision.import_action,
                    }
                )
            if row.training_id is not None and row.training_action != decision.import_action:
                trainings.append({"b_id": row.training_id, "import_action": decision.import_action})
        update_rows(context.session, STUDENTS, students)
        update_rows(context.session, TRAININGS, trainings)
        finish_batch(context, batch[-1].id, len(batch))


def all_decided(session: Session, run_id: int, references: RunReferences) -> tuple[int, int] | None:
    """(last row id, rows) when every row and training of the run holds the rules' decision, else
    None: the rules applied once per distinct combination of what they read and what is stored."""
    compared = (*RULE_INPUTS, *STORED, TRAININGS.c.id.is_not(None).label("has_training"), TRAINING_ACTION)
    query = (
        select(*compared, func.count().label("rows"), func.max(STUDENTS.c.id).label("last_id"))
        .outerjoin(TRAININGS, TRAININGS.c.student_import_id == STUDENTS.c.id)
        .where(STUDENTS.c.import_run_id == run_id)
        .group_by(*compared)
    )
    last_id, rows = 0, 0
    for combination in session.execute(query):
        decision = references.classify(
            combination.status_text, combination.legacy_formation_id, combination.legacy_session_id
        )
        stored = (combination.classification, combination.classification_rule, combination.import_action)
        if stored != (decision.classification, decision.rule, decision.import_action):
            return None
        if combination.has_training and combination.training_action != decision.import_action:
            return None
        last_id, rows = max(last_id, combination.last_id), rows + combination.rows
    return (last_id, rows) if rows else None
