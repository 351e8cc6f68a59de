"""Duplicate hints (SPEC.md, "Rules" / Duplicate hints and Email; seed-design.md, "Duplicate Strategy")."""

from __future__ import annotations

import datetime as dt
import random
import time
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from rapidfuzz import fuzz

from app.legacy_import.normalize import name_key
from app.legacy_import.rules import duplicates as dup
from app.legacy_import.rules.duplicates import (
    STAGED_ROW,
    ExistingPerson,
    Hint,
    StagedPerson,
    build_blocks,
    deletion_keys,
    distinct_names,
    existing_contact_hints,
    in_run_group_hints,
    pair_score,
    raw_phone_key,
    shared_contacts,
    similar_name_hints,
    strongest,
)
from app.legacy_import.validate import keep_strongest
from app.legacy_import.vocab import DuplicateConfidence

D = DuplicateConfidence
CUTOFF = 90
PER_ROW = 3
SCHOOL_PHONE = "213560000000"


def person(
    row_id: int,
    name: str | None = None,
    phone: str | None = None,
    email: str | None = None,
    birth_date: dt.date | None = None,
    phone_raw: str | None = None,
) -> StagedPerson:
    return StagedPerson(row_id, name, phone, email, birth_date, phone_raw)


def by_phone(p: StagedPerson) -> str | None:
    return p.phone


def by_email(p: StagedPerson) -> str | None:
    return p.email


# -- shared contacts (the school's own phone or address) ----------------------------------------


@pytest.mark.parametrize(
    ("owners", "threshold", "shared"),
    [
        pytest.param(["a", "b", "c"], 3, True, id="3-names-at-3"),
        pytest.param(["a", "b"], 3, False, id="2-names-at-3"),
        pytest.param(["a", "b", "c", "d", "e"], 5, True, id="5-names-at-5"),
        pytest.param(["a", "b", "c", "d"], 5, False, id="4-names-at-5"),
        pytest.param(["a"] * 10, 3, False, id="one-person-on-10-rows"),
        pytest.param(["a", "a", "a", "b", "b"], 3, False, id="two-people-on-5-rows"),
        pytest.param(["a", "a", "b", "b", "c"], 3, True, id="three-people-on-5-rows"),
        pytest.param([None, None, None], 3, True, id="3-nameless-rows-are-3-people"),
        pytest.param([None, None], 3, False, id="2-nameless-rows"),
        pytest.param(["a", "a", None], 3, False, id="a-twice-plus-nameless"),
        pytest.param(["a", "b", None], 3, True, id="2-names-plus-nameless"),
        pytest.param(["a"], 1, True, id="threshold-1"),
    ],
)
def test_shared_contact_threshold_counts_distinct_people(
    owners: list[str | None], threshold: int, shared: bool
) -> None:
    people = [person(i, name, phone=SCHOOL_PHONE) for i, name in enumerate(owners, start=1)]
    expected = {SCHOOL_PHONE} if shared else set()
    assert shared_contacts(people, by_phone, threshold) == expected


def test_shared_contacts_ignore_missing_values() -> None:
    people = [person(i, f"name {i}", phone=value) for i, value in enumerate([None, "", None, "", None, ""])]
    assert shared_contacts(people, by_phone, 2) == set()


def test_shared_contacts_by_email_and_several_values() -> None:
    people = [
        *[person(i, f"n{i}", email="ecole@ecoin.dz") for i in range(1, 6)],
        *[person(i, "same person", email="me@example.com") for i in range(6, 12)],
        *[person(i, f"m{i}", email="other@example.com") for i in range(12, 14)],
    ]
    assert shared_contacts(people, by_email, 5) == {"ecole@ecoin.dz"}
    assert shared_contacts(people, by_email, 2) == {"ecole@ecoin.dz", "other@example.com"}


# -- high: same phone / e-mail as an existing user or lead ----------------------------------------

PHONES = {
    "213559446168": [("user", 7)],
    "213776845160": [("crm_lead", 3), ("user", 8)],
    SCHOOL_PHONE: [("user", 1)],
}
EMAILS = {"a@b.dz": [("crm_lead", 4)], "ecole@ecoin.dz": [("user", 1)]}


