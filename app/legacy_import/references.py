"""A run's staged formations and sessions, as the row rules and the staged trainings need them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.legacy_import.bulk import update_rows
from app.legacy_import.models import SESSION_MAPPINGS, LegacyCourseMapping, LegacySessionMapping
from app.legacy_import.rules.classification import ClassificationDecision, classify
from app.legacy_import.rules.sessions import (
    SessionDecision,
    is_dangling,
    session_mapping_type,
    training_session_type,
)
from app.legacy_import.vocab import SessionType

NO_REFERENCE = (None, 0)


class SessionDetails(NamedTuple):
    """What a staged training copies from its session's mapping."""

    code: str | None
    starts_on: date | None
    ends_on: date | None


NO_SESSION_DETAILS = SessionDetails(None, None, None)


@dataclass(frozen=True)
class RunReferences:
    formations: frozenset[int]
    session_types: dict[int, SessionType]
    session_formations: dict[int, int | None]
    formation_names: dict[int, str | None]
    session_details: dict[int, SessionDetails]

    @classmethod
    def load(cls, session: Session, run_id: int) -> RunReferences:
        formations = session.execute(
            select(LegacyCourseMapping.legacy_formation_id, LegacyCourseMapping.legacy_name).where(
                LegacyCourseMapping.import_run_id == run_id
            )
        ).all()
        sessions = session.execute(
            select(
                LegacySessionMapping.legacy_session_id,
                LegacySessionMapping.session_type,
                LegacySessionMapping.legacy_formation_id,
                LegacySessionMapping.code,
                LegacySessionMapping.starts_on,
                LegacySessionMapping.ends_on,
            ).where(LegacySessionMapping.import_run_id == run_id)
        ).all()
        return cls(
            formations=frozenset(f.legacy_formation_id for f in formations),
            session_types={s.legacy_session_id: SessionType(s.session_type or "unknown") for s in sessions},
            session_formations={s.legacy_session_id: s.legacy_formation_id for s in sessions},
            formation_names={f.legacy_formation_id: f.legacy_name for f in formations},
            session_details={
                s.legacy_session_id: SessionDetails(s.code, s.starts_on, s.ends_on) for s in sessions
            },
        )

    def session_decision(self, session_id: int | None) -> SessionDecision:
        return training_session_type(session_id, self.session_types)

    def formation_of(self, formation_id: int | None, session_id: int | None) -> int | None:
        """The row's own formation, else its session's; None when neither references one."""
        if formation_id not in NO_REFERENCE:
            return formation_id
        if session_id in NO_REFERENCE:
            return None
        session_formation = self.session_formations.get(session_id)
        return None if session_formation in NO_REFERENCE else session_formation

    def has_formation(self, formation_id: int | None, session_id: int | None) -> bool:
        """Whether the row references a formation, itself or through its session."""
        return self.formation_of(formation_id, session_id) is not None

    def dangling_formation(self, formation_id: int | None) -> bool:
        return is_dangling(formation_id, self.formations)

    def classify(
        self, status: object, formation_id: int | None, session_id: int | None
    ) -> ClassificationDecision:
        session_type = self.session_decision(session_id).session_type
        return classify(status, session_type, self.has_formation(formation_id, session_id))


def type_session_mappings(session: Session, run_id: int) -> None:
    """Give every staged session mapping of the run its session type (in the session's
    transaction): a rule of the legacy data alone, so the same whenever it is applied."""
    formations = RunReferences.load(session, run_id).formations
    mappings = session.execute(
        select(
            SESSION_MAPPINGS.c.id,
            SESSION_MAPPINGS.c.legacy_session_id,
            SESSION_MAPPINGS.c.code,
            SESSION_MAPPINGS.c.legacy_formation_id,
            SESSION_MAPPINGS.c.session_type,
        ).where(SESSION_MAPPINGS.c.import_run_id == run_id)
    ).all()
    updates = []
    for m in mappings:
        decided = session_mapping_type(m.legacy_session_id, m.code, m.legacy_formation_id, formations)
        if decided.session_type != m.session_type:
            updates.append({"b_id": m.id, "session_type": decided.session_type.value})
    update_rows(session, SESSION_MAPPINGS, updates)
