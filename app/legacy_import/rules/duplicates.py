"""Duplicate hints: advisory links from a staged row to a person it may be.

No all-pairs loop: exact matches go through hashing (dicts of groups); similar names are scored
once per pair of distinct names, and only for pairs that share a block (a whole token plus a
near-identical second token, see `build_blocks`).

Every generator here yields its hints in row order (given people in row order), so that they can
be merged into one stream and written in row order: the hints of a batch of rows then sit
together on disk, where the row pass, the dry run and the commit read them batch by batch.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from rapidfuzz import fuzz

from app.legacy_import.vocab import DuplicateConfidence

STAGED_ROW = "staged_row"
CONFIDENCE_ORDER = {
    DuplicateConfidence.NONE: 0,
    DuplicateConfidence.LOW: 1,
    DuplicateConfidence.MEDIUM: 2,
    DuplicateConfidence.HIGH: 3,
}
NON_DIGITS = re.compile(r"\D+")

# Similar names (see `similar_name_hints`).
MIN_TOKEN = 2  # shorter tokens (initials) take no part in blocking
LONG_TOKEN = 8  # a token this long may lose two letters, not one, to meet its variant
# A block holding more distinct names than this is skipped: it is not a family of spellings of one
# name but two tokens that many people carry (particles of long names, e.g. "ait" + "ahmed"), and
# comparing it pair by pair would cost up to MAX_BLOCK**2 / 2 (2 million) comparisons on its own.
# The cap bounds the work at MAX_BLOCK / 2 comparisons per block membership (near-linear in the
# distinct names); the skipped names still meet their variants through their other blocks.
MAX_BLOCK = 2000
SIMILAR_NAME = "similar_name"
SAME_NAME_SCORE = 100

Block = tuple[str, str]
Candidate = tuple[int, str, int]  # (score, target_type, target_id)


class StagedPerson(NamedTuple):
    """A staged row as duplicate matching sees it."""

    row_id: int
    name_key: str | None
    phone: str | None
    email: str | None
    birth_date: dt.date | None
    phone_raw: str | None


class ExistingPerson(NamedTuple):
    """A `users` or `crm_leads` row as duplicate matching sees it."""

    target_type: str
    target_id: int
    name_key: str | None


class Hint(NamedTuple):
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
    """High: a row's phone or valid e-mail equals one carried by an existing user or lead (in
    the people's order)."""
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
    so a group of k rows gives k-1 hints and the commit can treat the group as one person.
    In row order: at most one hint per row."""
    groups: dict[Hashable, list[int]] = defaultdict(list)
    for person in people:
        value = key(person)
        if value is not None:
            groups[value].append(person.row_id)
    links = []
    for row_ids in groups.values():
        first = min(row_ids)
        links += [(row_id, first) for row_id in row_ids if row_id != first]
    for row_id, first in sorted(links):
        yield Hint(row_id, STAGED_ROW, first, confidence, reason)


def raw_phone_key(raw: str | None) -> str | None:
    """The raw phone reduced to its digits, for "same name + same raw phone" (medium)."""
    digits = NON_DIGITS.sub("", raw or "")
    return digits if len(digits) >= 6 else None


@dataclass(slots=True)
class DistinctName:
    """One name key and everyone carrying it: staged rows and existing people, both ascending."""

    key: str
    rows: list[int]
    targets: list[tuple[str, int]]


def similar_name_hints(
    people: Sequence[StagedPerson],
    existing: Sequence[ExistingPerson],
    cutoff: int,
    per_row: int,
) -> Iterator[Hint]:
    """Low: a similar full name, against the run's earlier rows and existing people; at most
    `per_row` hints per row, the best scores first (ties: lowest target), in row order.

    The work is done on distinct name keys, not rows. Rows carrying the same key point at the
    earliest row of that key and at the existing people of that key, score 100. Two distinct
    names are compared only when they share a block (`build_blocks`: one whole token, and another
    token within a letter or so), and once, however many blocks they share (`pair_score`: the
    full names compared with their shared token aligned; token order, accents and case are folded
    into the key). A pair scoring `cutoff` or more links each row of one name to the earliest row
    of the other when that row is earlier, and to the other's existing people. Existing people are
    only ever targets. The output does not depend on the input order.

    Accepted limitations (blocking trades recall for near-linear work): names whose every token
    differs (first and last name both misspelled, "benaliz mohamedd" / "benali mohamed") are never
    compared, nor a one-token name with anything but its identical name, nor names whose other
    tokens differ by more than `deletion_keys` allows; a block of more than MAX_BLOCK names is
    skipped.
    """
    names = distinct_names(people, existing)
    similar = score_similar_pairs(names, build_blocks(names), cutoff)
    candidates: dict[int, list[Candidate]] = {}  # by name, ranked once for all its rows
    for row_id, index in sorted((row_id, index) for index, name in enumerate(names) for row_id in name.rows):
        if index not in candidates:
            candidates[index] = ranked_candidates(index, names, similar, per_row)
        yield from best_hints(row_id, candidates[index], per_row)


# -- distinct names ---------------------------------------------------------------------------------


def canonical_key(name_key: str) -> str:
    """The key with its tokens sorted and single-spaced (name keys already are; cheap insurance)."""
    return " ".join(sorted(name_key.split()))


def distinct_names(people: Iterable[StagedPerson], existing: Iterable[ExistingPerson]) -> list[DistinctName]:
    """Staged rows and existing people grouped by name key, in key order; nameless ones left out."""
    rows: dict[str, set[int]] = defaultdict(set)
    targets: dict[str, set[tuple[str, int]]] = defaultdict(set)
    for person in people:
        if person.name_key and (key := canonical_key(person.name_key)):
            rows[key].add(person.row_id)
    for other in existing:
        if other.name_key and (key := canonical_key(other.name_key)):
            targets[key].add((other.target_type, other.target_id))
    return [
        DistinctName(key, sorted(rows.get(key, ())), sorted(targets.get(key, ())))
        for key in sorted(rows.keys() | targets.keys())
    ]


# -- blocking ---------------------------------------------------------------------------------------


def deletion_keys(token: str) -> frozenset[str]:
    """The token and every spelling left after dropping one of its letters (up to two for tokens
    of LONG_TOKEN letters or more). Two tokens share a key exactly when their longest common
    subsequence is at most that many letters shorter than each: one letter changed (Karim/Carim),
    added or dropped (Lyes/Ilyes), two neighbours swapped; two such for long tokens
    (Khadidja/Kadija). Matching keys by hashing finds these pairs without comparing all
    tokens with each other (SymSpell's symmetric deletions)."""
    keys, frontier = {token}, {token}
    for _ in range(2 if len(token) >= LONG_TOKEN else 1):
        frontier = {word[:i] + word[i + 1 :] for word in frontier for i in range(len(word))}
        keys |= frontier
    return frozenset(keys)


def blocking_tokens(name_key: str) -> list[str]:
    """The tokens that take part in blocking: MIN_TOKEN letters or more (no initials)."""
    return [token for token in name_key.split() if len(token) >= MIN_TOKEN]


def remainder_keys(tokens: Sequence[str], shared: str) -> frozenset[str]:
    """Deletion keys of the tokens left once one occurrence of the shared token is removed.
    (Not cached: a token is looked up once per token block holding its name, and a cache of the
    keys of 100k mostly unique tokens would triple the peak memory for no time saved.)"""
    others = list(tokens)
    others.remove(shared)
    if len(others) == 1:
        return deletion_keys(others[0])
    return frozenset().union(*(deletion_keys(token) for token in others))


def build_blocks(names: Sequence[DistinctName]) -> dict[Block, list[int]]:
    """The blocks where names are compared, as (shared token, deletion key) -> indices into
    `names`, staged names first. Each name goes into one token block per token it carries;
    inside a token block the names are split by the deletion keys of their remaining tokens, so
    two names meet when they share one token exactly and another within a letter or so
    ("haddad karim" / "carim haddad" meet in ("haddad", "arim")). A one-token name has no
    remaining token: no block. Blocks without a staged name give no hint and are not built;
    blocks of one name, or of more than MAX_BLOCK names, are dropped."""
    tokens = [blocking_tokens(name.key) for name in names]
    blocks: dict[Block, list[int]] = {}
    for shared, members in token_blocks(names, tokens).items():
        remainders = [remainder_keys(tokens[index], shared) for index in members]
        joined = keys_met(remainders, [bool(names[index].rows) for index in members])
        by_key: dict[str, list[int]] = defaultdict(list)
        for index, remainder in zip(members, remainders, strict=True):
            for key in remainder & joined:
                by_key[key].append(index)
        blocks.update(((shared, key), found) for key, found in by_key.items() if len(found) <= MAX_BLOCK)
    return blocks


def keys_met(remainders: Sequence[frozenset[str]], staged: Sequence[bool]) -> set[str]:
    """The keys carried by a staged name and at least one other name (staged names first): the
    keys worth a block. Set operations only, so the many keys of one name cost no Python loop."""
    staged_keys: set[str] = set()
    met: set[str] = set()
    for remainder, is_staged in zip(remainders, staged, strict=True):
        met |= remainder & staged_keys
        if is_staged:
            staged_keys |= remainder
    return met


def token_blocks(names: Sequence[DistinctName], tokens: Sequence[Sequence[str]]) -> dict[str, list[int]]:
    """Token -> indices of the names carrying it, staged names first, for the tokens carried by
    a staged name and at least one other name."""
    blocks: dict[str, list[int]] = defaultdict(list)
    for index, name in enumerate(names):
        if name.rows:
            for token in set(tokens[index]):
                blocks[token].append(index)
    for index, name in enumerate(names):
        if not name.rows:
            for token in set(tokens[index]) & blocks.keys():
                blocks[token].append(index)
    return {token: members for token, members in blocks.items() if len(members) > 1}


# -- scoring ----------------------------------------------------------------------------------------


def block_pairs(members: Sequence[int], names: Sequence[DistinctName]) -> Iterator[tuple[int, int]]:
    """Pairs (lower index first) of a block with a staged name on at least one side."""
    for position, first in enumerate(members):
        if not names[first].rows:
            return  # staged names come first: the rest are existing people only
        for second in members[position + 1 :]:
            yield (first, second) if first < second else (second, first)


def score_similar_pairs(
    names: Sequence[DistinctName], blocks: Mapping[Block, Sequence[int]], cutoff: int
) -> dict[int, list[tuple[int, int]]]:
    """Each pair of names meeting in some block, scored once: name -> [(other name, score)] for
    the pairs scoring `cutoff` or more."""
    similar: dict[int, list[tuple[int, int]]] = defaultdict(list)
    compared: set[tuple[int, int]] = set()
    for members in blocks.values():
        for pair in block_pairs(members, names):
            if pair in compared:
                continue
            compared.add(pair)
            first, second = pair
            score = pair_score(names[first].key, names[second].key, cutoff)
            if score >= cutoff:
                similar[first].append((second, score))
                similar[second].append((first, score))
    return similar


def pair_score(first: str, second: str, cutoff: int) -> int:
    """How similar two full names are, 0-100: `fuzz.ratio` of the names written with a token they
    share first and their other tokens sorted after it, the best over the tokens they share (0
    below `cutoff`, or when they share none). Sorting all the tokens instead would let a changed
    first letter reorder them ("carim haddad" / "haddad karim" scores 50, aligned 91); comparing
    only the other tokens would judge a one-letter change against a shorter string (Karim/Carim
    80) and change the meaning of the cutoff, which is about the full names."""
    first_tokens, second_tokens = first.split(), second.split()
    shared_tokens = {token for token in first_tokens if len(token) >= MIN_TOKEN} & set(second_tokens)
    return max(
        (
            int(
                fuzz.ratio(aligned(first_tokens, shared), aligned(second_tokens, shared), score_cutoff=cutoff)
            )
            for shared in shared_tokens
        ),
        default=0,
    )


def aligned(tokens: Sequence[str], shared: str) -> str:
    """The name written with one occurrence of `shared` first, then its other tokens in order."""
    others = list(tokens)
    others.remove(shared)
    return " ".join([shared, *others])


# -- from names back to rows ------------------------------------------------------------------------


def ranked_candidates(
    index: int, names: Sequence[DistinctName], similar: Mapping[int, Sequence[tuple[int, int]]], per_row: int
) -> list[Candidate]:
    """Targets for the rows of one name, best first: the earliest row and the existing people of
    the same name (100), then those of each similar name. Existing people of one name share a
    score, so only the `per_row` lowest of them can ever be kept."""
    found = [(SAME_NAME_SCORE, names[index])]
    found += [(score, names[other]) for other, score in similar.get(index, ())]
    candidates: list[Candidate] = []
    for score, name in found:
        if name.rows:
            candidates.append((score, STAGED_ROW, name.rows[0]))
        candidates += [(score, target_type, target_id) for target_type, target_id in name.targets[:per_row]]
    return sorted(candidates, key=lambda candidate: (-candidate[0], candidate[1], candidate[2]))


def best_hints(row_id: int, candidates: Sequence[Candidate], per_row: int) -> Iterator[Hint]:
    """The first `per_row` candidates a row may point at: a staged row only when it is earlier."""
    kept = 0
    for score, target_type, target_id in candidates:
        if kept == per_row:
            return
        if target_type == STAGED_ROW and target_id >= row_id:
            continue
        kept += 1
        yield Hint(row_id, target_type, target_id, DuplicateConfidence.LOW, SIMILAR_NAME, score)