@pytest.mark.parametrize(
    ("staged", "placeholders", "expected"),
    [
        pytest.param(
            person(10, phone="213559446168"),
            set(),
            [Hint(10, "user", 7, D.HIGH, "same_phone_as_user")],
            id="phone-user",
        ),
        pytest.param(
            person(10, email="a@b.dz"),
            set(),
            [Hint(10, "crm_lead", 4, D.HIGH, "same_email_as_crm_lead")],
            id="email-lead",
        ),
        pytest.param(
            person(10, phone="213776845160"),
            set(),
            [
                Hint(10, "crm_lead", 3, D.HIGH, "same_phone_as_crm_lead"),
                Hint(10, "user", 8, D.HIGH, "same_phone_as_user"),
            ],
            id="phone-on-two-targets",
        ),
        pytest.param(
            person(10, phone="213559446168", email="a@b.dz"),
            set(),
            [
                Hint(10, "user", 7, D.HIGH, "same_phone_as_user"),
                Hint(10, "crm_lead", 4, D.HIGH, "same_email_as_crm_lead"),
            ],
            id="phone-and-email",
        ),
        pytest.param(person(10, phone=SCHOOL_PHONE), {SCHOOL_PHONE}, [], id="placeholder-phone"),
        pytest.param(person(10, email="ecole@ecoin.dz"), {"ecole@ecoin.dz"}, [], id="placeholder-email"),
        pytest.param(
            person(10, phone=SCHOOL_PHONE, email="a@b.dz"),
            {SCHOOL_PHONE},
            [Hint(10, "crm_lead", 4, D.HIGH, "same_email_as_crm_lead")],
            id="placeholder-phone-real-email",
        ),
        pytest.param(person(10, phone="213660000001", email="x@y.dz"), set(), [], id="no-match"),
        pytest.param(person(10), set(), [], id="no-contact"),
        pytest.param(person(10, phone="", email=""), set(), [], id="empty-contact"),
    ],
)
def test_existing_contact_hints(staged: StagedPerson, placeholders: set[str], expected: list[Hint]) -> None:
    assert list(existing_contact_hints([staged], PHONES, EMAILS, placeholders)) == expected


def test_existing_contact_hints_are_high_and_never_for_a_placeholder() -> None:
    people = [
        person(i, f"n{i}", phone=phone, email=email)
        for i, (phone, email) in enumerate(
            [("213559446168", "ecole@ecoin.dz"), (SCHOOL_PHONE, "a@b.dz"), (SCHOOL_PHONE, None)], start=1
        )
    ]
    placeholders = {SCHOOL_PHONE, "ecole@ecoin.dz"}
    hints = list(existing_contact_hints(people, PHONES, EMAILS, placeholders))
    assert {(h.row_id, h.target_type, h.target_id) for h in hints} == {(1, "user", 7), (2, "crm_lead", 4)}
    assert all(h.confidence is D.HIGH for h in hints)
    assert all(h.score is None for h in hints)


# -- rows of the same run sharing a key ---------------------------------------------------------


@pytest.mark.parametrize("k", [1, 2, 3, 5, 8])
def test_in_run_group_is_a_star_to_the_lowest_row(k: int) -> None:
    row_ids = random.Random(k).sample(range(100, 200), k)
    people = [person(row_id, phone="213559446168") for row_id in row_ids]
    hints = list(in_run_group_hints(people, by_phone, D.HIGH, "same_phone_in_run"))
    first = min(row_ids)
    assert len(hints) == k - 1
    assert sorted(h.row_id for h in hints) == sorted(set(row_ids) - {first})
    assert all(h == Hint(h.row_id, STAGED_ROW, first, D.HIGH, "same_phone_in_run") for h in hints)


def test_in_run_groups_are_independent_and_none_keys_never_group() -> None:
    people = [
        person(5, phone="A"),
        person(2, phone="B"),
        person(3, phone="A"),
        person(9, phone=None),
        person(1, phone=None),
        person(7, phone="B"),
        person(4, phone="C"),
    ]
    hints = list(in_run_group_hints(people, by_phone, D.MEDIUM, "why"))
    assert sorted((h.row_id, h.target_id) for h in hints) == [(5, 3), (7, 2)]
    assert all(h.confidence is D.MEDIUM and h.reason == "why" and h.target_type == STAGED_ROW for h in hints)


def test_in_run_group_by_composite_key() -> None:
    born = dt.date(1998, 3, 15)
    people = [
        person(1, "ali benali", birth_date=born),
        person(2, "ali benali", birth_date=born),
        person(3, "ali benali", birth_date=dt.date(1999, 3, 15)),
        person(4, "ali benali", birth_date=None),
        person(5, None, birth_date=born),
    ]

    def key(p: StagedPerson) -> tuple[str, dt.date] | None:
        return (p.name_key, p.birth_date) if p.name_key and p.birth_date else None

    hints = list(in_run_group_hints(people, key, D.MEDIUM, "same_name_and_birth_date"))
    assert hints == [Hint(2, STAGED_ROW, 1, D.MEDIUM, "same_name_and_birth_date")]


def test_in_run_group_by_name_and_raw_phone() -> None:
    people = [
        person(1, "ali benali", phone_raw="0559-44-61-68"),
        person(2, "ali benali", phone_raw="0559 44 61 68"),
        person(3, "ali benali", phone_raw="05 59"),  # too short to be a key
        person(4, "ali benali", phone_raw="0776845160"),
        person(5, "amine kaci", phone_raw="0559446168"),
        person(6, None, phone_raw="0559446168"),
    ]

    def key(p: StagedPerson) -> tuple[str, str] | None:
        raw = raw_phone_key(p.phone_raw)
        return (p.name_key, raw) if p.name_key and raw else None

    hints = list(in_run_group_hints(people, key, D.MEDIUM, "same_name_and_raw_phone"))
    assert hints == [Hint(2, STAGED_ROW, 1, D.MEDIUM, "same_name_and_raw_phone")]


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        (None, None),
        ("", None),
        ("   ", None),
        ("abc", None),
        ("0", None),
        ("12345", None),
        ("05 59", None),
        ("123456", "123456"),
        ("0559446168", "0559446168"),
        ("0559-44-61-68", "0559446168"),
        ("+213 559 44 61 68", "213559446168"),
        ("(0559) 44.61.68", "0559446168"),
        ("0559446168 / 0776845160", "05594461680776845160"),
    ],
)
def test_raw_phone_key(raw: str | None, key: str | None) -> None:
    assert raw_phone_key(raw) == key


