"""Classification and import action (SPEC.md, "Rules" / Classification, Import action;
seed-design.md, "Classification Rules")."""

from __future__ import annotations

import pytest

from app.legacy_import.rules.classification import (
    IMPORT_ACTIONS,
    ClassificationDecision,
    classify,
    status_key,
)
from app.legacy_import.vocab import Classification, ImportAction, SessionType

C = Classification
ALL_SESSION_TYPES = list(SessionType)
NOT_REAL_SESSION_TYPES = [t for t in SessionType if t is not SessionType.REAL_SESSION]

COMPLETED_STATUSES: list[object] = [
    "Formée",
    "formée",
    "FORMEE",
    "FORMÉE",
    "Formee",
    "Formé",
    "forme",
    " Formée ",
    "\tFormée\n",
    "FormÃ©e",  # UTF-8 read as latin1
    "FormÃƒÂ©e",  # ... twice
    "Forme\u0301e",  # decomposed accent
    b"Form\xc3\xa9e",  # UTF-8 bytes
    b"Form\xe9e",  # latin-1 bytes
]
ARCHIVED_STATUSES: list[object] = [
    "Archivé",
    "archivé",
    "Archivè",
    "ArchivÃ©",
    "ArchivÃ¨",
    "ARCHIVE",
    "ARCHIVÉ",
    "archive",
    "Archivée",
    " Archivé ",
]
# Statuses whose outcome depends neither on the session type nor on the formation reference.
FIXED_STATUSES: list[tuple[object, Classification, str]] = [
    *[(s, C.LEAD_ONLY, "status_informer") for s in ["Informer", "informer", "INFORMER", " Informer "]],
    *[
        (s, C.LEAD_ONLY, "status_ne_repond_pas")
        for s in [
            "Ne répond pas",
            "ne repond pas",
            "NE REPOND PAS",
            "NE RÉPOND PAS",
            "Ne-répond-pas",
            "Ne_répond_pas",
            "Ne  répond   pas",
            " ne répond pas ",
            "Ne rÃ©pond pas",
        ]
    ],
    *[(s, C.REGISTERED, "status_confirmer") for s in ["Confirmer", "confirmer", "CONFIRMER", " Confirmer "]],
    *[(s, C.LEAD_ONLY, "status_nouveau") for s in ["nouveau", "Nouveau", "NOUVEAU", " nouveau "]],
    *[(s, C.UNKNOWN, "status_empty") for s in [None, "", " ", "   ", "\t\n", "\u00a0", b"", "-", "_"]],
    *[
        (s, C.UNKNOWN, "status_unrecognized")
        for s in ["Annulé", "xxx", "?", "0", 42, "Form", "Formation", "Ne répond", "Informer Formée"]
    ],
]
REPORTER_STATUSES = ["Reporter", "reporter", "REPORTER", " Reporter ", "Repörter"]


def _status_id(status: object) -> str:
    return repr(status)


@pytest.mark.parametrize("status", COMPLETED_STATUSES, ids=_status_id)
@pytest.mark.parametrize("session_type", ALL_SESSION_TYPES)
def test_formee_is_completed(status: object, session_type: SessionType) -> None:
    decision = classify(status, session_type, has_formation=True)
    assert decision == ClassificationDecision(C.COMPLETED, "status_formee")
    assert decision.import_action is ImportAction.CREATE_LEGACY_COMPLETED_TRAINING


@pytest.mark.parametrize("status", ARCHIVED_STATUSES, ids=_status_id)
@pytest.mark.parametrize("session_type", ALL_SESSION_TYPES)
def test_archive_is_archived_training(status: object, session_type: SessionType) -> None:
    decision = classify(status, session_type, has_formation=True)
    assert decision == ClassificationDecision(C.ARCHIVED_TRAINING, "status_archive")
    assert decision.import_action is ImportAction.CREATE_LEGACY_COMPLETED_TRAINING


@pytest.mark.parametrize("status", [*COMPLETED_STATUSES, *ARCHIVED_STATUSES], ids=_status_id)
@pytest.mark.parametrize("session_type", ALL_SESSION_TYPES)
def test_completed_or_archived_without_formation_needs_review_never_lead_only(
    status: object, session_type: SessionType
) -> None:
    decision = classify(status, session_type, has_formation=False)
    assert decision.classification is C.NEEDS_REVIEW
    assert decision.classification is not C.LEAD_ONLY
    assert decision.rule.endswith("_without_formation")
    assert decision.rule in {"status_formee_without_formation", "status_archive_without_formation"}
    assert decision.import_action is ImportAction.NEEDS_REVIEW


