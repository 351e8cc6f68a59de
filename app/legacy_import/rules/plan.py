"""What a commit would do with one staged row. The dry run tallies these; the commit acts on them."""

from __future__ import annotations

from typing import NamedTuple

from app.legacy_import.vocab import Classification, DuplicateConfidence, ValidationState

COMPLETED = frozenset({Classification.COMPLETED, Classification.ARCHIVED_TRAINING})
REVIEWED_COURSE_DECISIONS = frozenset({"mapped", "legacy_only"})

CREATE_LEAD = "create_lead"
LINK_EXISTING = "link_existing"
LINK_IN_RUN = "link_in_run"
CREATE_COMPLETED_TRAINING = "create_completed_training"
DEFERRED = "deferred"
BLOCKED = "blocked"

# A reviewer's decision on a row (`review_decision`) and on a duplicate hint (`decision`).
APPROVED = "approved"
SKIPPED = "skipped"
CONFIRMED = "confirmed"
REJECTED = "rejected"


class PlannedRow(NamedTuple):
    outcome: str
    reason: str


def plan_row(
    classification: str | None,
    validation_state: str,
    existing_match: bool,
    lead_planned_in_run: bool,
    course_decision: str | None,
    review_decision: str | None = None,
    classification_override: str | None = None,
) -> PlannedRow:
    """`existing_match`: a hint that ties the row to a user or lead (see `hint_links`);
    `lead_planned_in_run`: an earlier row of the same person already gets the lead.
    `review_decision`: "approved" lets a row in review go on, "skipped" keeps it out;
    `classification_override`, a reviewer's classification, replaces the rules' one."""
    classification = classification_override or classification
    blocked = _blocked(classification, validation_state, review_decision)
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


def _blocked(classification: str | None, validation_state: str, review_decision: str | None) -> str | None:
    if classification is None or validation_state == ValidationState.PENDING:
        return "not_validated_or_classified"
    if review_decision == SKIPPED:
        return "skipped_by_reviewer"
    if validation_state == ValidationState.FAILED:
        return "validation_failed"
    if validation_state == ValidationState.NEEDS_REVIEW and review_decision != APPROVED:
        return "review_queue"
    return None


def hint_links(confidence: str, decision: str | None) -> bool:
    """Whether a duplicate hint ties its row to its target (the same person): a reviewer's
    decision when there is one, otherwise only a high-confidence hint does."""
    if decision == CONFIRMED:
        return True
    if decision == REJECTED:
        return False
    return confidence == DuplicateConfidence.HIGH