# -- blocking ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("token", "keys"),
    [
        ("ab", {"ab", "a", "b"}),
        ("aab", {"aab", "ab", "aa"}),
        ("karim", {"karim", "arim", "krim", "kaim", "karm", "kari"}),
    ],
)
def test_deletion_keys_drop_one_letter(token: str, keys: set[str]) -> None:
    assert deletion_keys(token) == keys


def test_deletion_keys_drop_up_to_two_letters_from_long_tokens() -> None:
    assert len(deletion_keys("abcdefg")) == 1 + 7
    assert len(deletion_keys("abcdefgh")) == 1 + 8 + 28
    assert "abcdef" in deletion_keys("abcdefgh")
    assert "abcde" not in deletion_keys("abcdefg")


@pytest.mark.parametrize(
    ("first", "second", "meet"),
    [
        ("karim", "carim", True),  # a letter changed
        ("lyes", "ilyes", True),  # a letter added
        ("yasmine", "jasmine", True),
        ("mohamed", "mouhamed", True),
        ("mohamed", "mohammed", True),
        ("mohamed", "mohaemd", True),  # neighbours swapped
        ("benali", "benalli", True),
        ("khadidja", "kadija", True),  # a long token may lose two letters
        ("benali", "benali", True),
        ("mohamed", "muhammad", False),
        ("lyes", "ilyess", False),
        ("benali", "bensalah", False),
        ("amine", "sofiane", False),
    ],
)
def test_tokens_share_a_deletion_key_when_a_letter_or_so_apart(first: str, second: str, meet: bool) -> None:
    assert bool(deletion_keys(first) & deletion_keys(second)) is meet


def blocks_of(*keys: str, existing: Sequence[str] = ()) -> dict[tuple[str, str], set[str]]:
    """The blocks built for staged names `keys` (and existing people's names): block -> names."""
    staged = [person(row_id, key) for row_id, key in enumerate(keys, start=1)]
    others = [ExistingPerson("user", target_id, key) for target_id, key in enumerate(existing, start=1)]
    names = distinct_names(staged, others)
    return {block: {names[index].key for index in members} for block, members in build_blocks(names).items()}


@pytest.mark.parametrize(
    ("first", "second", "block"),
    [
        pytest.param("haddad karim", "carim haddad", ("haddad", "arim"), id="first-letter-changed"),
        pytest.param("benali mohamed", "benali mouhamed", ("benali", "mohamed"), id="letter-added"),
        pytest.param("benali yasmine", "benali jasmine", ("benali", "asmine"), id="Yasmine-Jasmine"),
        pytest.param("lyes mansouri", "ilyes mansouri", ("mansouri", "lyes"), id="Lyes-Ilyes"),
        pytest.param("benali mohamed", "benalli mohamed", ("mohamed", "benali"), id="last-name-typo"),
        pytest.param("benali mohamed", "bensalah mohamed", None, id="other-last-name"),
        pytest.param("benali mohamed", "benaliz mohamedd", None, id="every-token-differs"),
        pytest.param("mohamed", "benali mohamed", None, id="one-token-name"),
        pytest.param("benali m", "benali mohamed", None, id="initial"),
        pytest.param("a b", "a c", None, id="initials-only"),
    ],
)
def test_names_meet_in_a_block_through_a_shared_token_and_a_close_one(
    first: str, second: str, block: tuple[str, str] | None
) -> None:
    found = blocks_of(first, second)
    assert all(names == {first, second} for names in found.values())
    if block is None:
        assert found == {}
    else:
        assert block in found
        assert {shared for shared, _ in found} == {block[0]}


def test_blocks_do_not_depend_on_token_order() -> None:
    assert blocks_of("mohamed benali", "benalli mohamed") == blocks_of("benali mohamed", "mohamed benalli")


def test_blocks_need_a_staged_name() -> None:
    assert blocks_of(existing=["benali mohamed", "benalli mohamed"]) == {}
    assert blocks_of("benalli mohamed", existing=["benali mohamed", "benali mohamedd"]) == {
        ("mohamed", "benali"): {"benalli mohamed", "benali mohamed"}
    }


