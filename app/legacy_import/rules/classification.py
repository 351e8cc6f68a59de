"""Classification of a staged row from its legacy status, and the import action it implies."""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

from app.legacy_import.normalize import fold_text
from app.legacy_import.vocab import Classification, ImportAction, SessionType

# Folded status text (accents, case and spacing removed; '-' and '_' read as spaces) -> rule.
STATUS_RULES: dict[str, tuple[Classification, str]] = {
    "formee": (Classification.COMPLETED, "status_formee"),
    "forme": (Classification.COMPLETED, "status_formee"),
    "archive": (Classification.ARCHIVED_TRAINING, "status_archive"),
    "archivee": (Classification.ARCHIVED_TRAINING, "status_archive"),
    "informer": (Classification.LEAD_ONLY, "status_informer"),
    "ne repond pas": (Classification.LEAD_ONLY, "status_ne_repond_pas"),
    "confirmer": (Classification.REGISTERED, "status_confirmer"),
    "nouveau": (Classification.LEAD_ONLY, "status_nouveau"),
}
REPORTER = "reporter"
NEEDS_FORMATION = frozenset({Classification.COMPLETED, Classification.ARCHIVED_TRAINING})

IMPORT_ACTIONS = {
    Classification.COMPLETED: ImportAction.CREATE_LEGACY_COMPLETED_TRAINING,
    Classification.ARCHIVED_TRAINING: ImportAction.CREATE_LEGACY_COMPLETED_TRAINING,
    Classification.LEAD_ONLY: ImportAction.CREATE_COURSE_INTEREST,
    Classification.REGISTERED: ImportAction.CREATE_LEGACY_ENROLLMENT,
    Classification.UNKNOWN: ImportAction.NEEDS_REVIEW,
    Classification.NEEDS_REVIEW: ImportAction.NEEDS_REVIEW,
}


class ClassificationDecision(NamedTuple):
    classification: Classification
    rule: str

    @property
    def import_action(self) -> ImportAction:
        return IMPORT_ACTIONS[self.classification]


def status_key(status: object) -> str:
    return " ".join(fold_text(status).replace("-", " ").replace("_", " ").split())


@lru_cache(maxsize=4096)  # few distinct (status, session type, formation) triples in a run
def classify(status: object, session_type: SessionType, has_formation: bool) -> ClassificationDecision:
    """Decide a row's classification from its legacy status (mojibake already repaired or not),
    the type of its training's session, and whether it references any formation."""
    key = status_key(status)
    if key == REPORTER:
        if session_type is SessionType.REAL_SESSION:
            return ClassificationDecision(Classification.REGISTERED, "status_reporter_real_session")
        return ClassificationDecision(Classification.LEAD_ONLY, "status_reporter_no_real_session")
    if key not in STATUS_RULES:
        rule = "status_unrecognized" if key else "status_empty"
        return ClassificationDecision(Classification.UNKNOWN, rule)
    classification, rule = STATUS_RULES[key]
    if classification in NEEDS_FORMATION and not has_formation:
        return ClassificationDecision(Classification.NEEDS_REVIEW, f"{rule}_without_formation")
    return ClassificationDecision(classification, rule)
