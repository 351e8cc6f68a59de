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
    TRAININGS.c.id.label("training_id"),
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
    references = RunReferences.load(context.session, context.run_id)
    for batch in student_batches(context, ROW_COLUMNS):
        students, trainings = [], []
        for row in batch:
            decision = references.classify(row.status_text, row.legacy_formation_id, row.legacy_session_id)
            students.append(
                {
                    "b_id": row.id,
                    "classification": decision.classification,
                    "classification_rule": decision.rule,
                    "import_action": decision.import_action,
                }
            )
            if row.training_id is not None:
                trainings.append({"b_id": row.training_id, "import_action": decision.import_action})
        update_rows(context.session, STUDENTS, students)
        if trainings:
            update_rows(context.session, TRAININGS, trainings)
        finish_batch(context, batch[-1].id, len(batch))
