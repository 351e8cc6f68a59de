"""What a commit would do with one staged row. The dry run tallies these; the commit acts on them."""

from __future__ import annotations

from typing import NamedTuple

from app.legacy_import.vocab import Classification, ValidationState

COMPLETED = frozenset({Classification.COMPLETED, Classification.ARCHIVED_TRAINING})
REVIEWED_COURSE_DECISIONS = frozenset({"mapped", "legacy_only"})

CREATE_LEAD = "create_lead"
LINK_EXISTING = "link_existing"
LINK_IN_RUN = "link_in_run"
CREATE_COMPLETED_TRAINING = "create_completed_training"
DEFERRED = "deferred"
BLOCKED = "blocked"


class PlannedRow(NamedTuple):
    outcome: str
    reason: str


def plan_row(
    classification: str | None,
    validation_state: str,
    existing_match: bool,
    lead_planned_in_run: bool,
    course_decision: str | None,
) -> PlannedRow:
    """`existing_match`: a high hint points at a user or lead; `lead_planned_in_run`: an earlier
    row of the same person (same phone or e-mail in the run) already gets the lead."""
    blocked = _blocked(classification, validation_state)
    if blocked:
        return PlannedRow(BLOCKED, blocked)
    if classification == Classification.LEAD_ONLY:
        if existing_match:
            return PlannedRow(LINK_EXISTING, "high_confidence_match")
        if lead_planned_in_run:
            return PlannedRow(LINK_IN_RUN, "same_contact_in_run")
        return PlannedRow(CREATE_LEAD, "lead_only")
    if classification in COMPLETED:
        if course_decision not in REVIEWED_COURSE_DECISIONS:
            return PlannedRow(DEFERRED, "unmapped_formation")
        return PlannedRow(CREATE_COMPLETED_TRAINING, str(classification))
    if classification == Classification.REGISTERED:
        return PlannedRow(DEFERRED, "registered_deferred")
    return PlannedRow(BLOCKED, "review_queue")


def _blocked(classification: str | None, validation_state: str) -> str | None:
    if classification is None or validation_state == ValidationState.PENDING:
        return "not_validated_or_classified"
    if validation_state == ValidationState.FAILED:
        return "validation_failed"
    if validation_state == ValidationState.NEEDS_REVIEW:
        return "review_queue"
    return None
