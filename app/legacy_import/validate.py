"""Validation of a run: session types, duplicate hints, then each row's validation state."""

from __future__ import annotations

import heapq
import operator
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from itertools import chain, groupby, islice
from typing import Any

from sqlalchemy import String, any_, bindparam, case, delete, func, or_, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.crm.models import CrmLead
from app.legacy_import.bulk import analyze, insert_tuples, update_rows
from app.legacy_import.models import HINTS, LegacyImportRun
from app.legacy_import.normalize import name_key
from app.legacy_import.phases import STUDENTS, TRAININGS, Phase, StepContext, finish_batch, student_batches
from app.legacy_import.prefetch import prefetched
from app.legacy_import.queue_counts import QueueKey, add_to_counts, count_change, queue_keys, rows_keys
from app.legacy_import.references import RunReferences, type_session_mappings
from app.legacy_import.rules import duplicates as dup
from app.legacy_import.rules.plan import REJECTED
from app.legacy_import.rules.validation import RowFacts, validate
from app.legacy_import.runs import lock_run
from app.legacy_import.settings import RuleSettings
from app.legacy_import.vocab import DuplicateConfidence, RunStatus

LOOKUP_CHUNK = 1000
LOOKUP_CHUNK_POSTGRESQL = 20_000
EXISTING = (("user", User), ("crm_lead", CrmLead))


def validation_phase(settings: RuleSettings) -> Phase:
    return Phase(
        name="validate",
        working=RunStatus.VALIDATING,
        done=RunStatus.VALIDATED,
        starts_from=frozenset(
            {RunStatus.INGESTED, RunStatus.VALIDATED, RunStatus.CLASSIFIED, RunStatus.DRY_RUN_READY}
        ),
        steps=(
            ("session_types", type_sessions),
            ("duplicate_hints", lambda context: hint_duplicates(context, settings)),
            ("validation", validate_rows),
        ),
    )


# -- sessions -------------------------------------------------------------------------------


def type_sessions(context: StepContext) -> None:
    """Give every staged session mapping of the run its session type (the import did, unless
    the run was staged before it did)."""
    type_session_mappings(context.session, context.run_id)
    context.session.commit()


# -- duplicate hints --------------------------------------------------------------------------


def hint_duplicates(context: StepContext, settings: RuleSettings) -> None:
    """Replace the run's hints, in one transaction: a failure leaves the previous ones.

    Everything the rules need is read first; the hints are then found in a thread while the
    ones found before are written, in row order (each rule gives its hints in row order, and
    they are merged)."""
    session, run_id = context.session, context.run_id
    people = staged_people(session, run_id)
    shared_phones = dup.shared_contacts(people, lambda p: p.phone, settings.shared_contact_threshold)
    shared_emails = dup.shared_contacts(people, lambda p: p.email, settings.shared_contact_threshold)
    placeholders = shared_phones | shared_emails
    stronger = heapq.merge(
        dup.existing_contact_hints(
            people,
            existing_by(session, "phone", {p.phone for p in people if p.phone} - placeholders),
            existing_by(session, "email", {p.email for p in people if p.email} - placeholders),
            placeholders,
        ),
        dup.in_run_group_hints(
            people,
            lambda p: _unless_shared(p.phone, shared_phones),
            DuplicateConfidence.HIGH,
            "same_phone_in_run",
        ),
        dup.in_run_group_hints(
            people,
            lambda p: _unless_shared(p.email, shared_emails),
            DuplicateConfidence.HIGH,
            "same_email_in_run",
        ),
        dup.in_run_group_hints(
            people,
            lambda p: (p.name_key, p.birth_date) if p.name_key and p.birth_date else None,
            DuplicateConfidence.MEDIUM,
            "same_name_and_birth_date",
        ),
        dup.in_run_group_hints(
            people,
            lambda p: (p.name_key, dup.raw_phone_key(p.phone_raw))
            if p.name_key and dup.raw_phone_key(p.phone_raw)
            else None,
            DuplicateConfidence.MEDIUM,
            "same_name_and_raw_phone",
        ),
        key=HINT_ROW,
    )
    similar = dup.similar_name_hints(
        people, existing_people(session), settings.similar_name_cutoff, settings.similar_names_per_row
    )
    decisions = reviewer_decisions(session, run_id)
    session.execute(delete(HINTS).where(HINTS.c.import_run_id == run_id))
    rows = (
        (run_id, *h, *decisions.get((h.row_id, h.target_type, h.target_id), NO_DECISION))
        for h in keep_strongest(stronger, similar)
    )
    for chunk in prefetched(chunked(rows, 5000)):
        insert_tuples(session, HINTS, HINT_COLUMNS, chunk)
    run = session.get(LegacyImportRun, run_id)
    assert run is not None
    run.shared_contacts = {"phones": sorted(shared_phones), "emails": sorted(shared_emails)}
    session.commit()
    analyze(session, {HINTS: ("import_run_id", "student_import_id", "confidence", "decision")})


