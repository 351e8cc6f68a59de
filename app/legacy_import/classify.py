"""Classification of a run: each row's classification, the rule that decided it, its import action."""

from __future__ import annotations

from app.legacy_import.bulk import update_rows
from app.legacy_import.phases import STUDENTS, TRAININGS, Phase, StepContext, finish_batch, student_batches
from app.legacy_import.references import RunReferences
from app.legacy_import.vocab import RunStatus

ROW_COLUMNS = (
    STUDENTS.c.status_text,
    STUDENTS.c.legacy_formation_id,
    STUDENTS.c.legacy_session_id,
    STUDENTS.c.classification,
    STUDENTS.c.classification_rule,
    STUDENTS.c.import_action,
    TRAININGS.c.id.label("training_id"),
    TRAININGS.c.import_action.label("training_action"),
)


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
    from the one they hold (the import staged each row with the rules' decision)."""
    references = RunReferences.load(context.session, context.run_id)
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
