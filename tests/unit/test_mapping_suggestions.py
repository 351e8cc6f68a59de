"""Course suggestions: the fuzzy score of a legacy formation name against current course names."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.legacy_import.mapping import (
    SUGGESTION_CUTOFF,
    Suggestion,
    best_match,
    cohort_allowed,
    confidence,
    name_score,
    name_words,
    suggest,
)
from app.legacy_import.vocab import SessionType

COURSES = [
    (1, "Développement web"),
    (2, "Développement mobile"),
    (3, "Comptabilité et finance"),
    (4, "Anglais"),
    (5, "Infographie"),
    (6, "Secrétariat médical"),
]


def catalog(courses: list[tuple[int, str]] = COURSES) -> list[tuple[int, tuple[str, ...]]]:
    return [(course_id, name_words(name)) for course_id, name in courses]


@pytest.mark.parametrize(
    ("legacy", "course"),
    [
        ("Développement Web", "Développement web"),
        ("DÃ©veloppement Web", "Développement web"),  # mojibake, as a latin1 connection stored it
        ("DEVELOPPEMENT  WEB", "développement web"),  # case, accents, spaces
        ("Web développement", "Développement web"),  # word order
        ("Développement-Web.", "Développement web"),  # punctuation
        ("Comptabilité & Finance", "Comptabilité et finance"),  # stop words and symbols
    ],
)
def test_the_same_name_written_differently_scores_100(legacy: str, course: str) -> None:
    assert name_score(legacy, course) == 100


@pytest.mark.parametrize(
    ("legacy", "course", "low", "high"),
    [
        ("Developement web", "Développement web", 90, 100),  # a typo
        ("Infografie", "Infographie", 80, 95),
        ("Développement Web - cours du soir", "Développement web", 60, 90),  # a variant
        ("Langue Anglaise", "Anglais", 60, 70),
        ("Développement Web", "Développement mobile", 60, 70),  # one shared word only
        ("Bureautique", "Marketing digital", 0, 30),
        ("Réseaux informatiques", "Secrétariat médical", 0, 40),
    ],
)
def test_scores_of_near_and_far_names(legacy: str, course: str, low: float, high: float) -> None:
    assert low <= name_score(legacy, course) <= high


def test_a_variant_scores_its_course_above_a_course_sharing_only_its_first_word() -> None:
    variant = "Développement Web - cours du soir"
    assert name_score(variant, "Développement web") > name_score(variant, "Développement mobile") + 10


def test_suggest_picks_the_closest_course() -> None:
    courses = catalog()
    assert suggest("DÃ©veloppement Web", courses) == Suggestion(1, 100.0)
    assert suggest("Développement mobile (Android)", courses) == Suggestion(2, pytest.approx(83.3, abs=5))
    assert suggest("Compta et finances", courses).course_id == 3  # type: ignore[union-attr]
    assert suggest("Secretariat medical", courses).course_id == 6  # type: ignore[union-attr]


def test_nothing_is_suggested_under_the_cutoff_but_the_best_score_is_known() -> None:
    courses = catalog()
    assert suggest("Hygiène, sécurité et environnement (HSE)", courses) is None
    best = best_match("Hygiène, sécurité et environnement (HSE)", courses)
    assert best is not None and best.score < SUGGESTION_CUTOFF
    assert suggest("Anything", []) is None and best_match("Anything", []) is None


def test_empty_names_never_match() -> None:
    assert name_score("", "Développement web") == 0
    assert name_score(None, None) == 0
    assert suggest(None, catalog()) is None


def test_ties_go_to_the_lower_course_id() -> None:
    courses = catalog([(9, "Infographie"), (4, "infographie"), (7, "INFOGRAPHIE")])
    assert suggest("Infographie", courses) == Suggestion(4, 100.0)


def test_confidence_bands() -> None:
    assert [confidence(s) for s in (None, 100, 90, 89.9, 70, 69.9, 60)] == [
        None,
        "high",
        "high",
        "medium",
        "medium",
        "low",
        "low",
    ]


def test_stop_words_are_dropped_unless_they_are_the_whole_name() -> None:
    assert name_words("Gestion des ressources humaines") == ("gestion", "ressources", "humaines")
    assert name_words("De la") == ("de", "la")


@given(st.text(max_size=40), st.text(max_size=40))
def test_the_score_is_symmetric_and_bounded(first: str, second: str) -> None:
    score = name_score(first, second)
    assert 0 <= score <= 100
    assert score == name_score(second, first)


@given(st.text(min_size=1, max_size=40))
def test_a_name_scores_100_against_itself_when_it_has_words(name: str) -> None:
    if name_words(name):
        assert name_score(name, name) == 100


def test_only_a_real_session_may_become_a_cohort() -> None:
    assert cohort_allowed(SessionType.REAL_SESSION)
    assert cohort_allowed("real_session")
    for other in ("waiting_session", "placeholder_session", "unknown", None, ""):
        assert not cohort_allowed(other)
