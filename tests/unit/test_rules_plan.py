"""What a commit would do with one staged row (SPEC.md, "Rules" / Dry run and Commit slice)."""

from __future__ import annotations

from itertools import product

import pytest

from app.legacy_import.rules.plan import (
    BLOCKED,
    CREATE_COMPLETED_TRAINING,
    CREATE_LEAD,
    DEFERRED,
    LINK_EXISTING,
    LINK_IN_RUN,
    PlannedRow,
    plan_row,
)
from app.legacy_import.vocab import Classification, ValidationState

C = Classification
V = ValidationState
OUTCOMES = {CREATE_LEAD, LINK_EXISTING, LINK_IN_RUN, CREATE_COMPLETED_TRAINING, DEFERRED, BLOCKED}
COURSE_DECISIONS = [None, "mapped", "legacy_only", "pending", "ignored", ""]

# (classification, validation state, existing match, lead planned in run, course decision) -> plan
CASES: list[tuple[str | None, str, bool, bool, str | None, PlannedRow]] = [
    # not yet validated / classified
    (None, V.VALID, False, False, None, PlannedRow(BLOCKED, "not_validated_or_classified")),
    (None, V.PENDING, False, False, None, PlannedRow(BLOCKED, "not_validated_or_classified")),
    (None, V.DUPLICATE, True, False, None, PlannedRow(BLOCKED, "not_validated_or_classified")),
    (C.LEAD_ONLY, V.PENDING, False, False, None, PlannedRow(BLOCKED, "not_validated_or_classified")),
    (C.COMPLETED, V.PENDING, False, False, "mapped", PlannedRow(BLOCKED, "not_validated_or_classified")),
    # failed
    (C.LEAD_ONLY, V.FAILED, False, False, None, PlannedRow(BLOCKED, "validation_failed")),
    (C.LEAD_ONLY, V.FAILED, True, True, None, PlannedRow(BLOCKED, "validation_failed")),
    (C.COMPLETED, V.FAILED, False, False, "mapped", PlannedRow(BLOCKED, "validation_failed")),
    (C.REGISTERED, V.FAILED, False, False, None, PlannedRow(BLOCKED, "validation_failed")),
    # in review
    (C.LEAD_ONLY, V.NEEDS_REVIEW, False, False, None, PlannedRow(BLOCKED, "review_queue")),
    (C.LEAD_ONLY, V.NEEDS_REVIEW, True, False, None, PlannedRow(BLOCKED, "review_queue")),
    (C.ARCHIVED_TRAINING, V.NEEDS_REVIEW, False, False, "mapped", PlannedRow(BLOCKED, "review_queue")),
    (C.REGISTERED, V.NEEDS_REVIEW, False, False, None, PlannedRow(BLOCKED, "review_queue")),
    (C.UNKNOWN, V.NEEDS_REVIEW, False, False, None, PlannedRow(BLOCKED, "review_queue")),
    # lead_only
    (C.LEAD_ONLY, V.VALID, False, False, None, PlannedRow(CREATE_LEAD, "lead_only")),
    (C.LEAD_ONLY, V.VALID, False, False, "mapped", PlannedRow(CREATE_LEAD, "lead_only")),
    (C.LEAD_ONLY, V.VALID, False, True, None, PlannedRow(LINK_IN_RUN, "same_contact_in_run")),
    (C.LEAD_ONLY, V.VALID, True, False, None, PlannedRow(LINK_EXISTING, "high_confidence_match")),
    (C.LEAD_ONLY, V.DUPLICATE, True, False, None, PlannedRow(LINK_EXISTING, "high_confidence_match")),
    (C.LEAD_ONLY, V.DUPLICATE, True, True, None, PlannedRow(LINK_EXISTING, "high_confidence_match")),
    # completed / archived
    (C.COMPLETED, V.VALID, False, False, None, PlannedRow(DEFERRED, "unmapped_formation")),
    (C.COMPLETED, V.VALID, False, False, "pending", PlannedRow(DEFERRED, "unmapped_formation")),
    (C.COMPLETED, V.VALID, False, False, "ignored", PlannedRow(DEFERRED, "unmapped_formation")),
    (C.ARCHIVED_TRAINING, V.VALID, False, False, None, PlannedRow(DEFERRED, "unmapped_formation")),
    (C.COMPLETED, V.VALID, False, False, "mapped", PlannedRow(CREATE_COMPLETED_TRAINING, "completed")),
    (C.COMPLETED, V.VALID, False, False, "legacy_only", PlannedRow(CREATE_COMPLETED_TRAINING, "completed")),
    (
        C.ARCHIVED_TRAINING, V.VALID, False, False, "mapped",
        PlannedRow(CREATE_COMPLETED_TRAINING, "archived_training"),
    ),
    (
        C.ARCHIVED_TRAINING, V.VALID, False, False, "legacy_only",
        PlannedRow(CREATE_COMPLETED_TRAINING, "archived_training"),
    ),
    (C.COMPLETED, V.DUPLICATE, True, True, "mapped", PlannedRow(CREATE_COMPLETED_TRAINING, "completed")),
    (C.COMPLETED, V.DUPLICATE, True, False, None, PlannedRow(DEFERRED, "unmapped_formation")),
    # registered
    (C.REGISTERED, V.VALID, False, False, None, PlannedRow(DEFERRED, "registered_deferred")),
    (C.REGISTERED, V.VALID, True, True, "mapped", PlannedRow(DEFERRED, "registered_deferred")),
    (C.REGISTERED, V.DUPLICATE, True, False, None, PlannedRow(DEFERRED, "registered_deferred")),
    # unknown / needs_review classifications outside the review state
    (C.UNKNOWN, V.VALID, False, False, None, PlannedRow(BLOCKED, "review_queue")),
    (C.UNKNOWN, V.DUPLICATE, True, False, None, PlannedRow(BLOCKED, "review_queue")),
    (C.NEEDS_REVIEW, V.VALID, False, False, "mapped", PlannedRow(BLOCKED, "review_queue")),
    (C.NEEDS_REVIEW, V.DUPLICATE, True, False, None, PlannedRow(BLOCKED, "review_queue")),
]  # fmt: skip