def test_a_block_of_more_than_max_block_names_is_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    """Many "ait ahmed <first name>" names share two tokens: their ("ait", "ahmed") and ("ahmed",
    "ait") blocks are skipped, and a variant pair still meets through its first names."""
    keys = ["ahmed ait karim", "ahmed ait carim", "ahmed ait sofiane", "ahmed ait walid", "ahmed ait nadia"]
    monkeypatch.setattr(dup, "MAX_BLOCK", 4)
    assert set(blocks_of(*keys)) == {("ait", "arim"), ("ahmed", "arim")}
    assert similar(staged_names(*[(key, None) for key in keys])) == {(2, STAGED_ROW, 1)}
    monkeypatch.setattr(dup, "MAX_BLOCK", 5)
    assert ("ait", "ahmed") in blocks_of(*keys)


# -- low: similar names ---------------------------------------------------------------------------


def similar(
    staged: Sequence[StagedPerson],
    existing: Sequence[ExistingPerson] = (),
    cutoff: int = CUTOFF,
    per_row: int = PER_ROW,
) -> set[tuple[int, str, int]]:
    hints = list(similar_name_hints(staged, existing, cutoff, per_row))
    for hint in hints:
        assert hint.confidence is D.LOW
        assert hint.reason == "similar_name"
        assert hint.score is not None
        assert cutoff <= hint.score <= 100
    return {(h.row_id, h.target_type, h.target_id) for h in hints}


def scored(
    staged: Sequence[StagedPerson], existing: Sequence[ExistingPerson] = (), per_row: int = PER_ROW
) -> set[tuple[int, str, int, int | None]]:
    return {
        (h.row_id, h.target_type, h.target_id, h.score)
        for h in similar_name_hints(staged, existing, CUTOFF, per_row)
    }


def staged_names(*names: tuple[str, str | None]) -> list[StagedPerson]:
    return [person(i, name_key(first, last)) for i, (first, last) in enumerate(names, start=1)]


@pytest.mark.parametrize(
    ("first", "second", "score"),
    [
        pytest.param("carim haddad", "haddad karim", 91, id="aligned-on-the-shared-token"),
        pytest.param("benali mohamed", "benalli mohamed", 96, id="typo"),
        pytest.param("ali benali mohamed", "ali benali mouhamed", 97, id="several-shared-tokens"),
        pytest.param("benali mohamed", "bensalah mohamed", 0, id="below-the-cutoff"),
        pytest.param("benali mohamed", "benaliz mohamedd", 0, id="no-shared-token"),
        pytest.param("a benali", "a benalli", 0, id="shared-initial-only"),
    ],
)
def test_pair_score(first: str, second: str, score: int) -> None:
    assert pair_score(first, second, CUTOFF) == score
    assert pair_score(second, first, CUTOFF) == score


def test_pair_score_is_the_full_name_ratio_with_the_shared_token_aligned() -> None:
    assert int(fuzz.token_sort_ratio("carim haddad", "haddad karim")) == 50  # sorting moved the tokens
    assert int(fuzz.ratio("karim", "carim")) == 80  # the first names alone: a letter weighs more
    assert pair_score("carim haddad", "haddad karim", 0) == int(fuzz.ratio("haddad carim", "haddad karim"))
    assert pair_score("benali mohamed", "benalli mohamed", 0) == int(
        fuzz.token_sort_ratio("benali mohamed", "benalli mohamed")
    )


@pytest.mark.parametrize(
    ("first", "second"),
    [
        pytest.param(("Mohamed", "Bénali"), ("BENALI", "mohamed"), id="order-accent-case"),
        pytest.param(("Yasmine", "Khélifi"), ("khelifi", "YASMINE"), id="order-accent-case-2"),
        pytest.param(("Fatima Zohra", "Ait Ahmed"), ("Aït-Ahmed", "Fatima-Zohra"), id="compound-names"),
        pytest.param(("Chérif", "Bélaïd"), ("CHERIF", "BELAID"), id="diaeresis"),
        pytest.param(("Mohamed", "Benali"), ("Mohamed", "Benalli"), id="typo-doubled-letter"),
        pytest.param(("Karima", "Bouzid"), ("Karima", "Bouzide"), id="typo-added-letter"),
        pytest.param(("Yasmine", "Khelifi"), ("Yasmine", "Khelfi"), id="typo-dropped-letter"),
        pytest.param(("Fatima", "Benali"), ("Fatma", "Benali"), id="typo-first-name"),
        pytest.param(("Mohamed", "Benali"), ("Mohamed", "Bennali"), id="typo-inner"),
        pytest.param(("Karim", "Haddad"), ("Carim", "Haddad"), id="first-letter-reorders-tokens"),
        pytest.param(("Khadidja", "Benali"), ("Kadija", "Benali"), id="two-letters-of-a-long-token"),
        pytest.param(("Fatima Zohra", "Ait Ahmed"), ("Fatma Zohra", "Ait Ahmed"), id="four-tokens"),
    ],
)
def test_similar_names_match(first: tuple[str, str], second: tuple[str, str]) -> None:
    assert similar(staged_names(first, second)) == {(2, STAGED_ROW, 1)}