@pytest.mark.parametrize(("status", "classification", "rule"), FIXED_STATUSES, ids=_status_id)
@pytest.mark.parametrize("session_type", ALL_SESSION_TYPES)
@pytest.mark.parametrize("has_formation", [True, False], ids=["formation", "no-formation"])
def test_status_decides_whatever_the_session_and_formation(
    status: object, classification: Classification, rule: str, session_type: SessionType, has_formation: bool
) -> None:
    assert classify(status, session_type, has_formation) == ClassificationDecision(classification, rule)


@pytest.mark.parametrize("status", REPORTER_STATUSES)
@pytest.mark.parametrize("has_formation", [True, False], ids=["formation", "no-formation"])
def test_reporter_on_real_session_is_registered(status: str, has_formation: bool) -> None:
    decision = classify(status, SessionType.REAL_SESSION, has_formation)
    assert decision == ClassificationDecision(C.REGISTERED, "status_reporter_real_session")
    assert decision.import_action is ImportAction.CREATE_LEGACY_ENROLLMENT


@pytest.mark.parametrize("status", REPORTER_STATUSES)
@pytest.mark.parametrize("session_type", NOT_REAL_SESSION_TYPES)
@pytest.mark.parametrize("has_formation", [True, False], ids=["formation", "no-formation"])
def test_reporter_without_real_session_is_lead_only(
    status: str, session_type: SessionType, has_formation: bool
) -> None:
    decision = classify(status, session_type, has_formation)
    assert decision == ClassificationDecision(C.LEAD_ONLY, "status_reporter_no_real_session")
    assert decision.import_action is ImportAction.CREATE_COURSE_INTEREST


def test_ne_repond_pas_is_lead_only_with_its_own_not_responding_rule() -> None:
    """The rule is the not-responding hint: it differs from the other lead_only rules."""
    ne_repond = classify("Ne répond pas", SessionType.REAL_SESSION, True)
    others = {classify(status, SessionType.REAL_SESSION, True).rule for status in ["Informer", "nouveau"]} | {
        classify("Reporter", SessionType.WAITING_SESSION, True).rule
    }
    assert ne_repond.classification is C.LEAD_ONLY
    assert ne_repond.rule not in others


@pytest.mark.parametrize(
    ("classification", "action"),
    [
        (C.COMPLETED, ImportAction.CREATE_LEGACY_COMPLETED_TRAINING),
        (C.ARCHIVED_TRAINING, ImportAction.CREATE_LEGACY_COMPLETED_TRAINING),
        (C.LEAD_ONLY, ImportAction.CREATE_COURSE_INTEREST),
        (C.REGISTERED, ImportAction.CREATE_LEGACY_ENROLLMENT),
        (C.UNKNOWN, ImportAction.NEEDS_REVIEW),
        (C.NEEDS_REVIEW, ImportAction.NEEDS_REVIEW),
    ],
)
def test_import_action_of_each_classification(classification: Classification, action: ImportAction) -> None:
    assert IMPORT_ACTIONS[classification] is action
    assert ClassificationDecision(classification, "any_rule").import_action is action


def test_every_classification_has_an_import_action() -> None:
    assert set(IMPORT_ACTIONS) == set(Classification)
    assert set(IMPORT_ACTIONS.values()) == set(ImportAction)


ALL_STATUSES = [
    *COMPLETED_STATUSES,
    *ARCHIVED_STATUSES,
    *REPORTER_STATUSES,
    *[status for status, _, _ in FIXED_STATUSES],
]


@pytest.mark.parametrize("status", ALL_STATUSES, ids=_status_id)
def test_every_decision_records_a_rule(status: object) -> None:
    for session_type in SessionType:
        for has_formation in (True, False):
            decision = classify(status, session_type, has_formation)
            assert isinstance(decision.rule, str)
            assert decision.rule.strip()
            assert decision.classification in Classification
            assert decision.import_action in ImportAction


@pytest.mark.parametrize(
    ("status", "key"),
    [
        ("Ne-répond-pas", "ne repond pas"),
        ("Ne_Répond_Pas", "ne repond pas"),
        ("  NE   REPOND  PAS ", "ne repond pas"),
        ("FormÃ©e", "formee"),
        ("Archivè", "archive"),
        (None, ""),
        ("", ""),
        ("-", ""),
    ],
)
def test_status_key(status: object, key: str) -> None:
    assert status_key(status) == key