# A hint's row: its run, the `dup.Hint` fields in their order, then the reviewer's decision it
# carries over from an earlier validation (`reviewer_decisions`).
HINT_COLUMNS = (
    "import_run_id",
    "student_import_id",
    "target_type",
    "target_id",
    "confidence",
    "reason",
    "score",
    "decision",
    "decided_by_id",
    "decided_at",
)
NO_DECISION = (None, None, None)
HINT_ROW = operator.itemgetter(0)  # a `dup.Hint`'s row id


def reviewer_decisions(session: Session, run_id: int) -> dict[tuple[int, str, int], tuple[Any, ...]]:
    """Reviewers' confirm/reject decisions on the run's hints, to carry over to the new hints
    that link the same row to the same target when validation runs again."""
    query = select(
        HINTS.c.student_import_id,
        HINTS.c.target_type,
        HINTS.c.target_id,
        HINTS.c.decision,
        HINTS.c.decided_by_id,
        HINTS.c.decided_at,
    ).where(HINTS.c.import_run_id == run_id, HINTS.c.decision.is_not(None))
    return {
        (row.student_import_id, row.target_type, row.target_id): (
            row.decision,
            row.decided_by_id,
            row.decided_at,
        )
        for row in session.execute(query)
    }


def _unless_shared(value: str | None, shared: set[str]) -> str | None:
    return value if value and value not in shared else None


def keep_strongest(stronger: Iterable[dup.Hint], low: Iterable[dup.Hint]) -> Iterator[dup.Hint]:
    """Both streams, each in row order, merged: each row's stronger hints, then its low ones to
    targets that no stronger hint of the row already links it to. One pass, remembering one
    row's links at a time."""
    for _, row_hints in groupby(heapq.merge(stronger, low, key=HINT_ROW), key=HINT_ROW):
        linked: set[tuple[str, int]] = set()
        for hint in row_hints:  # the stronger ones first: `merge` takes ties from its first stream
            link = (hint.target_type, hint.target_id)
            if hint.confidence is not DuplicateConfidence.LOW:
                linked.add(link)
                yield hint
            elif link not in linked:
                yield hint


def staged_people(session: Session, run_id: int) -> list[dup.StagedPerson]:
    query = (
        select(
            STUDENTS.c.id,
            STUDENTS.c.name_key,
            STUDENTS.c.phone_normalized,
            STUDENTS.c.email_normalized,
            STUDENTS.c.birth_date,
            STUDENTS.c.phone_raw,
        )
        .where(STUDENTS.c.import_run_id == run_id)
        .order_by(STUDENTS.c.id)
    )
    return [dup.StagedPerson(*row) for row in session.execute(query)]


def existing_by(session: Session, column: str, values: set[str]) -> dict[str, list[tuple[str, int]]]:
    """Existing users and leads carrying one of `values`, by indexed lookups in chunks."""
    found: dict[str, list[tuple[str, int]]] = defaultdict(list)
    ordered = sorted(values)
    on_postgresql = session.get_bind().dialect.name == "postgresql"
    for target_type, model in EXISTING:
        attribute = getattr(model, column)
        for chunk in chunked(ordered, LOOKUP_CHUNK_POSTGRESQL if on_postgresql else LOOKUP_CHUNK):
            # PostgreSQL: one array parameter (= ANY), not thousands of placeholders to parse.
            wanted = (
                attribute == any_(bindparam("wanted", chunk, type_=ARRAY(String)))
                if on_postgresql
                else attribute.in_(chunk)
            )
            for value, target_id in session.execute(select(attribute, model.id).where(wanted)):
                found[value].append((target_type, target_id))
    return found


