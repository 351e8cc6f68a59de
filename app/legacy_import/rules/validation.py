"""Validation state of a staged row: separate from its classification, never dropping it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from app.legacy_import.vocab import Classification, ValidationState

REVIEW_CLASSIFICATIONS = frozenset({Classification.UNKNOWN, Classification.NEEDS_REVIEW})


@dataclass(frozen=True)
class RowFacts:
    """What validation looks at, gathered from the staged row, its training and its hints."""

    has_legacy_id: bool
    has_name: bool
    phone_usable: bool
    email_usable: bool
    classification: Classification
    existing_match: str | None = None  # "user" or "crm_lead" when a high hint points there
    medium_hint: bool = False
    dangling_formation: bool = False
    dangling_session: bool = False


class ValidationDecision(NamedTuple):
    state: ValidationState
    reasons: tuple[str, ...]


def validate(facts: RowFacts) -> ValidationDecision:
    failed = _failure_reasons(facts)
    if failed:
        return ValidationDecision(ValidationState.FAILED, failed)
    if facts.existing_match:
        return ValidationDecision(ValidationState.DUPLICATE, (f"matches_existing_{facts.existing_match}",))
    review = _review_reasons(facts)
    if review:
        return ValidationDecision(ValidationState.NEEDS_REVIEW, review)
    return ValidationDecision(ValidationState.VALID, ())


def _failure_reasons(facts: RowFacts) -> tuple[str, ...]:
    if not facts.has_legacy_id:
        return ("no_legacy_id",)
    if not (facts.has_name or facts.phone_usable or facts.email_usable):
        return ("no_name_phone_or_email",)
    return ()


def _review_reasons(facts: RowFacts) -> tuple[str, ...]:
    checks = (
        (facts.classification in REVIEW_CLASSIFICATIONS, f"classification_{facts.classification}"),
        (facts.medium_hint, "medium_duplicate_hint"),
        (not (facts.phone_usable or facts.email_usable), "no_usable_phone_or_email"),
        (facts.dangling_formation, "dangling_formation"),
        (facts.dangling_session, "dangling_session"),
    )
    return tuple(reason for failed, reason in checks if failed)
