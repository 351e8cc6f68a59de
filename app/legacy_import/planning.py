"""Planning rows for a commit: the one code path the dry run tallies and the commit acts on."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from app.legacy_import.models import HINTS, LegacyCourseMapping
from app.legacy_import.phases import STUDENTS
from app.legacy_import.references import RunReferences
from app.legacy_import.rules import plan
from app.legacy_import.rules.duplicates import STAGED_ROW
from app.legacy_import.vocab import DuplicateConfidence

ROW_COLUMNS = (
    STUDENTS.c.classification,
    STUDENTS.c.validation_state,
    STUDENTS.c.legacy_formation_id,
    STUDENTS.c.legacy_session_id,
    STUDENTS.c.review_decision,
    STUDENTS.c.classification_override,
)
EXISTING_PREFERENCE = {"user": 0, "crm_lead": 1}  # a row tied to both is linked to the user


@dataclass(frozen=True)
class RowPlan:
    row_id: int
    planned: plan.PlannedRow
    person: int  # the first row of the same person in the run (the row itself if none)
    existing: tuple[str, int] | None  # the user or lead the row is tied to
    formation_id: int | None  # the row's formation, its own or its session's


@dataclass
class Planner:
    """Plans rows in id order; remembers which people already get a lead, so that the first
    row of a person creates it and later rows of that person link to it."""

    session: Session
    run_id: int
    references: RunReferences
    course_decisions: dict[int, str]
    people_with_lead: set[int] = field(default_factory=set)

    @classmethod
    def load(cls, session: Session, run_id: int) -> Planner:
        decisions = session.execute(
            select(LegacyCourseMapping.legacy_formation_id, LegacyCourseMapping.decision).where(
                LegacyCourseMapping.import_run_id == run_id
            )
        )
        return cls(session, run_id, RunReferences.load(session, run_id), {fid: d for fid, d in decisions})

    def plan(self, rows: Sequence[Any]) -> list[RowPlan]:
        existing, same_person = row_links(self.session, [row.id for row in rows], self.run_id)
        plans = []
        for row in rows:
            person = same_person.get(row.id, row.id)
            formation_id = self.references.formation_of(row.legacy_formation_id, row.legacy_session_id)
            planned = plan.plan_row(
                row.classification,
                row.validation_state,
                row.id in existing,
                person in self.people_with_lead,
                self.course_decisions.get(formation_id) if formation_id is not None else None,
                review_decision=row.review_decision,
                classification_override=row.classification_override,
            )
            if planned.outcome == plan.CREATE_LEAD:
                self.people_with_lead.add(person)
            plans.append(RowPlan(row.id, planned, person, existing.get(row.id), formation_id))
        return plans


def row_links(
    session: Session, row_ids: Iterable[int], run_id: int | None = None
) -> tuple[dict[int, tuple[str, int]], dict[int, int]]:
    """Each row's tie to an existing user or lead, and its first row of the same person in the
    run: by high hints that no reviewer rejected, and by any hint a reviewer confirmed. With
    `run_id`, the rows are a batch in id order, read as a range of the run (index-friendly)."""
    keep = list(row_ids)
    if not keep:
        return {}, {}
    wanted = (
        and_(HINTS.c.import_run_id == run_id, HINTS.c.student_import_id.between(keep[0], keep[-1]))
        if run_id is not None
        else HINTS.c.student_import_id.in_(keep)
    )
    query = select(
        HINTS.c.student_import_id,
        HINTS.c.target_type,
        HINTS.c.target_id,
        HINTS.c.confidence,
        HINTS.c.decision,
    ).where(wanted, or_(HINTS.c.confidence == DuplicateConfidence.HIGH, HINTS.c.decision == plan.CONFIRMED))
    keep_set = set(keep)
    existing: dict[int, tuple[str, int]] = {}
    first_rows: dict[int, list[int]] = defaultdict(list)
    for row_id, target_type, target_id, confidence, decision in session.execute(query):
        if row_id not in keep_set or not plan.hint_links(confidence, decision):
            continue
        if target_type == STAGED_ROW:
            first_rows[row_id].append(target_id)
        elif row_id not in existing or _preferred((target_type, target_id), existing[row_id]):
            existing[row_id] = (target_type, target_id)
    return existing, {row_id: min(targets) for row_id, targets in first_rows.items()}


def _preferred(candidate: tuple[str, int], current: tuple[str, int]) -> bool:
    rank = (EXISTING_PREFERENCE.get(candidate[0], 9), candidate[1])
    return rank < (EXISTING_PREFERENCE.get(current[0], 9), current[1])