@pytest.mark.parametrize(
    ("first", "second"),
    [
        pytest.param(("Mohamed", "Benali"), ("Mohamed", "Benamar"), id="other-last-name"),
        pytest.param(("Mohamed", "Benali"), ("Mohamed", "Bensalah"), id="other-last-name-same-prefix"),
        pytest.param(("Amine", "Kaci"), ("Sofiane", "Haddad"), id="unrelated"),
        pytest.param(("Amine", "Kaci"), ("Amina", "Kaci Haddad"), id="extra-token"),
        pytest.param(("Mohamed", None), ("Mohamed", "Benali"), id="one-token-vs-two"),
        pytest.param(("Mohamed", None), ("Mohammed", None), id="one-token-names"),
    ],
)
def test_different_names_do_not_match(first: tuple[str, str | None], second: tuple[str, str]) -> None:
    people = [person(1, name_key(*first)), person(2, name_key(*second))]
    assert similar(people) == set()


def test_names_whose_every_token_differs_are_not_compared() -> None:
    """The accepted limitation of blocking on a shared token: both names misspelled."""
    assert fuzz.token_sort_ratio("benali mohamed", "benaliz mohamedd") >= CUTOFF
    assert similar([person(1, "benali mohamed"), person(2, "benaliz mohamedd")]) == set()


TRANSLITERATIONS = [
    pytest.param(("Mohamed", "Benali"), ("Mouhamed", "Benali"), id="Mohamed-Mouhamed"),
    pytest.param(("Karim", "Bouzid"), ("Carim", "Bouzid"), id="Karim-Carim"),
    pytest.param(("Yasmine", "Benali"), ("Jasmine", "Benali"), id="Yasmine-Jasmine"),
    pytest.param(("Lyes", "Mansouri"), ("Ilyes", "Mansouri"), id="Lyes-Ilyes"),
]


@pytest.mark.parametrize(("first", "second"), TRANSLITERATIONS)
def test_transliteration_variants_share_a_block_and_score_within_the_cutoff(
    first: tuple[str, str], second: tuple[str, str]
) -> None:
    first_key, second_key = name_key(*first), name_key(*second)
    assert first_key and second_key
    assert blocks_of(first_key, second_key)
    assert pair_score(first_key, second_key, CUTOFF) >= CUTOFF


@pytest.mark.parametrize(("first", "second"), TRANSLITERATIONS)
def test_similar_names_match_when_a_token_differs_in_its_first_letters(
    first: tuple[str, str], second: tuple[str, str]
) -> None:
    assert similar(staged_names(first, second)) == {(2, STAGED_ROW, 1)}


@pytest.mark.parametrize(
    ("cutoff", "expected"),
    [(100, set()), (97, set()), (96, {(2, STAGED_ROW, 1)}), (50, {(2, STAGED_ROW, 1)})],
)
def test_similar_names_cutoff(cutoff: int, expected: set[tuple[int, str, int]]) -> None:
    people = staged_names(("Mohamed", "Benali"), ("Mohamed", "Benalli"))  # score 96.55
    assert similar(people, cutoff=cutoff) == expected


def test_rows_of_one_name_point_at_its_earliest_row() -> None:
    people = [person(row_id, "benali mohamed") for row_id in (4, 2, 9, 7)]
    assert scored(people, per_row=10) == {
        (4, STAGED_ROW, 2, 100),
        (7, STAGED_ROW, 2, 100),
        (9, STAGED_ROW, 2, 100),
    }


def test_rows_of_similar_names_point_at_the_earliest_earlier_row_of_the_other_name() -> None:
    people = [
        person(3, "benali mohamed"),
        person(8, "benali mohamed"),
        person(5, "benalli mohamed"),
        person(10, "benalli mohamed"),
    ]
    pairs = scored(people, per_row=10)
    assert pairs == {
        (5, STAGED_ROW, 3, 96),  # row 3 is earlier than any row of "benalli mohamed": no 3 -> 5
        (8, STAGED_ROW, 3, 100),
        (8, STAGED_ROW, 5, 96),
        (10, STAGED_ROW, 5, 100),
        (10, STAGED_ROW, 3, 96),
    }
    unordered = [frozenset((row, target)) for row, _, target, _ in pairs]
    assert len(unordered) == len(set(unordered))


