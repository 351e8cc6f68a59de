"""Session rules (SPEC.md, "Rules" / Sessions; seed-design.md, "Session Rules")."""

from __future__ import annotations

from collections.abc import Container

import pytest

from app.legacy_import.rules.sessions import (
    WAITING_SESSION_IDS,
    SessionDecision,
    is_dangling,
    is_valid_reference,
    session_mapping_type,
    training_session_type,
)
from app.legacy_import.vocab import SessionType

FORMATIONS = frozenset({10, 11, 235})
REAL_FORMATION = 10
WAITING = SessionType.WAITING_SESSION
PLACEHOLDER = SessionType.PLACEHOLDER_SESSION
REAL = SessionType.REAL_SESSION
UNKNOWN = SessionType.UNKNOWN

WAITING_CODES = [
    "Session-Attente",
    "session-attente",
    "SESSION-ATTENTE",
    "session attente",
    "Session Attente",
    "SESSION ATTENTE",
    "Session_Attente",
    "Session_Attente-DW",
    "sEsSiOn-AtTeNtE",
    "DW-Session-Attente",
    "DW Session Attente 2019",
    "Session-Attente-Bureautique-2021",
    "  Session   Attente  ",
    "Session - Attente",
    "Session\u00a0Attente",  # no-break space, as pasted from a spreadsheet
    "Session\tAttente",
    "Session-Attente-ComptabilitÃ©",  # mojibake elsewhere in the code
    "SÃ©ssion-Attente",  # mojibake of an accented spelling
]
NOT_WAITING_CODES = [
    None,
    "",
    "   ",
    "Session",
    "Attente",
    "Attente-Session",
    "Session-Active",
    "Session 12 Attente",
    "DW-2019-01",
    "Sessions",
]


# -- the type of a legacy session row (legacy_session_mappings) ---------------------------------


def test_waiting_session_ids_are_exactly_those_of_the_spec() -> None:
    assert frozenset({1, 2, 235}) == WAITING_SESSION_IDS


@pytest.mark.parametrize("session_id", [1, 2, 235])
@pytest.mark.parametrize("formation_id", [None, 0, REAL_FORMATION, 999])
@pytest.mark.parametrize("code", [None, "", "DW-2019-01", "Session-Attente"])
def test_mapping_with_waiting_id_is_waiting_whatever_its_formation_or_code(
    session_id: int, formation_id: int | None, code: str | None
) -> None:
    decision = session_mapping_type(session_id, code, formation_id, FORMATIONS)
    assert decision == SessionDecision(WAITING, "waiting_session_id")


@pytest.mark.parametrize("code", WAITING_CODES)
@pytest.mark.parametrize("formation_id", [None, 0, REAL_FORMATION, 999])
def test_mapping_with_waiting_code_is_waiting_whatever_its_formation(
    code: str, formation_id: int | None
) -> None:
    decision = session_mapping_type(40, code, formation_id, FORMATIONS)
    assert decision == SessionDecision(WAITING, "waiting_session_code")


@pytest.mark.parametrize("code", NOT_WAITING_CODES)
def test_mapping_with_other_code_and_valid_formation_is_real(code: str | None) -> None:
    decision = session_mapping_type(40, code, REAL_FORMATION, FORMATIONS)
    assert decision == SessionDecision(REAL, "real_session")


@pytest.mark.parametrize("code", NOT_WAITING_CODES)
@pytest.mark.parametrize(
    "formation_id",
    [
        pytest.param(None, id="null"),
        pytest.param(0, id="zero"),
        pytest.param(999, id="dangling"),
        pytest.param(-1, id="negative-dangling"),
    ],
)
def test_mapping_without_valid_formation_is_placeholder(code: str | None, formation_id: int | None) -> None:
    decision = session_mapping_type(40, code, formation_id, FORMATIONS)
    assert decision == SessionDecision(PLACEHOLDER, "session_without_formation")


@pytest.mark.parametrize("session_id", [0, 3, 234, 236, 1000])
def test_mapping_ids_next_to_waiting_ids_are_not_waiting(session_id: int) -> None:
    decision = session_mapping_type(session_id, "DW-2019-01", REAL_FORMATION, FORMATIONS)
    assert decision.session_type is REAL


def test_mapping_with_no_formations_staged_is_placeholder() -> None:
    assert session_mapping_type(40, "DW", REAL_FORMATION, frozenset()).session_type is PLACEHOLDER


