"""Validation state of a staged row (SPEC.md, "Rules" / Validation)."""

from __future__ import annotations

import dataclasses
from itertools import combinations, product
from typing import Any

import pytest

from app.legacy_import.rules.validation import RowFacts, ValidationDecision, validate
from app.legacy_import.vocab import Classification, ValidationState

C = Classification
V = ValidationState
GOOD_CLASSIFICATIONS = [C.COMPLETED, C.ARCHIVED_TRAINING, C.LEAD_ONLY, C.REGISTERED]
REVIEW_CLASSIFICATIONS = [C.UNKNOWN, C.NEEDS_REVIEW]


def facts(**changes: Any) -> RowFacts:
    """A row that validates: legacy id, name, phone and e-mail, a clear classification."""
    base = RowFacts(
        has_legacy_id=True,
        has_name=True,
        phone_usable=True,
        email_usable=True,
        classification=C.LEAD_ONLY,
    )
    return dataclasses.replace(base, **changes)


NO_CONTACT = {"has_name": False, "phone_usable": False, "email_usable": False}
ALL_REVIEW_TRIGGERS = {
    "classification": C.UNKNOWN,
    "medium_hint": True,
    "phone_usable": False,
    "email_usable": False,
    "dangling_formation": True,
    "dangling_session": True,
}


# -- failed ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({}, id="otherwise-perfect"),
        pytest.param({"existing_match": "user"}, id="with-duplicate"),
        pytest.param(ALL_REVIEW_TRIGGERS, id="with-review-reasons"),
        pytest.param({"classification": C.COMPLETED}, id="completed"),
    ],
)
def test_no_legacy_id_fails(changes: dict[str, Any]) -> None:
    assert validate(facts(has_legacy_id=False, **changes)) == ValidationDecision(V.FAILED, ("no_legacy_id",))


def test_no_legacy_id_and_no_contact_fails_with_the_legacy_id_reason() -> None:
    decision = validate(facts(has_legacy_id=False, **NO_CONTACT))
    assert decision.state is V.FAILED
    assert "no_legacy_id" in decision.reasons


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({}, id="alone"),
        pytest.param({"existing_match": "crm_lead"}, id="over-duplicate"),
        pytest.param({"classification": C.UNKNOWN, "medium_hint": True}, id="over-review"),
        pytest.param({"dangling_formation": True, "dangling_session": True}, id="over-dangling"),
    ],
)
def test_no_name_phone_or_email_fails(changes: dict[str, Any]) -> None:
    decision = validate(facts(**NO_CONTACT, **changes))
    assert decision == ValidationDecision(V.FAILED, ("no_name_phone_or_email",))


@pytest.mark.parametrize(
    ("has_name", "phone_usable", "email_usable"),
    [
        pytest.param(True, False, False, id="name-only"),
        pytest.param(False, True, False, id="phone-only"),
        pytest.param(False, False, True, id="email-only"),
    ],
)
def test_any_one_of_name_phone_email_avoids_failure(
    has_name: bool, phone_usable: bool, email_usable: bool
) -> None:
    decision = validate(facts(has_name=has_name, phone_usable=phone_usable, email_usable=email_usable))
    assert decision.state is not V.FAILED


# -- duplicate ---------------------------------------------------------------------------------


@pytest.mark.parametrize("target", ["user", "crm_lead"])
@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({}, id="alone"),
        pytest.param(ALL_REVIEW_TRIGGERS, id="over-every-review-reason"),
        pytest.param({"classification": C.NEEDS_REVIEW}, id="over-needs-review"),
        pytest.param({"has_name": False}, id="no-name-but-contact"),
    ],
)
def test_high_hint_to_user_or_lead_is_duplicate(target: str, changes: dict[str, Any]) -> None:
    decision = validate(facts(existing_match=target, **changes))
    assert decision == ValidationDecision(V.DUPLICATE, (f"matches_existing_{target}",))