def existing_people(session: Session) -> list[dup.ExistingPerson]:
    people = []
    keys: dict[tuple[str | None, str | None], str | None] = {}  # many people share a full name
    for target_type, model in EXISTING:
        for target_id, first, last in session.execute(select(model.id, model.first_name, model.last_name)):
            if (first, last) not in keys:
                keys[(first, last)] = name_key(first, last)
            people.append(dup.ExistingPerson(target_type, target_id, keys[(first, last)]))
    return people


def chunked(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


# -- row validation ---------------------------------------------------------------------------

ROW_COLUMNS = (
    STUDENTS.c.legacy_id,
    STUDENTS.c.first_name,
    STUDENTS.c.last_name,
    STUDENTS.c.phone_normalized,
    STUDENTS.c.email_normalized,
    STUDENTS.c.email_status,
    STUDENTS.c.status_text,
    STUDENTS.c.legacy_formation_id,
    STUDENTS.c.legacy_session_id,
    TRAININGS.c.id.label("training_id"),
    TRAININGS.c.session_type.label("training_session_type"),
)
# What a row counts in the review queue before validation changes it (`queue_change`).
QUEUE_COLUMNS = (
    STUDENTS.c.id,
    STUDENTS.c.validation_state,
    STUDENTS.c.validation_reasons,
    STUDENTS.c.review_decision,
)


@dataclass(frozen=True)
class DecidedBatch:
    """A batch of rows with their validation decided, ready to be written."""

    first_id: int
    last_id: int
    students: list[dict[str, Any]]  # one per row of the batch
    trainings: list[dict[str, Any]]


def validate_rows(context: StepContext) -> None:
    """Each row's validation state and reasons, its strongest hint, and its training's session
    type (written only where the import's differs); the review queue's counts change with the
    rows, in the batch's transaction.

    The next batch is read and decided in a thread, on a connection of its own, while this one
    is written: the two halves wait on the database in turn, and PostgreSQL can serve both at
    once. What the decisions read, validation alone writes; a reviewer's decisions (the rows'
    and the hints') apply as if made just after the batch. The write takes the run's lock, as
    review actions do, and reads the rows' place in the queue under it."""
    session = context.session
    for decided in prefetched(decided_batches(context, session.get_bind())):
        lock_run(session, context.run_id)
        queued_before = session.execute(
            select(*QUEUE_COLUMNS)
            .where(
                STUDENTS.c.import_run_id == context.run_id,
                STUDENTS.c.id.between(decided.first_id, decided.last_id),
            )
            .order_by(STUDENTS.c.id)
        ).all()
        update_rows(session, STUDENTS, decided.students)
        update_rows(session, TRAININGS, decided.trainings)
        add_to_counts(session, context.run_id, queue_change(queued_before, decided.students))
        finish_batch(context, decided.last_id, len(decided.students))
    analyze(session, VALIDATED_COLUMNS)


# What the review pages look validated rows up by: the states validation decides, and the
# names a search matches (the name-search index holds validated rows only, and the statistics
# of its expression come with `name_key`'s).
VALIDATED_COLUMNS = {
    STUDENTS: (
        "import_run_id",
        "validation_state",
        "duplicate_confidence",
        "review_decision",
        "last_name",
        "name_key",
    )
}


def decided_batches(context: StepContext, bind: Engine | Connection) -> Iterator[DecidedBatch]:
    """The run's rows after the step's checkpoint, their validation decided, batch by batch,
    read through a session of their own on `bind` (`validate_rows` runs this in its prefetch
    thread)."""
    with Session(bind) as session:
        references = RunReferences.load(session, context.run_id)
        run = session.get(LegacyImportRun, context.run_id)
        shared = set(chain.from_iterable((run.shared_contacts or {}).values())) if run else set()
        reading = replace(context, session=session, progress=None)
        for batch in student_batches(reading, ROW_COLUMNS):
            hints = hint_summaries(session, context.run_id, batch[0].id, batch[-1].id)
            session.rollback()  # no snapshot held while the batch waits to be written
            yield decide_batch(batch, hints, shared, references)


def decide_batch(
    batch: Sequence[Any], hints: dict[int, HintSummary], shared: set[str], references: RunReferences
) -> DecidedBatch:
    students, trainings = [], []
    for row in batch:
        row_hints = hints.get(row.id, NO_HINT)
        session_decision = references.session_decision(row.legacy_session_id)
        facts = row_facts(row, row_hints, shared, references, session_decision.rule == "dangling_session")
        state, reasons = validate(facts)
        students.append(
            {
                "b_id": row.id,
                "validation_state": state,
                "validation_reasons": list(reasons),
                "duplicate_confidence": row_hints.strongest,
            }
        )
        if row.training_id is not None and row.training_session_type != session_decision.session_type:
            trainings.append({"b_id": row.training_id, "session_type": session_decision.session_type})
    return DecidedBatch(batch[0].id, batch[-1].id, students, trainings)


def queue_change(queued_before: Sequence[Any], students: list[dict[str, Any]]) -> Counter[QueueKey]:
    """How the batch's new states and reasons move its rows between the review queue's groups
    (a reviewer's decision stays with the row)."""
    decided = {new["b_id"]: new for new in students}
    after = [
        key
        for row in queued_before
        for key in queue_keys(
            decided[row.id]["validation_state"],
            decided[row.id]["validation_reasons"],
            row.review_decision is None,
        )
    ]
    return count_change(rows_keys(queued_before), after)


@dataclass(frozen=True)
class HintSummary:
    """What validation needs of a row's hints (a hint a reviewer rejected is not the same person
    and no longer counts)."""

    strongest: DuplicateConfidence = DuplicateConfidence.NONE
    high_user: bool = False  # a high hint to an existing user
    high_lead: bool = False  # a high hint to an existing CRM lead
    medium: bool = False


NO_HINT = HintSummary()
CONFIDENCE_RANK = {DuplicateConfidence.LOW: 1, DuplicateConfidence.MEDIUM: 2, DuplicateConfidence.HIGH: 3}
CONFIDENCE_OF_RANK = {rank: confidence for confidence, rank in CONFIDENCE_RANK.items()}


def hint_summaries(session: Session, run_id: int, first_id: int, last_id: int) -> dict[int, HintSummary]:
    """The hint summary of each of the run's rows `first_id`..`last_id` that has hints, summed up
    by the database: one row per staged row instead of every hint. (A range, not an IN list of
    ids: PostgreSQL then walks the index instead of scanning every run's hints.)"""
    high = HINTS.c.confidence == DuplicateConfidence.HIGH

    def any_of(condition: Any) -> Any:
        return func.max(case((condition, 1), else_=0))

    query = (
        select(
            HINTS.c.student_import_id,
            func.max(case(CONFIDENCE_RANK, value=HINTS.c.confidence, else_=0)),
            any_of(high & (HINTS.c.target_type == "user")),
            any_of(high & (HINTS.c.target_type == "crm_lead")),
            any_of(HINTS.c.confidence == DuplicateConfidence.MEDIUM),
        )
        .where(
            HINTS.c.import_run_id == run_id,
            HINTS.c.student_import_id.between(first_id, last_id),
            or_(HINTS.c.decision.is_(None), HINTS.c.decision != REJECTED),
        )
        .group_by(HINTS.c.student_import_id)
    )
    return {
        row_id: HintSummary(CONFIDENCE_OF_RANK[rank], bool(user), bool(lead), bool(medium))
        for row_id, rank, user, lead, medium in session.execute(query)
    }


def row_facts(
    row: Any,
    hints: HintSummary,
    shared: set[str],
    references: RunReferences,
    dangling_session: bool,
) -> RowFacts:
    return RowFacts(
        has_legacy_id=row.legacy_id is not None,
        has_name=bool(row.first_name or row.last_name),
        phone_usable=bool(row.phone_normalized) and row.phone_normalized not in shared,
        email_usable=row.email_status == "valid" and row.email_normalized not in shared,
        classification=references.classify(
            row.status_text, row.legacy_formation_id, row.legacy_session_id
        ).classification,
        existing_match="user" if hints.high_user else ("crm_lead" if hints.high_lead else None),
        medium_hint=hints.medium,
        dangling_formation=references.dangling_formation(row.legacy_formation_id),
        dangling_session=dangling_session,
    )