def _case_id(case: tuple[object, ...]) -> str:
    classification, state, existing, in_run, course, _ = case
    match = "existing" if existing else "new"
    person = "inrun" if in_run else "first"
    return f"{classification}-{state}-{match}-{person}-{course}"


@pytest.mark.parametrize("case", CASES, ids=[_case_id(case) for case in CASES])
@pytest.mark.parametrize("as_text", [False, True], ids=["enum", "db-text"])
def test_plan_row(case: tuple[str | None, str, bool, bool, str | None, PlannedRow], as_text: bool) -> None:
    """Every branch, with vocabulary members and with the plain strings read back from the database."""
    classification, state, existing, in_run, course, expected = case
    if as_text:
        classification = None if classification is None else str(classification)
        state = str(state)
    planned = plan_row(classification, state, existing, in_run, course)
    assert planned == expected
    assert type(planned.reason) is str


def test_plan_row_is_total_and_consistent() -> None:
    """Every combination of the vocabularies: a known outcome with a reason, and the spec's invariants."""
    for classification, state, existing, in_run, course in product(
        [None, *Classification], ValidationState, (False, True), (False, True), COURSE_DECISIONS
    ):
        outcome, reason = plan_row(classification, state, existing, in_run, course)
        context = (classification, state, existing, in_run, course)
        assert outcome in OUTCOMES, context
        assert reason, context
        if state in (V.PENDING, V.FAILED, V.NEEDS_REVIEW) or classification is None:
            assert outcome == BLOCKED, context
        if outcome in (CREATE_LEAD, LINK_EXISTING, LINK_IN_RUN):
            assert classification is C.LEAD_ONLY, context
        if outcome == CREATE_COMPLETED_TRAINING:
            assert classification in (C.COMPLETED, C.ARCHIVED_TRAINING), context
            assert course in ("mapped", "legacy_only"), context
        if classification is C.REGISTERED and outcome != BLOCKED:
            assert outcome == DEFERRED, context
        if classification in (C.UNKNOWN, C.NEEDS_REVIEW):
            assert outcome == BLOCKED, context
        if outcome == CREATE_LEAD:
            assert not existing and not in_run, context