@pytest.mark.parametrize(
    "formations",
    [frozenset({REAL_FORMATION}), {REAL_FORMATION: "x"}, [REAL_FORMATION], range(REAL_FORMATION, 20)],
    ids=["frozenset", "dict", "list", "range"],
)
def test_mapping_accepts_any_container_of_formation_ids(formations: Container[int]) -> None:
    assert session_mapping_type(40, None, REAL_FORMATION, formations).session_type is REAL
    assert session_mapping_type(40, None, 9, formations).session_type is PLACEHOLDER


# -- the type of the session a student row points at (legacy_training_imports) -----------------

RUN_SESSIONS: dict[int, SessionType] = {
    40: REAL,
    41: PLACEHOLDER,
    42: WAITING,
    43: UNKNOWN,
}


@pytest.mark.parametrize("session_id", [1, 2, 235])
@pytest.mark.parametrize(
    "session_types",
    [{}, RUN_SESSIONS, {1: REAL, 2: PLACEHOLDER, 235: REAL}],
    ids=["no-session-rows", "other-rows", "rows-typed-otherwise"],
)
def test_training_on_waiting_id_is_waiting_even_without_a_session_row(
    session_id: int, session_types: dict[int, SessionType]
) -> None:
    assert training_session_type(session_id, session_types) == SessionDecision(WAITING, "waiting_session_id")


@pytest.mark.parametrize(
    ("session_id", "rule"),
    [
        pytest.param(None, "no_session", id="null"),
        pytest.param(0, "no_session", id="zero"),
        pytest.param(999, "dangling_session", id="not-in-run"),
        pytest.param(3, "dangling_session", id="next-to-waiting-id"),
        pytest.param(-5, "dangling_session", id="negative"),
    ],
)
def test_training_without_existing_session_is_unknown(session_id: int | None, rule: str) -> None:
    assert training_session_type(session_id, RUN_SESSIONS) == SessionDecision(UNKNOWN, rule)


def test_training_with_session_zero_is_no_session_even_if_a_row_zero_was_staged() -> None:
    assert training_session_type(0, {0: REAL}) == SessionDecision(UNKNOWN, "no_session")


@pytest.mark.parametrize(("session_id", "expected"), list(RUN_SESSIONS.items()))
def test_training_takes_the_type_of_its_staged_session(session_id: int, expected: SessionType) -> None:
    assert training_session_type(session_id, RUN_SESSIONS) == SessionDecision(expected, "session_mapping")


@pytest.mark.parametrize(
    ("session_id", "code", "formation_id", "expected"),
    [
        (1, None, None, WAITING),
        (235, "DW", REAL_FORMATION, WAITING),
        (50, "Session_Attente-DW", REAL_FORMATION, WAITING),
        (51, "DW-2020", None, PLACEHOLDER),
        (52, "DW-2020", 0, PLACEHOLDER),
        (53, "DW-2020", 999, PLACEHOLDER),
        (54, "DW-2020", REAL_FORMATION, REAL),
    ],
)
def test_training_type_follows_its_session_row_rules(
    session_id: int, code: str | None, formation_id: int | None, expected: SessionType
) -> None:
    """From the session rows of a run to the type of a student's training on one of them."""
    run_types = {session_id: session_mapping_type(session_id, code, formation_id, FORMATIONS).session_type}
    assert training_session_type(session_id, run_types).session_type is expected


# -- references --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "existing", "valid", "dangling"),
    [
        pytest.param(None, {5}, False, False, id="null-is-no-reference"),
        pytest.param(0, {5}, False, False, id="zero-is-no-reference"),
        pytest.param(0, {0, 5}, False, False, id="zero-even-if-a-row-zero-exists"),
        pytest.param(None, set(), False, False, id="null-nothing-staged"),
        pytest.param(5, {5}, True, False, id="existing"),
        pytest.param(6, {5}, False, True, id="missing"),
        pytest.param(-1, {5}, False, True, id="negative-missing"),
        pytest.param(5, set(), False, True, id="nothing-staged"),
    ],
)
def test_reference_semantics(value: int | None, existing: set[int], valid: bool, dangling: bool) -> None:
    assert is_valid_reference(value, existing) is valid
    assert is_dangling(value, existing) is dangling
    assert not (valid and dangling)
