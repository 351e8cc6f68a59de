"""Duplicate hints: advisory links from a staged row to a person it may be.

No all-pairs loop: exact matches go through hashing (dicts of groups), similar names through
blocking on token prefixes, then rapidfuzz inside each block only.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations

from rapidfuzz import fuzz, process

from app.legacy_import.vocab import DuplicateConfidence

STAGED_ROW = "staged_row"
CONFIDENCE_ORDER = {
    DuplicateConfidence.NONE: 0,
    DuplicateConfidence.LOW: 1,
    DuplicateConfidence.MEDIUM: 2,
    DuplicateConfidence.HIGH: 3,
}
NON_DIGITS = re.compile(r"\D+")


@dataclass(frozen=True, slots=True)
class StagedPerson:
    """A staged row as duplicate matching sees it."""

    row_id: int
    name_key: str | None
    phone: str | None
    email: str | None
    birth_date: dt.date | None
    phone_raw: str | None


@dataclass(frozen=True, slots=True)
class ExistingPerson:
    """A `users` or `crm_leads` row as duplicate matching sees it."""

    target_type: str
    target_id: int
    name_key: str | None


@dataclass(frozen=True, slots=True)
class Hint:
    row_id: int
    target_type: str
    target_id: int
    confidence: DuplicateConfidence
    reason: str
    score: int | None = None


def strongest(confidences: Iterable[DuplicateConfidence]) -> DuplicateConfidence:
    return max(confidences, key=CONFIDENCE_ORDER.__getitem__, default=DuplicateConfidence.NONE)


def shared_contacts(
    people: Iterable[StagedPerson], contact: Callable[[StagedPerson], str | None], threshold: int
) -> set[str]:
    """Phones (or e-mails) that `threshold` or more different people of the run carry: the
    school's own number or address, a placeholder rather than anyone's contact."""
    owners: dict[str, set[Hashable]] = defaultdict(set)
    for person in people:
        value = contact(person)
        if value:
            owners[value].add(person.name_key or ("row", person.row_id))
    return {value for value, names in owners.items() if len(names) >= threshold}


def existing_contact_hints(
    people: Iterable[StagedPerson],
    phones: Mapping[str, Sequence[tuple[str, int]]],
    emails: Mapping[str, Sequence[tuple[str, int]]],
    placeholders: set[str],
) -> Iterator[Hint]:
    """High: a row's phone or valid e-mail equals one carried by an existing user or lead."""
    for person in people:
        for value, index, kind in ((person.phone, phones, "phone"), (person.email, emails, "email")):
            if not value or value in placeholders:
                continue
            for target_type, target_id in index.get(value, ()):
                yield Hint(
                    person.row_id,
                    target_type,
                    target_id,
                    DuplicateConfidence.HIGH,
                    f"same_{kind}_as_{target_type}",
                )


def in_run_group_hints(
    people: Iterable[StagedPerson],
    key: Callable[[StagedPerson], Hashable | None],
    confidence: DuplicateConfidence,
    reason: str,
) -> Iterator[Hint]:
    """Rows sharing a key are linked to the first row of their group (a star, not a clique),
    so a group of k rows gives k-1 hints and the commit can treat the group as one person."""
    groups: dict[Hashable, list[int]] = defaultdict(list)
    for person in people:
        value = key(person)
        if value is not None:
            groups[value].append(person.row_id)
    for row_ids in groups.values():
        first, *others = sorted(row_ids)
        for row_id in others:
            yield Hint(row_id, STAGED_ROW, first, confidence, reason)


def raw_phone_key(raw: str | None) -> str | None:
    """The raw phone reduced to its digits, for "same name + same raw phone" (medium)."""
    digits = NON_DIGITS.sub("", raw or "")
    return digits if len(digits) >= 6 else None


def block_keys(name_key: str, prefix: int = 3) -> set[str]:
    """Blocking keys of a name: each pair of token prefixes (one prefix for one-token names).
    Names that share no pair never meet, which keeps comparisons near-linear."""
    tokens = sorted({token[:prefix] for token in name_key.split()})
    if len(tokens) == 1:
        return {tokens[0]}
    return {f"{a}|{b}" for a, b in combinations(tokens, 2)}


def similar_name_hints(
    people: Sequence[StagedPerson],
    existing: Sequence[ExistingPerson],
    cutoff: int,
    per_row: int,
) -> Iterator[Hint]:
    """Low: a similar full name (token order, accents and case already folded into the name
    key), against the run's other rows and existing people; at most `per_row` best per row."""
    entries = [(STAGED_ROW, p.row_id, p.name_key) for p in people if p.name_key]
    entries += [(e.target_type, e.target_id, e.name_key) for e in existing if e.name_key]
    blocks: dict[str, list[int]] = defaultdict(list)
    for index, (_, _, name) in enumerate(entries):
        for block in block_keys(name):
            blocks[block].append(index)
    best: dict[int, dict[tuple[str, int], int]] = defaultdict(dict)
    for members in blocks.values():
        if len(members) > 1:
            _score_block(entries, members, cutoff, best, per_row)
    for row_id, targets in best.items():
        for (target_type, target_id), score in targets.items():
            yield Hint(row_id, target_type, target_id, DuplicateConfidence.LOW, "similar_name", score)


def _score_block(
    entries: list[tuple[str, int, str]],
    members: list[int],
    cutoff: int,
    best: dict[int, dict[tuple[str, int], int]],
    per_row: int,
) -> None:
    names = [entries[i][2] for i in members]
    for position, index in enumerate(members):
        source_type, source_id, name = entries[index]
        if source_type != STAGED_ROW:
            continue
        matches = process.extract(name, names, scorer=fuzz.token_sort_ratio, score_cutoff=cutoff, limit=None)
        found = best[source_id]
        for _, score, other in matches:
            target_type, target_id, _ = entries[members[other]]
            if other == position or (target_type == STAGED_ROW and target_id >= source_id):
                continue  # one direction per pair of staged rows: the later row points at the earlier
            found[(target_type, target_id)] = max(found.get((target_type, target_id), 0), int(score))
        if len(found) > per_row:
            best[source_id] = dict(sorted(found.items(), key=lambda item: (-item[1], item[0]))[:per_row])