# -- needs_review ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        pytest.param({"classification": C.UNKNOWN}, "classification_unknown", id="unknown"),
        pytest.param({"classification": C.NEEDS_REVIEW}, "classification_needs_review", id="needs-review"),
        pytest.param({"medium_hint": True}, "medium_duplicate_hint", id="medium-hint"),
        pytest.param(
            {"phone_usable": False, "email_usable": False}, "no_usable_phone_or_email", id="no-contact"
        ),
        pytest.param({"dangling_formation": True}, "dangling_formation", id="dangling-formation"),
        pytest.param({"dangling_session": True}, "dangling_session", id="dangling-session"),
    ],
)
def test_each_review_reason_alone(changes: dict[str, Any], reason: str) -> None:
    assert validate(facts(**changes)) == ValidationDecision(V.NEEDS_REVIEW, (reason,))


REVIEW_TRIGGERS: dict[str, tuple[dict[str, Any], str]] = {
    "classification": ({"classification": C.UNKNOWN}, "classification_unknown"),
    "medium": ({"medium_hint": True}, "medium_duplicate_hint"),
    "contact": ({"phone_usable": False, "email_usable": False}, "no_usable_phone_or_email"),
    "formation": ({"dangling_formation": True}, "dangling_formation"),
    "session": ({"dangling_session": True}, "dangling_session"),
}
TRIGGER_SETS = [
    combo for size in range(2, len(REVIEW_TRIGGERS) + 1) for combo in combinations(REVIEW_TRIGGERS, size)
]


@pytest.mark.parametrize("triggers", TRIGGER_SETS, ids="+".join)
def test_combined_review_reasons_are_all_listed(triggers: tuple[str, ...]) -> None:
    changes: dict[str, Any] = {}
    for name in triggers:
        changes.update(REVIEW_TRIGGERS[name][0])
    decision = validate(facts(**changes))
    assert decision.state is V.NEEDS_REVIEW
    assert set(decision.reasons) == {REVIEW_TRIGGERS[name][1] for name in triggers}
    assert len(decision.reasons) == len(set(decision.reasons))


def test_every_review_reason_in_a_stable_order() -> None:
    decision = validate(facts(**ALL_REVIEW_TRIGGERS))
    assert decision == ValidationDecision(
        V.NEEDS_REVIEW,
        (
            "classification_unknown",
            "medium_duplicate_hint",
            "no_usable_phone_or_email",
            "dangling_formation",
            "dangling_session",
        ),
    )


# -- valid -------------------------------------------------------------------------------------


@pytest.mark.parametrize("classification", GOOD_CLASSIFICATIONS)
@pytest.mark.parametrize(
    ("has_name", "phone_usable", "email_usable"),
    [
        (True, True, True),
        (True, True, False),
        (True, False, True),
        (False, True, False),
        (False, False, True),
    ],
)
def test_clean_row_is_valid_without_reasons(
    classification: Classification, has_name: bool, phone_usable: bool, email_usable: bool
) -> None:
    decision = validate(
        facts(
            classification=classification,
            has_name=has_name,
            phone_usable=phone_usable,
            email_usable=email_usable,
        )
    )
    assert decision == ValidationDecision(V.VALID, ())


# -- the whole table ---------------------------------------------------------------------------


def test_every_combination_follows_the_spec_precedence() -> None:
    """failed, else duplicate, else needs_review, else valid: all 2,304 combinations."""
    for flags in product((False, True), repeat=7):
        for classification in Classification:
            for existing_match in (None, "user", "crm_lead"):
                legacy_id, name, phone, email, medium, d_formation, d_session = flags
                row = RowFacts(
                    has_legacy_id=legacy_id,
                    has_name=name,
                    phone_usable=phone,
                    email_usable=email,
                    classification=classification,
                    existing_match=existing_match,
                    medium_hint=medium,
                    dangling_formation=d_formation,
                    dangling_session=d_session,
                )
                state, reasons = validate(row)
                if not legacy_id or not (name or phone or email):
                    expected = V.FAILED
                elif existing_match:
                    expected = V.DUPLICATE
                elif (
                    classification in REVIEW_CLASSIFICATIONS
                    or medium
                    or not (phone or email)
                    or d_formation
                    or d_session
                ):
                    expected = V.NEEDS_REVIEW
                else:
                    expected = V.VALID
                assert state is expected, row
                assert bool(reasons) is (expected is not V.VALID), row
                assert state is not V.PENDING
