"""Which review-queue group counts a row adds to, and how a change of rows moves them."""

from __future__ import annotations

from collections import Counter

from app.legacy_import.queue_counts import count_change, queue_keys


def test_a_row_counts_once_in_the_group_of_each_of_its_reasons() -> None:
    reasons = ["classification_unknown", "no_usable_phone_or_email", "classification_unknown"]
    assert queue_keys("needs_review", reasons, pending=True) == [
        ("classification_unknown", "needs_review", True),
        ("no_usable_phone_or_email", "needs_review", True),
    ]


def test_a_row_without_a_reason_counts_under_its_state() -> None:
    assert queue_keys("duplicate", [], pending=False) == [("duplicate", "duplicate", False)]
    assert queue_keys("needs_review", None, pending=True) == [("needs_review", "needs_review", True)]


def test_rows_outside_the_queue_count_nowhere() -> None:
    for state in ("pending", "valid", "failed", None):
        assert queue_keys(state, ["no_name_phone_or_email"], pending=True) == []


def test_a_change_adds_what_came_takes_away_what_left_and_drops_what_stayed() -> None:
    unknown, duplicate = ("classification_unknown", "needs_review", True), ("duplicate", "duplicate", True)
    decided = ("classification_unknown", "needs_review", False)
    change = count_change(before=[unknown, unknown, duplicate], after=[decided, unknown, duplicate])
    assert change == Counter({unknown: -1, decided: 1})
    assert count_change([unknown], [unknown]) == Counter()
