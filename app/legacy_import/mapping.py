"""Course and session mappings: which current course a legacy formation is, which cohort (or
placeholder rule) a legacy session is. Suggestions are computed; decisions are a reviewer's,
each one audited.

Suggestion score (0-100) of a legacy name against a course name, both folded (mojibake
repaired, accents, case and punctuation ignored) and cut into words without French stop words:
the mean of
* a word score: how well the words of each name find a close word (rapidfuzz ratio >= 80) in
  the other, the two coverages combined as an F1, each word counting once, so that two names
  sharing only a long first word ("Développement web" / "Développement mobile") stay apart;
* a whole-name score: rapidfuzz `token_sort_ratio`, which forgives typos and word order.
Same name: 100; typos: ~85-95; a variant with extra words ("... - cours du soir"): ~70;
unrelated names: under 60, the cutoff below which nothing is suggested; 60-70 is a weak
suggestion (names sharing one word), shown as such.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from rapidfuzz import fuzz, utils
from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from app.audit.services import record
from app.catalog.models import Cohort, Course
from app.legacy_import.models import LegacyCourseMapping, LegacySessionMapping
from app.legacy_import.normalize import fold_text
from app.legacy_import.review import ReviewError, ensure_run_open
from app.legacy_import.vocab import SessionType
from app.models_base import utcnow

STOP_WORDS = frozenset(
    {"a", "au", "aux", "avec", "d", "de", "des", "du", "en", "et", "l", "la", "le", "les", "pour", "sur"}
)
WORD_MATCH = 80.0
SUGGESTION_CUTOFF = 60.0
HIGH_CONFIDENCE, MEDIUM_CONFIDENCE = 90.0, 70.0

# Course mapping decisions (the plan reads "mapped" and "legacy_only" as reviewed).
PENDING, MAPPED, LEGACY_ONLY = "pending", "mapped", "legacy_only"
ACCEPT, CHANGE = "accept", "change"
COURSE_DECISIONS = (ACCEPT, CHANGE, LEGACY_ONLY)
# Session mapping decisions: a cohort, or the placeholder rule (no cohort: the training keeps
# its legacy session; waiting and placeholder sessions can only take this one).
PLACEHOLDER = "placeholder"
COHORT = "cohort"
SESSION_DECISIONS = (COHORT, PLACEHOLDER)


class MappingError(Exception):
    """A mapping decision that was refused, nothing changed; the message is for the reviewer."""


# -- suggestion scoring (pure) ------------------------------------------------------------------


def name_words(name: object) -> tuple[str, ...]:
    words = utils.default_process(fold_text(name)).split()
    kept = tuple(word for word in words if word not in STOP_WORDS)
    return kept or tuple(words)


def words_score(words: Sequence[str], others: Sequence[str]) -> float:
    if not words or not others:
        return 0.0
    covered, reached = _coverage(words, others), _coverage(others, words)
    return 0.0 if covered + reached == 0 else 2 * covered * reached / (covered + reached)


def _coverage(words: Sequence[str], others: Sequence[str]) -> float:
    best = (max(fuzz.ratio(word, other) for other in others) for word in words)
    return sum(score if score >= WORD_MATCH else 0.0 for score in best) / len(words)


def score_words(words: Sequence[str], others: Sequence[str]) -> float:
    if not words or not others:
        return 0.0
    whole = fuzz.token_sort_ratio(" ".join(words), " ".join(others))
    return round((words_score(words, others) + whole) / 2, 1)


def name_score(name: object, other: object) -> float:
    """How alike two formation/course names are, 0-100 (see the module's docstring)."""
    return score_words(name_words(name), name_words(other))


@dataclass(frozen=True)
class Suggestion:
    course_id: int
    score: float


def best_match(name: object, courses: Iterable[tuple[int, tuple[str, ...]]]) -> Suggestion | None:
    """The closest course to `name` among (course id, course name words), however far; ties go
    to the lower course id, so that the answer is stable."""
    words = name_words(name)
    best: Suggestion | None = None
    for course_id, course_words in courses:
        score = score_words(words, course_words)
        if best is None or score > best.score or (score == best.score and course_id < best.course_id):
            best = Suggestion(course_id, score)
    return best


def suggest(
    name: object, courses: Iterable[tuple[int, tuple[str, ...]]], cutoff: float = SUGGESTION_CUTOFF
) -> Suggestion | None:
    """The closest course, or None when even that one scores under `cutoff`."""
    best = best_match(name, courses)
    return best if best is not None and best.score >= cutoff else None


def confidence(score: float | None) -> str | None:
    if score is None:
        return None
    if score >= HIGH_CONFIDENCE:
        return "high"
    return "medium" if score >= MEDIUM_CONFIDENCE else "low"


# -- course mappings ----------------------------------------------------------------------------


def active_courses(session: Session) -> list[Course]:
    return list(session.scalars(select(Course).where(Course.is_active.is_(True)).order_by(Course.name)))


def suggest_courses(session: Session, run_id: int, actor_id: int | None = None) -> int:
    """Store the closest active course and its score on every course mapping of the run (only the
    score when it is under the cutoff); decisions are left alone. Returns how many mappings got a
    suggestion. Commits."""
    ensure_open(session, run_id)
    courses = [(course.id, name_words(course.name)) for course in active_courses(session)]
    mappings = session.scalars(select(LegacyCourseMapping).where(LegacyCourseMapping.import_run_id == run_id))
    suggested = total = 0
    for mapping in mappings:
        total += 1
        best = best_match(mapping.legacy_name, courses)
        close = best is not None and best.score >= SUGGESTION_CUTOFF
        mapping.suggested_course_id = best.course_id if best and close else None
        mapping.suggestion_score = best.score if best else 0.0  # the best score, even when too low
        suggested += close
    record(
        session,
        "legacy_import.course_mapping.suggest",
        object_type="legacy_import_run",
        object_id=run_id,
        actor_id=actor_id,
        details={"run_id": run_id, "mappings": total, "suggested": suggested, "courses": len(courses)},
    )
    session.commit()
    return suggested


def decide_course(
    session: Session,
    run_id: int,
    mapping_id: int,
    decision: str,
    actor_id: int | None,
    course_id: int | None = None,
) -> LegacyCourseMapping:
    """Accept the suggestion, change to another course, or keep the formation as legacy only
    (its completed trainings are kept without a current course). Audited; commits."""
    ensure_open(session, run_id)
    mapping = _mapping(session, LegacyCourseMapping, run_id, mapping_id)
    if decision == ACCEPT:
        if mapping.suggested_course_id is None:
            raise MappingError("Aucune suggestion à accepter pour cette formation.")
        course_id = mapping.suggested_course_id
    elif decision == CHANGE:
        course = session.get(Course, course_id) if course_id is not None else None
        if course is None or not course.is_active:
            raise MappingError("Choisissez une formation actuelle.")
    elif decision == LEGACY_ONLY:
        course_id = None
    else:
        raise MappingError("Décision inconnue.")
    before = {"decision": mapping.decision, "course_id": mapping.course_id}
    mapping.decision = MAPPED if decision in (ACCEPT, CHANGE) else LEGACY_ONLY
    mapping.course_id = course_id
    _reviewed(mapping, actor_id)
    details = {"legacy_formation_id": mapping.legacy_formation_id}
    if decision == ACCEPT:
        details["suggestion_score"] = mapping.suggestion_score
    _audit(
        session,
        f"legacy_import.course_mapping.{decision}",
        mapping,
        actor_id,
        before,
        {"decision": mapping.decision, "course_id": mapping.course_id},
        details,
    )
    session.commit()
    return mapping


# -- session mappings ---------------------------------------------------------------------------


def cohort_allowed(session_type: str | None) -> bool:
    """Only a real session may become a cohort: never a waiting or placeholder session (nor one
    of unknown type)."""
    return session_type == SessionType.REAL_SESSION


def decide_session(
    session: Session,
    run_id: int,
    mapping_id: int,
    decision: str,
    actor_id: int | None,
    cohort_id: int | None = None,
) -> LegacySessionMapping:
    """Map a legacy session to an existing cohort, or to the placeholder rule. Audited; commits."""
    ensure_open(session, run_id)
    mapping = _mapping(session, LegacySessionMapping, run_id, mapping_id)
    if decision == COHORT:
        _check_cohort(session, mapping, cohort_id)
    elif decision == PLACEHOLDER:
        cohort_id = None
    else:
        raise MappingError("Décision inconnue.")
    before = {"decision": mapping.decision, "cohort_id": mapping.cohort_id}
    mapping.decision = MAPPED if decision == COHORT else PLACEHOLDER
    mapping.cohort_id = cohort_id
    _reviewed(mapping, actor_id)
    _audit(
        session,
        f"legacy_import.session_mapping.{decision}",
        mapping,
        actor_id,
        before,
        {"decision": mapping.decision, "cohort_id": mapping.cohort_id},
        {"legacy_session_id": mapping.legacy_session_id, "session_type": mapping.session_type},
    )
    session.commit()
    return mapping


WHY_NO_COHORT = {
    SessionType.WAITING_SESSION: "Une session d'attente ne peut jamais devenir une cohorte.",
    SessionType.PLACEHOLDER_SESSION: "Une session sans formation valide ne peut jamais devenir une cohorte.",
}


def _check_cohort(session: Session, mapping: LegacySessionMapping, cohort_id: int | None) -> None:
    if not cohort_allowed(mapping.session_type):
        raise MappingError(
            WHY_NO_COHORT.get(
                mapping.session_type,  # type: ignore[call-overload]
                "Seule une session réelle (validée) peut être associée à une cohorte.",
            )
        )
    cohort = session.get(Cohort, cohort_id) if cohort_id is not None else None
    if cohort is None:
        raise MappingError("Choisissez une cohorte.")
    course_id = session.scalar(
        select(LegacyCourseMapping.course_id).where(
            LegacyCourseMapping.import_run_id == mapping.import_run_id,
            LegacyCourseMapping.legacy_formation_id == mapping.legacy_formation_id,
            LegacyCourseMapping.decision == MAPPED,
        )
    )
    if course_id is not None and cohort.course_id != course_id:
        raise MappingError(
            "Cette cohorte appartient à une autre formation que celle retenue pour la session."
        )


# -- shared -------------------------------------------------------------------------------------


def ensure_open(session: Session, run_id: int) -> None:
    try:
        ensure_run_open(session, run_id)
    except ReviewError as error:
        raise MappingError(str(error)) from error


def _mapping(session: Session, model: Any, run_id: int, mapping_id: int) -> Any:
    mapping = session.get(model, mapping_id)
    if mapping is None or mapping.import_run_id != run_id:
        raise MappingError("Correspondance introuvable dans cet import.")
    return mapping


def _reviewed(mapping: LegacyCourseMapping | LegacySessionMapping, actor_id: int | None) -> None:
    mapping.reviewed_by_id = actor_id
    mapping.reviewed_at = utcnow()


def _audit(
    session: Session,
    action: str,
    mapping: LegacyCourseMapping | LegacySessionMapping,
    actor_id: int | None,
    before: dict[str, Any],
    after: dict[str, Any],
    extra: dict[str, Any],
) -> None:
    record(
        session,
        action,
        object_type=mapping.__tablename__.removesuffix("s"),
        object_id=mapping.id,
        actor_id=actor_id,
        details={"run_id": mapping.import_run_id, **extra, "before": before, "after": after},
    )


# -- the mapping pages --------------------------------------------------------------------------


@dataclass(frozen=True)
class CourseMappingRow:
    mapping: LegacyCourseMapping
    suggested_course: str | None
    course: str | None

    @property
    def confidence(self) -> str | None:
        return confidence(self.mapping.suggestion_score) if self.mapping.suggested_course_id else None


def course_mapping_rows(session: Session, run_id: int) -> list[CourseMappingRow]:
    suggested, chosen = aliased(Course), aliased(Course)
    query = (
        select(LegacyCourseMapping, suggested.name, chosen.name)
        .outerjoin(suggested, suggested.id == LegacyCourseMapping.suggested_course_id)
        .outerjoin(chosen, chosen.id == LegacyCourseMapping.course_id)
        .where(LegacyCourseMapping.import_run_id == run_id)
        .order_by(LegacyCourseMapping.legacy_formation_id)
    )
    return [CourseMappingRow(*row) for row in session.execute(query)]


@dataclass(frozen=True)
class SessionMappingRow:
    mapping: LegacySessionMapping
    formation: str | None
    cohort: str | None

    @property
    def cohort_allowed(self) -> bool:
        return cohort_allowed(self.mapping.session_type)


def session_mapping_rows(
    session: Session, run_id: int, session_type: str | None = None, after: int | None = None, limit: int = 100
) -> tuple[list[SessionMappingRow], bool]:
    """One page of the run's sessions by legacy id (keyset), and whether more follow."""
    formations = LegacyCourseMapping
    query = (
        select(LegacySessionMapping, formations.legacy_name, Cohort.name)
        .outerjoin(
            formations,
            (formations.import_run_id == LegacySessionMapping.import_run_id)
            & (formations.legacy_formation_id == LegacySessionMapping.legacy_formation_id),
        )
        .outerjoin(Cohort, Cohort.id == LegacySessionMapping.cohort_id)
        .where(LegacySessionMapping.import_run_id == run_id)
        .order_by(LegacySessionMapping.legacy_session_id)
        .limit(limit + 1)
    )
    if session_type:
        query = query.where(LegacySessionMapping.session_type == session_type)
    if after is not None:
        query = query.where(LegacySessionMapping.legacy_session_id > after)
    rows = [SessionMappingRow(*row) for row in session.execute(query)]
    return rows[:limit], len(rows) > limit


def session_counts(session: Session, run_id: int) -> dict[tuple[str, str], int]:
    """(session type, decision) -> sessions of the run."""
    query = (
        select(LegacySessionMapping.session_type, LegacySessionMapping.decision, func.count())
        .where(LegacySessionMapping.import_run_id == run_id)
        .group_by(LegacySessionMapping.session_type, LegacySessionMapping.decision)
    )
    return {(str(kind), str(decision)): count for kind, decision, count in session.execute(query)}


def cohort_choices(session: Session) -> list[tuple[int, str]]:
    query = select(Cohort.id, Cohort.name, Course.name, Cohort.starts_on).join(
        Course, Course.id == Cohort.course_id
    )
    rows = session.execute(query.order_by(Course.name, Cohort.starts_on, Cohort.id))
    return [
        (cohort_id, f"{course} — {name}" + (f" ({starts:%d/%m/%Y})" if starts else ""))
        for cohort_id, name, course, starts in rows
    ]
