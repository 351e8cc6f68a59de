"""The contract's vocabularies (SPEC.md, "Vocabularies")."""

from __future__ import annotations

from enum import StrEnum


class RunStatus(StrEnum):
    PENDING = "pending"
    INGESTING = "ingesting"
    INGESTED = "ingested"
    VALIDATING = "validating"
    VALIDATED = "validated"
    CLASSIFYING = "classifying"
    CLASSIFIED = "classified"
    DRY_RUN_READY = "dry_run_ready"
    COMMITTING = "committing"
    COMMITTED = "committed"
    ROLLING_BACK = "rolling_back"
    ROLLED_BACK = "rolled_back"
    FAILED = "failed"


class EmailStatus(StrEnum):
    VALID = "valid"
    PLACEHOLDER = "placeholder"
    INVALID = "invalid"
    MISSING = "missing"


class Classification(StrEnum):
    COMPLETED = "completed"
    ARCHIVED_TRAINING = "archived_training"
    LEAD_ONLY = "lead_only"
    REGISTERED = "registered"
    UNKNOWN = "unknown"
    NEEDS_REVIEW = "needs_review"


class ValidationState(StrEnum):
    PENDING = "pending"
    VALID = "valid"
    DUPLICATE = "duplicate"
    NEEDS_REVIEW = "needs_review"
    FAILED = "failed"


class DuplicateConfidence(StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    NONE = "none"


class SessionType(StrEnum):
    REAL_SESSION = "real_session"
    WAITING_SESSION = "waiting_session"
    PLACEHOLDER_SESSION = "placeholder_session"
    UNKNOWN = "unknown"


class ImportAction(StrEnum):
    CREATE_LEGACY_COMPLETED_TRAINING = "create_legacy_completed_training"
    CREATE_COURSE_INTEREST = "create_course_interest"
    CREATE_LEGACY_ENROLLMENT = "create_legacy_enrollment"
    NEEDS_REVIEW = "needs_review"


class SourceTable(StrEnum):
    STAGIAIRES = "stagiaires"
    ARCHIVES = "archives"


class IngestStep(StrEnum):
    """What an ingestion stages: formations, then sessions, then students (the chunks of
    `stagiaires` and `archives`). The run's `current_step` names one of the first three."""

    FORMATIONS = "formations"
    SESSIONS = "session_ecoins"
    STUDENTS = "students"
    STAGIAIRES = "stagiaires"
    ARCHIVES = "archives"
