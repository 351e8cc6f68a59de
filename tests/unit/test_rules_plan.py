"""What a commit would do with one staged row (SPEC.md, "Rules" / Dry run and Commit slice)."""

from __future__ import annotations

from itertools import product

import pytest

from app.legacy_import.rules.plan import (
    APPROVED,
    BLOCKED,
    CONFIRMED,
    CREATE_COMPLETED_TRAINING,
    CREATE_LEAD,
    DEFERRED,
    LINK_EXISTING,
    LINK_IN_RUN,
    REJECTED,
    SKIPPED,
    PlannedRow,
    hint_links,
    plan_row,
)
from app.legacy_import.vocab import Classification, DuplicateConfidence, ValidationState

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


# -- reviewer decisions -----------------------------------------------------------------------------

REVIEW_DECISIONS = [None, APPROVED, SKIPPED, "something_else"]

# (classification, state, existing, in run, course, review decision, override) -> plan
P, OK, SK, ELSE, T, F = PlannedRow, APPROVED, SKIPPED, "something_else", True, False
CREATE_COMPLETED = CREATE_COMPLETED_TRAINING
REVIEWED: list[tuple[str | None, str, bool, bool, str | None, str | None, str | None, PlannedRow]] = [
    # an approved row in review goes on to its classification's outcome
    (C.LEAD_ONLY, V.NEEDS_REVIEW, F, F, None, OK, None, P(CREATE_LEAD, "lead_only")),
    (C.LEAD_ONLY, V.NEEDS_REVIEW, F, T, None, OK, None, P(LINK_IN_RUN, "same_contact_in_run")),
    (C.LEAD_ONLY, V.NEEDS_REVIEW, T, F, None, OK, None, P(LINK_EXISTING, "high_confidence_match")),
    (C.COMPLETED, V.NEEDS_REVIEW, F, F, "mapped", OK, None, P(CREATE_COMPLETED_TRAINING, "completed")),
    (C.ARCHIVED_TRAINING, V.NEEDS_REVIEW, F, F, None, OK, None, P(DEFERRED, "unmapped_formation")),
    (C.REGISTERED, V.NEEDS_REVIEW, F, F, None, OK, None, P(DEFERRED, "registered_deferred")),
    (C.LEAD_ONLY, V.DUPLICATE, T, F, None, OK, None, P(LINK_EXISTING, "high_confidence_match")),
    (C.LEAD_ONLY, V.VALID, F, F, None, OK, None, P(CREATE_LEAD, "lead_only")),
    # approving alone does not resolve an unknown classification
    (C.UNKNOWN, V.NEEDS_REVIEW, F, F, None, OK, None, P(BLOCKED, "review_queue")),
    (C.NEEDS_REVIEW, V.NEEDS_REVIEW, F, F, "mapped", OK, None, P(BLOCKED, "review_queue")),
    # an unknown decision is no decision
    (C.LEAD_ONLY, V.NEEDS_REVIEW, F, F, None, ELSE, None, P(BLOCKED, "review_queue")),
    # a classification override is the classification
    (C.UNKNOWN, V.NEEDS_REVIEW, F, F, None, OK, C.LEAD_ONLY, P(CREATE_LEAD, "lead_only")),
    (C.UNKNOWN, V.NEEDS_REVIEW, F, F, None, None, C.LEAD_ONLY, P(BLOCKED, "review_queue")),
    (C.NEEDS_REVIEW, V.NEEDS_REVIEW, F, F, "mapped", OK, C.COMPLETED, P(CREATE_COMPLETED, "completed")),
    (C.COMPLETED, V.VALID, F, F, "mapped", None, C.LEAD_ONLY, P(CREATE_LEAD, "lead_only")),
    (C.LEAD_ONLY, V.VALID, T, F, None, OK, C.REGISTERED, P(DEFERRED, "registered_deferred")),
    (C.LEAD_ONLY, V.DUPLICATE, T, F, None, OK, C.ARCHIVED_TRAINING, P(DEFERRED, "unmapped_formation")),
    # a skipped row is blocked for that reason, whatever else holds
    (C.LEAD_ONLY, V.NEEDS_REVIEW, F, F, None, SK, None, P(BLOCKED, "skipped_by_reviewer")),
    (C.LEAD_ONLY, V.VALID, F, F, None, SK, None, P(BLOCKED, "skipped_by_reviewer")),
    (C.LEAD_ONLY, V.DUPLICATE, T, T, None, SK, None, P(BLOCKED, "skipped_by_reviewer")),
    (C.COMPLETED, V.VALID, F, F, "mapped", SK, C.LEAD_ONLY, P(BLOCKED, "skipped_by_reviewer")),
    (C.LEAD_ONLY, V.FAILED, F, F, None, SK, None, P(BLOCKED, "skipped_by_reviewer")),
    # approval never unblocks a failed or unvalidated row
    (C.LEAD_ONLY, V.FAILED, F, F, None, OK, None, P(BLOCKED, "validation_failed")),
    (C.LEAD_ONLY, V.PENDING, F, F, None, OK, None, P(BLOCKED, "not_validated_or_classified")),
    (None, V.PENDING, F, F, None, SK, None, P(BLOCKED, "not_validated_or_classified")),
]  # fmt: skip


