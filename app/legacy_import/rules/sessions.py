"""Session rules: which legacy sessions are real, and which only hold students waiting."""

from __future__ import annotations

import re
from collections.abc import Container, Mapping
from typing import NamedTuple

from app.legacy_import.normalize import fold_text
from app.legacy_import.vocab import SessionType

WAITING_SESSION_IDS = frozenset({1, 2, 235})
WAITING_CODE = re.compile(r"session[\s_-]*attente")


class SessionDecision(NamedTuple):
    session_type: SessionType
    rule: str


def is_valid_reference(value: int | None, existing: Container[int]) -> bool:
    return value not in (None, 0) and value in existing


def is_dangling(value: int | None, existing: Container[int]) -> bool:
    """A reference that names a row which does not exist (NULL and 0 mean "no reference")."""
    return value not in (None, 0) and value not in existing


def session_mapping_type(
    session_id: int, code: str | None, formation_id: int | None, formation_ids: Container[int]
) -> SessionDecision:
    """The type of a legacy `session_ecoins` row."""
    if session_id in WAITING_SESSION_IDS:
        return SessionDecision(SessionType.WAITING_SESSION, "waiting_session_id")
    if WAITING_CODE.search(fold_text(code)):
        return SessionDecision(SessionType.WAITING_SESSION, "waiting_session_code")
    if not is_valid_reference(formation_id, formation_ids):
        return SessionDecision(SessionType.PLACEHOLDER_SESSION, "session_without_formation")
    return SessionDecision(SessionType.REAL_SESSION, "real_session")


def training_session_type(
    session_id: int | None, session_types: Mapping[int, SessionType]
) -> SessionDecision:
    """The type of the session a student row points at (`session_types`: the run's sessions)."""
    if session_id in WAITING_SESSION_IDS:
        return SessionDecision(SessionType.WAITING_SESSION, "waiting_session_id")
    if session_id in (None, 0):
        return SessionDecision(SessionType.UNKNOWN, "no_session")
    if session_id not in session_types:
        return SessionDecision(SessionType.UNKNOWN, "dangling_session")
    return SessionDecision(session_types[session_id], "session_mapping")