def test_a_pair_met_in_several_blocks_is_scored_once_and_gives_one_hint(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    people = [person(1, "ali benali mohamed"), person(2, "ali benali mouhamed")]
    assert len(blocks_of("ali benali mohamed", "ali benali mouhamed")) > 2
    assert comparisons(monkeypatch, people) == 2  # once, aligned on each of its two shared tokens
    assert list(similar_name_hints(people, [], CUTOFF, PER_ROW)) == [
        Hint(2, STAGED_ROW, 1, D.LOW, "similar_name", 97)
    ]


BENALI_VARIANTS = ["benali", "bbenali", "beenali", "bennali", "benaali", "benalli", "benalii", "benalie"]


@pytest.mark.parametrize("per_row", [1, 2, 3, 5])
def test_at_most_per_row_hints_per_row(per_row: int) -> None:
    """Eight distinct names, each within one letter of "benali" and so similar to all the others."""
    people = [person(row_id, f"{last} mohamed") for row_id, last in enumerate(BENALI_VARIANTS, start=1)]
    hints = list(similar_name_hints(people, [], CUTOFF, per_row))
    counts: dict[int, int] = {}
    for hint in hints:
        counts[hint.row_id] = counts.get(hint.row_id, 0) + 1
    assert counts == {row_id: min(per_row, row_id - 1) for row_id in range(2, 9)}


@pytest.mark.parametrize(
    ("per_row", "expected"),
    [(1, {1: 100}), (2, {1: 100, 4: 96}), (3, {1: 100, 4: 96, 3: 93}), (5, {1: 100, 4: 96, 3: 93})],
)
def test_per_row_keeps_the_best_scores(per_row: int, expected: dict[int, int]) -> None:
    people = [
        person(1, "benali mohamed"),  # 100
        person(2, "bensalah mohamed"),  # not similar
        person(3, "benaliya mohamed"),  # 93.3
        person(4, "benalli mohamed"),  # 96.6
        person(10, "benali mohamed"),
    ]
    scores = {h.target_id: h.score for h in similar_name_hints(people, [], CUTOFF, per_row) if h.row_id == 10}
    assert scores == expected


def test_per_row_keeps_the_best_scores_across_blocks() -> None:
    """Each candidate shares different tokens with the row; ties are broken by the lowest target."""
    people = [
        person(1, "ali benali mouhamed"),  # 97.3
        person(2, "aly benali mohamed"),  # 94.4
        person(3, "ali bemali mohamed"),  # 94.4
        person(4, "ali benali mohamed"),
    ]
    kept = {h.target_id: h.score for h in similar_name_hints(people, [], CUTOFF, 2) if h.row_id == 4}
    assert kept == {1: 97, 2: 94}


def test_ties_are_broken_by_target_type_then_id() -> None:
    staged = [person(1, "benali mohamed"), person(10, "benali mohamed")]
    targets = [("user", 7), ("crm_lead", 9), ("user", 3), ("crm_lead", 2)]
    existing = [ExistingPerson(kind, target_id, "benali mohamed") for kind, target_id in targets]
    row_10 = [
        (h.target_type, h.target_id)
        for h in similar_name_hints(staged, existing, CUTOFF, 4)
        if h.row_id == 10
    ]
    assert row_10 == [("crm_lead", 2), ("crm_lead", 9), (STAGED_ROW, 1), ("user", 3)]


def test_hints_against_existing_people() -> None:
    staged = [person(1, "benali mohamed"), person(2, None)]
    existing = [
        ExistingPerson("user", 500, "benali mohamed"),
        ExistingPerson("crm_lead", 3, "benalli mohamed"),
        ExistingPerson("user", 501, "amine kaci"),
        ExistingPerson("crm_lead", 502, None),
    ]
    hints = sorted(similar_name_hints(staged, existing, CUTOFF, PER_ROW), key=lambda h: h.target_id)
    assert hints == [
        Hint(1, "crm_lead", 3, D.LOW, "similar_name", 96),
        Hint(1, "user", 500, D.LOW, "similar_name", 100),
    ]


def test_every_row_of_a_name_points_at_the_existing_people_of_a_similar_name() -> None:
    staged = [person(row_id, "benalli mohamed") for row_id in (1, 2, 3)]
    existing = [ExistingPerson("user", 40, "benali mohamed"), ExistingPerson("user", 41, "mohamed benali")]
    assert scored(staged, existing) == {
        (1, "user", 40, 96),
        (1, "user", 41, 96),
        (2, "user", 40, 96),
        (2, "user", 41, 96),
        (2, STAGED_ROW, 1, 100),
        (3, "user", 40, 96),
        (3, "user", 41, 96),
        (3, STAGED_ROW, 1, 100),
    }


def test_existing_people_are_never_the_source_of_a_hint() -> None:
    existing = [ExistingPerson("user", 1, "benali mohamed"), ExistingPerson("crm_lead", 1, "benali mohamed")]
    assert similar([], existing) == set()
    assert similar([person(9, "amine kaci")], existing) == set()


def test_nameless_rows_never_match() -> None:
    assert similar([person(1), person(2), person(3, ""), person(4, "  ")]) == set()


def test_similar_name_hints_do_not_depend_on_input_order() -> None:
    people = [
        person(i, name)
        for i, name in enumerate(
            [
                "benali mohamed",
                "benalli mohamed",
                "amine kaci",
                "amine kacy",
                "benali mohamed",
                "kaci amina",
                "carim haddad",
                "haddad karim",
                "amine kaci",
            ],
            start=1,
        )
    ]
    existing = [ExistingPerson("user", 5, "kaci amine"), ExistingPerson("crm_lead", 5, "haddad karim")]
    expected = list(similar_name_hints(people, existing, CUTOFF, PER_ROW))
    assert len(expected) > 5
    for seed in range(5):
        rng = random.Random(seed)
        shuffled, others = people[:], existing[:]
        rng.shuffle(shuffled)
        rng.shuffle(others)
        assert list(similar_name_hints(shuffled, others, CUTOFF, PER_ROW)) == expected


def test_the_in_run_and_similar_name_rules_give_their_hints_in_row_order() -> None:
    """What lets validation merge the rules' hints and write them row by row."""
    names = ["benali mohamed", "amine kaci", "benalli mohamed", "amine kacy", "benali mohamed"]
    people = [person(row_id, names[row_id % 5], phone=f"21355900000{row_id % 3}") for row_id in range(1, 31)]
    random.Random(7).shuffle(people)

    similar = [h.row_id for h in similar_name_hints(people, [], CUTOFF, PER_ROW)]
    same_phone = [h.row_id for h in in_run_group_hints(people, by_phone, D.HIGH, "same_phone_in_run")]

    assert len(similar) > 30 and len(same_phone) == 27
    assert similar == sorted(similar)
    assert same_phone == sorted(same_phone)


# -- scale: not an all-pairs loop ---------------------------------------------------------------

FIRST_NAMES = [
    "Amine", "Mohamed", "Yacine", "Karim", "Sofiane", "Walid", "Bilal", "Riad", "Mehdi", "Nassim",
    "Hamza", "Youcef", "Rachid", "Samir", "Nabil", "Farid", "Khaled", "Anis", "Lyes", "Mourad",
    "Abdelkader", "Mustapha", "Ismail", "Adel", "Redouane", "Omar", "Ali", "Salim", "Tarek", "Zakaria",
    "Yasmine", "Amina", "Meriem", "Sarah", "Lina", "Imane", "Khadidja", "Asma", "Rania", "Lydia",
    "Kahina", "Sonia", "Nesrine", "Houda", "Samira", "Wafa", "Manel", "Nadia", "Souad", "Selma",
    "Feriel", "Chaima", "Ines", "Melissa", "Katia", "Dalila", "Hanane", "Ouarda", "Zineb", "Fatima Zohra",
]  # fmt: skip
LAST_NAMES = [
    "Benali", "Boudiaf", "Kaci", "Haddad", "Ait Ahmed", "Bouzid", "Belkacem", "Mansouri", "Saidi",
    "Zerrouki", "Hamidi", "Brahimi", "Khelifi", "Meziane", "Amrani", "Bensalem", "Boumediene",
    "Djebbar", "Lounis", "Ouali", "Rahmani", "Slimani", "Tahar", "Yahiaoui", "Ziani", "Benmoussa",
    "Belaid", "Cherifi", "Hadj Ali", "Mebarki", "Benyahia", "Guendouz", "Messaoudi", "Larbi",
    "Gacem", "Oukaci", "Bouchama", "Dahmani", "Mokrani", "Belhadj", "Bouaziz", "Hamdi", "Benmohamed",
    "Kaddour", "Boukhari", "Cherif", "Bensaid", "Ferhat", "Djaballah", "Touati", "Mahdi", "Benchikh",
    "Aissaoui", "Bouabdallah", "Hadjadj", "Nait Ali", "Benkhaled", "Abbas", "Chaouche", "Taleb",
]  # fmt: skip
CONSONANTS, VOWELS = "bcdfghjklmnprstvz", "aeiou"


def varied_people(n: int, seed: int = 11) -> list[StagedPerson]:
    """Common first names with varied (generated) last names; 10% near-copies of an earlier name."""
    rng = random.Random(seed)
    firsts = FIRST_NAMES[:40]
    keys: list[str] = []
    for _ in range(n):
        if keys and rng.random() < 0.1:
            key = rng.choice(keys)
            position = rng.randrange(len(key) - 2, len(key))
            key = key[:position] + rng.choice(VOWELS) + key[position + 1 :]
        else:
            last = "".join(rng.choice(CONSONANTS) + rng.choice(VOWELS) for _ in range(rng.randint(2, 4)))
            key = name_key(rng.choice(firsts), last) or ""
        keys.append(key)
    return [person(row_id, key) for row_id, key in enumerate(keys, start=1)]


def common_people(n: int, seed: int = 3) -> list[StagedPerson]:
    """Every name drawn from a fixed pool of 60 x 60 common Algerian first and last names."""
    rng = random.Random(seed)
    pool = [name_key(first, last) for first in FIRST_NAMES for last in LAST_NAMES]
    return [person(row_id, rng.choice(pool)) for row_id in range(1, n + 1)]


class CountingFuzz:
    """Stands in for rapidfuzz.fuzz in the duplicates module: counts the comparisons made."""

    def __init__(self) -> None:
        self.comparisons = 0

    def ratio(self, first: str, second: str, **kwargs: Any) -> float:
        self.comparisons += 1
        return fuzz.ratio(first, second, **kwargs)


def comparisons(monkeypatch: pytest.MonkeyPatch, people: list[StagedPerson]) -> int:
    counter = CountingFuzz()
    with monkeypatch.context() as patch:
        patch.setattr(dup, "fuzz", counter)
        list(similar_name_hints(people, [], CUTOFF, PER_ROW))
    return counter.comparisons


def cpu_seconds(run: Callable[[], object], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        run()
        best = min(best, time.process_time() - start)
    return best


def test_similar_names_scale_near_linearly(monkeypatch: pytest.MonkeyPatch) -> None:
    """Generated last names come from a finite space, so their true near-copies grow faster than
    the rows; the comparisons follow the near-copies found, far from the pairs of rows."""
    small, large = varied_people(5_000), varied_people(20_000)
    all_pairs = len(large) * (len(large) - 1) // 2

    small_comparisons, large_comparisons = comparisons(monkeypatch, small), comparisons(monkeypatch, large)
    assert large_comparisons < all_pairs / 10_000
    assert small_comparisons < len(small) / 4 and large_comparisons < len(large) / 2

    hints = list(similar_name_hints(large, [], CUTOFF, PER_ROW))
    assert len(hints) > 2000  # the near-copies are found
    assert large_comparisons < 2 * len(hints)

    small_time = cpu_seconds(lambda: list(similar_name_hints(small, [], CUTOFF, PER_ROW)), repeat=3)
    large_time = cpu_seconds(lambda: list(similar_name_hints(large, [], CUTOFF, PER_ROW)), repeat=2)
    assert large_time < 10 * max(small_time, 1e-3), (small_time, large_time)


def test_similar_names_on_common_names_finish_far_from_all_pairs(monkeypatch: pytest.MonkeyPatch) -> None:
    large = common_people(20_000)
    all_pairs = len(large) * (len(large) - 1) // 2
    assert comparisons(monkeypatch, large) < all_pairs / 10_000


def test_similar_names_comparisons_grow_subquadratically_on_common_names(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Identical names are grouped before any comparison: the work follows the distinct names."""
    small, large = common_people(5_000), common_people(20_000)
    small_comparisons, large_comparisons = comparisons(monkeypatch, small), comparisons(monkeypatch, large)
    assert large_comparisons < 8 * small_comparisons, (small_comparisons, large_comparisons)

    small_time = cpu_seconds(lambda: list(similar_name_hints(small, [], CUTOFF, PER_ROW)), repeat=3)
    large_time = cpu_seconds(lambda: list(similar_name_hints(large, [], CUTOFF, PER_ROW)), repeat=3)
    assert large_time < 8 * max(small_time, 1e-3), (small_time, large_time)


def test_100k_rows_of_common_names_need_bounded_comparisons(monkeypatch: pytest.MonkeyPatch) -> None:
    people = common_people(100_000)
    distinct = len({p.name_key for p in people})
    assert distinct > 3000

    counter = CountingFuzz()
    monkeypatch.setattr(dup, "fuzz", counter)
    start = time.process_time()
    hints = list(similar_name_hints(people, [], CUTOFF, PER_ROW))
    elapsed = time.process_time() - start

    assert counter.comparisons < 5 * distinct, counter.comparisons
    assert elapsed < 5, elapsed
    earliest: dict[str | None, int] = {}
    for p in people:
        earliest.setdefault(p.name_key, p.row_id)
    same_name = {(h.row_id, h.target_id) for h in hints if h.score == 100}
    assert same_name >= {(p.row_id, earliest[p.name_key]) for p in people if p.row_id != earliest[p.name_key]}
    assert max(Counter(h.row_id for h in hints).values()) <= PER_ROW


# -- strongest --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("confidences", "expected"),
    [
        ([], D.NONE),
        ([D.NONE], D.NONE),
        ([D.LOW], D.LOW),
        ([D.NONE, D.LOW], D.LOW),
        ([D.LOW, D.MEDIUM, D.LOW], D.MEDIUM),
        ([D.LOW, D.HIGH, D.MEDIUM], D.HIGH),
        ([D.HIGH, D.NONE], D.HIGH),
        (["medium", "low"], D.MEDIUM),
    ],
)
def test_strongest(confidences: list[DuplicateConfidence], expected: DuplicateConfidence) -> None:
    assert strongest(confidences) == expected
    assert strongest(iter(confidences)) == expected


def test_a_low_hint_is_dropped_when_a_stronger_one_links_the_same_row_and_target() -> None:
    high = Hint(1, "user", 7, DuplicateConfidence.HIGH, "same_phone_as_user")
    medium = Hint(2, STAGED_ROW, 1, DuplicateConfidence.MEDIUM, "same_name_and_birth_date")
    low = [
        Hint(1, "user", 7, DuplicateConfidence.LOW, "similar_name", 95),  # the high hint's link
        Hint(1, "user", 8, DuplicateConfidence.LOW, "similar_name", 93),
        Hint(2, STAGED_ROW, 1, DuplicateConfidence.LOW, "similar_name", 91),  # the medium one's
        Hint(3, STAGED_ROW, 1, DuplicateConfidence.LOW, "similar_name", 90),
    ]

    kept = list(keep_strongest(iter([high, medium]), iter(low)))

    assert kept == [high, low[1], medium, low[3]]  # row by row, the stronger hints first