@pytest.mark.parametrize("case", REVIEWED, ids=[f"{c[0]}-{c[1]}-{c[5]}-{c[6]}" for c in REVIEWED])
def test_plan_row_honours_reviewer_decisions(
    case: tuple[str | None, str, bool, bool, str | None, str | None, str | None, PlannedRow],
) -> None:
    classification, state, existing, in_run, course, decision, override, expected = case
    assert plan_row(classification, state, existing, in_run, course, decision, override) == expected
    as_text = plan_row(
        None if classification is None else str(classification),
        str(state),
        existing,
        in_run,
        course,
        decision,
        None if override is None else str(override),
    )
    assert as_text == expected


def test_plan_row_with_reviewer_decisions_is_total_and_consistent() -> None:
    for classification, state, existing, in_run, course, decision, override in product(
        [None, *Classification],
        ValidationState,
        (False, True),
        (False, True),
        COURSE_DECISIONS,
        REVIEW_DECISIONS,
        [None, *Classification],
    ):
        outcome, reason = plan_row(classification, state, existing, in_run, course, decision, override)
        effective = override or classification
        context = (classification, state, existing, in_run, course, decision, override)
        assert outcome in OUTCOMES and reason, context
        if decision is None and override is None:
            assert (outcome, reason) == plan_row(classification, state, existing, in_run, course), context
        if effective is None or state == V.PENDING:
            assert reason == "not_validated_or_classified", context
        elif decision == SKIPPED:
            assert (outcome, reason) == (BLOCKED, "skipped_by_reviewer"), context
        elif state == V.FAILED or (state == V.NEEDS_REVIEW and decision != APPROVED):
            assert outcome == BLOCKED, context
        if outcome in (CREATE_LEAD, LINK_EXISTING, LINK_IN_RUN):
            assert effective is C.LEAD_ONLY, context
        if outcome == CREATE_COMPLETED_TRAINING:
            assert effective in (C.COMPLETED, C.ARCHIVED_TRAINING), context
        if effective in (C.UNKNOWN, C.NEEDS_REVIEW):
            assert outcome == BLOCKED, context
        if state == V.NEEDS_REVIEW and decision == APPROVED and effective is C.LEAD_ONLY:
            assert outcome in (CREATE_LEAD, LINK_EXISTING, LINK_IN_RUN), context


@pytest.mark.parametrize(
    ("confidence", "decision", "links"),
    [
        (DuplicateConfidence.HIGH, None, True),
        (DuplicateConfidence.HIGH, CONFIRMED, True),
        (DuplicateConfidence.HIGH, REJECTED, False),
        (DuplicateConfidence.MEDIUM, None, False),
        (DuplicateConfidence.MEDIUM, CONFIRMED, True),
        (DuplicateConfidence.MEDIUM, REJECTED, False),
        (DuplicateConfidence.LOW, None, False),
        (DuplicateConfidence.LOW, CONFIRMED, True),
        ("high", None, True),
        ("high", "rejected", False),
        ("low", "something_else", False),
    ],
)
def test_hint_links(confidence: str, decision: str | None, links: bool) -> None:
    """A reviewer's decision on a hint wins; without one, only a high hint ties a row to a person."""
    assert hint_links(confidence, decision) is links
