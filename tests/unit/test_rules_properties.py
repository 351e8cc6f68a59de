"""Property tests of the rule modules: every rule is total and keeps to the contract's vocabularies."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence

from hypothesis import example, given, settings
from hypothesis import strategies as st
from rapidfuzz import fuzz
from rapidfuzz.distance import LCSseq

from app.legacy_import.rules.classification import IMPORT_ACTIONS, classify
from app.legacy_import.rules.duplicates import (
    LONG_TOKEN,
    MIN_TOKEN,
    STAGED_ROW,
    ExistingPerson,
    StagedPerson,
    deletion_keys,
    in_run_group_hints,
    shared_contacts,
    similar_name_hints,
)
from app.legacy_import.rules.sessions import (
    WAITING_SESSION_IDS,
    is_dangling,
    is_valid_reference,
    session_mapping_type,
    training_session_type,
)
from app.legacy_import.rules.validation import RowFacts, validate
from app.legacy_import.vocab import (
    Classification,
    DuplicateConfidence,
    ImportAction,
    SessionType,
    ValidationState,
)

C = Classification
MAPPING_TYPES = (SessionType.WAITING_SESSION, SessionType.PLACEHOLDER_SESSION, SessionType.REAL_SESSION)
quick = settings(max_examples=200, deadline=None)

KNOWN_STATUSES = [
    "Formée", "Formé", "Archivé", "Archivè", "Archivée", "Informer", "Reporter", "Ne répond pas",
    "Confirmer", "nouveau",
]  # fmt: skip
any_text = st.text(st.characters(codec=None, exclude_categories=()))  # surrogates too


@st.composite
def status_variants(draw: st.DrawFn) -> tuple[str, str]:
    """A known status re-cased, re-spaced, with '-' or '_' between its words: (variant, canonical)."""
    canonical = draw(st.sampled_from(KNOWN_STATUSES))
    cased = "".join(char.upper() if draw(st.booleans()) else char.lower() for char in canonical)
    separator = draw(st.sampled_from([" ", "  ", "-", "_", " - ", "\u00a0"]))
    padding = st.text(" \t\n\u00a0", max_size=3)
    variant = draw(padding) + separator.join(cased.split(" ")) + draw(padding)
    return variant, canonical


statuses = st.one_of(
    st.none(),
    any_text,
    st.text(),
    st.binary(),
    st.integers(),
    st.floats(),
    st.sampled_from(KNOWN_STATUSES),
    status_variants().map(lambda pair: pair[0]),
)
session_types = st.sampled_from(list(SessionType))


# -- classification ------------------------------------------------------------------------------


@quick
@given(statuses, session_types, st.booleans())
@example("FormÃ©e", SessionType.UNKNOWN, False)
@example("\ud800", SessionType.REAL_SESSION, True)
@example(b"\xff\xfe", SessionType.WAITING_SESSION, True)
def test_classify_is_total(status: object, session_type: SessionType, has_formation: bool) -> None:
    decision = classify(status, session_type, has_formation)
    assert decision.classification in Classification
    assert decision.import_action in ImportAction
    assert decision.import_action is IMPORT_ACTIONS[decision.classification]
    assert isinstance(decision.rule, str)
    assert decision.rule.strip()
    if not has_formation:
        assert decision.classification not in (C.COMPLETED, C.ARCHIVED_TRAINING)
    assert (decision.classification is C.NEEDS_REVIEW) == decision.rule.endswith("_without_formation")
    if decision.classification is C.UNKNOWN:
        assert decision.rule in ("status_empty", "status_unrecognized")
    if decision.rule == "status_reporter_real_session":
        assert session_type is SessionType.REAL_SESSION


@quick
@given(status_variants(), session_types, st.booleans())
def test_classify_ignores_case_spacing_and_separators(
    variant_and_canonical: tuple[str, str], session_type: SessionType, has_formation: bool
) -> None:
    variant, canonical = variant_and_canonical
    assert classify(variant, session_type, has_formation) == classify(canonical, session_type, has_formation)
    assert classify(variant, session_type, has_formation).classification is not C.UNKNOWN


# -- validation ----------------------------------------------------------------------------------

row_facts = st.builds(
    RowFacts,
    has_legacy_id=st.booleans(),
    has_name=st.booleans(),
    phone_usable=st.booleans(),
    email_usable=st.booleans(),
    classification=st.sampled_from(list(Classification)),
    existing_match=st.sampled_from([None, "user", "crm_lead"]),
    medium_hint=st.booleans(),
    dangling_formation=st.booleans(),
    dangling_session=st.booleans(),
)


@quick
@given(row_facts)
def test_validate_is_total(facts: RowFacts) -> None:
    state, reasons = validate(facts)
    assert state in ValidationState
    assert state is not ValidationState.PENDING
    assert all(isinstance(reason, str) and reason for reason in reasons)
    assert len(reasons) == len(set(reasons))
    if state in (ValidationState.FAILED, ValidationState.NEEDS_REVIEW, ValidationState.DUPLICATE):
        assert reasons
    if state is ValidationState.VALID:
        assert reasons == ()
    failed = not facts.has_legacy_id or not (facts.has_name or facts.phone_usable or facts.email_usable)
    assert (state is ValidationState.FAILED) == failed
    if not failed:
        assert (state is ValidationState.DUPLICATE) == bool(facts.existing_match)


# -- sessions ------------------------------------------------------------------------------------

ids = st.one_of(st.none(), st.integers(), st.integers(-3, 300))
formation_sets = st.frozensets(st.integers(-3, 30), max_size=10)


@st.composite
def waiting_codes(draw: st.DrawFn) -> str:
    """Any text around 'Session' + '-', ' ' or '_' + 'Attente', in any case."""
    words = [
        "".join(char.upper() if draw(st.booleans()) else char for char in word)
        for word in ("session", "attente")
    ]
    separator = draw(st.sampled_from(["-", " ", "_", "  ", " - ", "__"]))
    return draw(st.text()) + words[0] + separator + words[1] + draw(st.text())


codes = st.one_of(st.none(), any_text, st.text(), waiting_codes())


@quick
@given(st.integers(), codes, st.one_of(st.none(), st.integers(-3, 30), st.integers()), formation_sets)
@example(235, None, None, frozenset())
@example(7, "\ud800Session-Attente", 0, frozenset({0}))
def test_session_mapping_type_is_total(
    session_id: int, code: str | None, formation_id: int | None, formation_ids: frozenset[int]
) -> None:
    session_type, rule = session_mapping_type(session_id, code, formation_id, formation_ids)
    assert session_type in MAPPING_TYPES
    assert isinstance(rule, str)
    assert rule
    if session_id in WAITING_SESSION_IDS:
        assert session_type is SessionType.WAITING_SESSION
    if session_type is SessionType.REAL_SESSION:
        assert is_valid_reference(formation_id, formation_ids)
    if session_type is SessionType.PLACEHOLDER_SESSION:
        assert not is_valid_reference(formation_id, formation_ids)


@quick
@given(st.integers(), waiting_codes(), st.one_of(st.none(), st.integers(-3, 30)), formation_sets)
def test_any_session_attente_code_is_waiting(
    session_id: int, code: str, formation_id: int | None, formation_ids: frozenset[int]
) -> None:
    assert session_mapping_type(session_id, code, formation_id, formation_ids).session_type is (
        SessionType.WAITING_SESSION
    )


@quick
@given(ids, st.dictionaries(st.integers(-3, 300), session_types, max_size=10))
@example(235, {})
@example(0, {0: SessionType.REAL_SESSION})
def test_training_session_type_is_total(session_id: int | None, types: dict[int, SessionType]) -> None:
    session_type, rule = training_session_type(session_id, types)
    assert session_type in SessionType
    assert rule in ("waiting_session_id", "no_session", "dangling_session", "session_mapping")
    if session_id in WAITING_SESSION_IDS:
        assert (session_type, rule) == (SessionType.WAITING_SESSION, "waiting_session_id")
    elif session_id in (None, 0):
        assert (session_type, rule) == (SessionType.UNKNOWN, "no_session")
    elif session_id not in types:
        assert (session_type, rule) == (SessionType.UNKNOWN, "dangling_session")
    else:
        assert session_type is types[session_id]


@quick
@given(ids, formation_sets)
def test_references_are_valid_dangling_or_absent(value: int | None, existing: frozenset[int]) -> None:
    valid, dangling = is_valid_reference(value, existing), is_dangling(value, existing)
    assert not (valid and dangling)
    assert (valid or dangling) == (value not in (None, 0))


# -- duplicates ----------------------------------------------------------------------------------

tokens = st.text("abnmo", min_size=1, max_size=6)
name_keys = st.one_of(
    st.none(), st.lists(tokens, min_size=1, max_size=3).map(lambda parts: " ".join(sorted(parts)))
)
# Names mostly made of a few close spellings (long ones too), so that similar names are common.
SPELLINGS = ["abn", "anb", "abnn", "mona", "moan", "bannomab", "bnnomab", "bnomab", "o"]
close_name_keys = name_keys | st.lists(st.sampled_from(SPELLINGS), min_size=1, max_size=3).map(
    lambda parts: " ".join(sorted(parts))
)


@st.composite
def staged_people(
    draw: st.DrawFn, names: st.SearchStrategy[str | None] = name_keys, max_size: int = 14
) -> list[StagedPerson]:
    row_ids = draw(st.lists(st.integers(1, 200), unique=True, max_size=max_size))
    return [
        StagedPerson(
            row_id,
            draw(names),
            draw(st.sampled_from([None, "p1", "p2", "p3"])),
            draw(st.sampled_from([None, "e1", "e2"])),
            None,
            None,
        )
        for row_id in row_ids
    ]


@st.composite
def existing_people(
    draw: st.DrawFn, names: st.SearchStrategy[str | None] = name_keys
) -> list[ExistingPerson]:
    targets = draw(
        st.lists(
            st.tuples(st.sampled_from(["user", "crm_lead"]), st.integers(1, 200)), unique=True, max_size=6
        )
    )
    return [ExistingPerson(target_type, target_id, draw(names)) for target_type, target_id in targets]


@quick
@given(staged_people())
def test_in_run_groups_are_stars_to_their_lowest_row(people: list[StagedPerson]) -> None:
    hints = list(in_run_group_hints(people, lambda p: p.phone, DuplicateConfidence.HIGH, "same_phone_in_run"))
    groups: dict[str, list[int]] = {}
    for p in people:
        if p.phone is not None:
            groups.setdefault(p.phone, []).append(p.row_id)
    assert len(hints) == sum(len(rows) - 1 for rows in groups.values())
    firsts = {p.row_id: min(groups[p.phone]) for p in people if p.phone is not None}
    for hint in hints:
        assert hint.target_type == STAGED_ROW
        assert hint.target_id == firsts[hint.row_id] < hint.row_id
    assert len({hint.row_id for hint in hints}) == len(hints)


@quick
@given(staged_people(), st.integers(1, 6))
def test_shared_contacts_are_carried_by_enough_people(people: list[StagedPerson], threshold: int) -> None:
    shared = shared_contacts(people, lambda p: p.phone, threshold)
    owners = {
        value: {p.name_key or ("row", p.row_id) for p in people if p.phone == value}
        for value in {p.phone for p in people if p.phone}
    }
    assert shared == {value for value, names in owners.items() if len(names) >= threshold}
    assert shared_contacts(people, lambda p: p.phone, threshold + 1) <= shared


def tokens_close(first: str, second: str) -> bool:
    """A letter or so apart: a common subsequence leaving each at most one letter out (two for
    long tokens)."""
    drops = {token: 2 if len(token) >= LONG_TOKEN else 1 for token in (first, second)}
    return LCSseq.similarity(first, second) >= max(len(token) - drops[token] for token in (first, second))


def without(tokens: list[str], shared: str) -> list[str]:
    others = tokens[:]
    others.remove(shared)
    return others


def oracle_score(first: str, second: str) -> int | None:
    """The documented pair rule, by brute force: None when the names share no block, else the best
    ratio of the names written with a shared token first."""
    first_tokens, second_tokens = sorted(first.split()), sorted(second.split())
    shared_tokens = {t for t in first_tokens if len(t) >= MIN_TOKEN} & set(second_tokens)
    meet = any(
        tokens_close(u, v)
        for shared in shared_tokens
        for u in without(first_tokens, shared)
        for v in without(second_tokens, shared)
        if len(u) >= MIN_TOKEN and len(v) >= MIN_TOKEN
    )
    if not meet:
        return None
    return max(
        int(fuzz.ratio(" ".join([t, *without(first_tokens, t)]), " ".join([t, *without(second_tokens, t)])))
        for t in shared_tokens
    )


def similar_oracle(
    people: Sequence[StagedPerson], existing: Sequence[ExistingPerson], cutoff: int, per_row: int
) -> set[tuple[int, str, int, int]]:
    """The documented semantics, by brute force over rows: each staged row against the earliest row
    of every name (when earlier) and every existing person; same name 100, else a pair of names
    sharing a block and scoring `cutoff` or more; the best `per_row` kept (ties: lowest target)."""
    canonical = {
        p.row_id: " ".join(sorted(p.name_key.split())) for p in people if p.name_key and p.name_key.strip()
    }
    earliest: dict[str, int] = {}
    for row_id in sorted(canonical):
        earliest.setdefault(canonical[row_id], row_id)
    targets = [(STAGED_ROW, row_id, name) for name, row_id in earliest.items()]
    targets += [
        (e.target_type, e.target_id, " ".join(sorted(e.name_key.split())))
        for e in existing
        if e.name_key and e.name_key.strip()
    ]
    result: set[tuple[int, str, int, int]] = set()
    for source_id, name in canonical.items():
        found: dict[tuple[str, int], int] = {}
        for target_type, target_id, other in targets:
            if target_type == STAGED_ROW and target_id >= source_id:
                continue
            score = 100 if other == name else oracle_score(name, other)
            if score is not None and score >= cutoff:
                found[(target_type, target_id)] = score
        ranked = sorted(found.items(), key=lambda item: (-item[1], item[0]))[:per_row]
        result |= {(source_id, target_type, target_id, score) for (target_type, target_id), score in ranked}
    return result


CLOSE_STAGED = [
    StagedPerson(row_id, key, None, None, None, None)
    for row_id, key in [
        (4, "abn mona"),
        (2, "abn moan"),
        (9, "abn mona"),
        (7, "bannomab mona"),
        (1, "mona o"),
        (8, "bnomab mona"),
    ]
]
CLOSE_EXISTING = [ExistingPerson("user", 1, "bnnomab mona"), ExistingPerson("crm_lead", 2, "anb moan")]


@settings(max_examples=500, deadline=None)
@given(
    staged_people(close_name_keys), existing_people(close_name_keys), st.integers(50, 100), st.integers(1, 4)
)
@example(CLOSE_STAGED, CLOSE_EXISTING, 60, 2)
def test_similar_name_hints_follow_the_blocked_brute_force(
    people: list[StagedPerson], existing: list[ExistingPerson], cutoff: int, per_row: int
) -> None:
    hints = list(similar_name_hints(people, existing, cutoff, per_row))
    for hint in hints:
        assert hint.confidence is DuplicateConfidence.LOW
        assert hint.reason == "similar_name"
        assert hint.score is not None and cutoff <= hint.score <= 100
        if hint.target_type == STAGED_ROW:
            assert hint.target_id < hint.row_id
    assert max(Counter(hint.row_id for hint in hints).values(), default=0) <= per_row
    pairs = [(hint.row_id, hint.target_type, hint.target_id) for hint in hints]
    assert len(pairs) == len(set(pairs))
    assert {(h.row_id, h.target_type, h.target_id, h.score) for h in hints} == similar_oracle(
        people, existing, cutoff, per_row
    )


@quick
@given(st.text("ab", min_size=1, max_size=10), st.text("ab", min_size=1, max_size=10))
@example("khadidja", "kadija")
@example("karim", "carim")
@example("mohamed", "muhammad")
def test_tokens_share_a_deletion_key_exactly_when_close(first: str, second: str) -> None:
    assert bool(deletion_keys(first) & deletion_keys(second)) == tokens_close(first, second)
    assert first in deletion_keys(first)


@quick
@given(staged_people(close_name_keys), existing_people(close_name_keys), st.randoms(use_true_random=False))
def test_similar_name_hints_do_not_depend_on_input_or_token_order(
    people: list[StagedPerson], existing: list[ExistingPerson], rng: random.Random
) -> None:
    def shuffled_key(key: str | None) -> str | None:
        if key is None:
            return None
        words = key.split()
        rng.shuffle(words)
        return " ".join(words)

    expected = list(similar_name_hints(people, existing, 70, 2))
    people = [StagedPerson(p.row_id, shuffled_key(p.name_key), p.phone, p.email, None, None) for p in people]
    existing = [ExistingPerson(e.target_type, e.target_id, shuffled_key(e.name_key)) for e in existing]
    rng.shuffle(people)
    rng.shuffle(existing)
    assert list(similar_name_hints(people, existing, 70, 2)) == expected
