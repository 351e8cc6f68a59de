"""Staging tables of the legacy import (names from the client's design)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    literal_column,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import Model
from app.legacy_import.vocab import DuplicateConfidence, RunStatus, ValidationState
from app.models_base import BigId, created_at_column, utcnow

# Counters kept on the run as integer columns, so that concurrent batches can add to them
# atomically (`SET x = x + n`).
RUN_COUNTERS = (
    "formations_staged",
    "sessions_staged",
    "stagiaires_staged",
    "archives_staged",
    "trainings_staged",
    "phones_valid",
    "phones_invalid",
    "phones_missing",
    "emails_valid",
    "emails_placeholder",
    "emails_invalid",
    "emails_missing",
    "rows_with_issues",
    "text_repairs",
)


class LegacyImportRun(Model):
    __tablename__ = "legacy_import_runs"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    label: Mapped[str | None] = mapped_column(String(191))
    connection_name: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(32), default=RunStatus.PENDING, index=True)
    current_step: Mapped[str | None] = mapped_column(String(50))
    # The last staged-row id a row-by-row step (validate, classify) has finished, so that
    # resuming that step goes on after it; 0 at the start of each step.
    step_checkpoint: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    # Steps taken, with start and end times: [{"step": ..., "started_at": ..., "finished_at": ...}].
    step_log: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    # While a worker holds the run (a phase or the ingestion's planning), until when; it renews
    # it as batches finish, so a run whose worker died can be taken over once it has expired.
    lease_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    rows_total: Mapped[int] = mapped_column(Integer, default=0)
    rows_done: Mapped[int] = mapped_column(Integer, default=0)
    formations_staged: Mapped[int] = mapped_column(Integer, default=0)
    sessions_staged: Mapped[int] = mapped_column(Integer, default=0)
    stagiaires_staged: Mapped[int] = mapped_column(Integer, default=0)
    archives_staged: Mapped[int] = mapped_column(Integer, default=0)
    trainings_staged: Mapped[int] = mapped_column(Integer, default=0)
    phones_valid: Mapped[int] = mapped_column(Integer, default=0)
    phones_invalid: Mapped[int] = mapped_column(Integer, default=0)
    phones_missing: Mapped[int] = mapped_column(Integer, default=0)
    emails_valid: Mapped[int] = mapped_column(Integer, default=0)
    emails_placeholder: Mapped[int] = mapped_column(Integer, default=0)
    emails_invalid: Mapped[int] = mapped_column(Integer, default=0)
    emails_missing: Mapped[int] = mapped_column(Integer, default=0)
    rows_with_issues: Mapped[int] = mapped_column(Integer, default=0)
    text_repairs: Mapped[int] = mapped_column(Integer, default=0)
    failure_reason: Mapped[str | None] = mapped_column(Text)
    step_started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )
    initiated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    dry_run_report: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Phones and e-mails that many different people of the run carry (the school's own):
    # {"phones": [...], "emails": [...]}, found by validation; never treated as a person's.
    shared_contacts: Mapped[dict[str, list[str]] | None] = mapped_column(JSON)
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at_column()

    def counters(self) -> dict[str, int]:
        return {name: getattr(self, name) or 0 for name in RUN_COUNTERS}


REVIEW_QUEUE_STATES = "validation_state IN ('needs_review', 'duplicate')"
VALIDATED = "validation_state <> 'pending'"


def validated_rows_index(name: str, *expressions: Any, **options: Any) -> Index:
    """An index of validated rows only: the import writes none of its entries (migrations 0013,
    0015); the queries it serves name its condition (students_query.validated_rows)."""
    return Index(
        name, *expressions, postgresql_where=text(VALIDATED), sqlite_where=text(VALIDATED), **options
    )


class LegacyStudentImport(Model):
    """One staged legacy row of `stagiaires` or `archives`: the review queue."""

    __tablename__ = "legacy_student_imports"
    __table_args__ = (
        UniqueConstraint("import_run_id", "source_table", "legacy_id"),
        Index("ix_legacy_student_imports_run_state", "import_run_id", "validation_state", "id"),
        validated_rows_index("ix_legacy_student_imports_run_class", "import_run_id", "classification", "id"),
        # The review queue (rows in review or duplicate, migration 0005): its pages walk it by
        # id; counting its groups from the rows (`queue_counts.counted_from_rows`) reads only
        # this index on PostgreSQL. The page itself reads the kept counts (migration 0008).
        Index(
            "ix_legacy_student_imports_review_queue",
            "import_run_id",
            "validation_state",
            "id",
            postgresql_include=["review_decision", "validation_reasons"],
            postgresql_where=text(REVIEW_QUEUE_STATES),
            sqlite_where=text(REVIEW_QUEUE_STATES),
        ),
        # The staged-rows list (students_query.py, migration 0006): keyset pages by id and by
        # last name, the duplicate-confidence filter, and word search in names: a pg_trgm GIN
        # index of `' ' || name_key` on PostgreSQL, one `LIKE '% word%'` per word typed
        # (migration 0010; on SQLite the same name gives a plain index that search ignores).
        # The filter indexes and the trigram index hold validated rows only: the import writes
        # none of their entries (migrations 0013, 0015; students_query.validated_rows).
        Index("ix_legacy_student_imports_run_id", "import_run_id", "id"),
        validated_rows_index("ix_legacy_student_imports_run_source", "import_run_id", "source_table", "id"),
        Index("ix_legacy_student_imports_run_last_name", "import_run_id", "last_name", "id"),
        validated_rows_index(
            "ix_legacy_student_imports_run_confidence", "import_run_id", "duplicate_confidence", "id"
        ),
        validated_rows_index(
            "ix_legacy_student_imports_spaced_name_key_trgm",
            literal_column("(' ' || name_key)").label("spaced_name_key"),
            postgresql_using="gin",
            postgresql_ops={"spaced_name_key": "gin_trgm_ops"},
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # The run; no foreign key checked for every row written: a trigger deletes a deleted run's
    # rows (migration 0012).
    import_run_id: Mapped[int] = mapped_column(BigId)
    source_table: Mapped[str] = mapped_column(String(20))
    legacy_id: Mapped[int] = mapped_column(BigInteger)
    legacy_stagiaire_id: Mapped[int | None] = mapped_column(BigInteger)
    first_name: Mapped[str | None] = mapped_column(String(191))
    last_name: Mapped[str | None] = mapped_column(String(191))
    name_key: Mapped[str | None] = mapped_column(String(400))
    phone_raw: Mapped[str | None] = mapped_column(Text)
    phone_normalized: Mapped[str | None] = mapped_column(String(32))
    phone_alternates: Mapped[list[str] | None] = mapped_column(JSON)
    phone_status: Mapped[str] = mapped_column(String(20))
    email_raw: Mapped[str | None] = mapped_column(Text)
    email_normalized: Mapped[str | None] = mapped_column(String(255))
    email_status: Mapped[str] = mapped_column(String(20))
    birth_date: Mapped[date | None] = mapped_column(Date)
    birth_date_raw: Mapped[str | None] = mapped_column(String(191))
    status_raw: Mapped[str | None] = mapped_column(String(191))
    status_text: Mapped[str | None] = mapped_column(String(191))
    legacy_formation_id: Mapped[int | None] = mapped_column(BigInteger)
    legacy_session_id: Mapped[int | None] = mapped_column(BigInteger)
    classification: Mapped[str | None] = mapped_column(String(32))
    classification_rule: Mapped[str | None] = mapped_column(String(64))
    validation_state: Mapped[str] = mapped_column(String(20), default=ValidationState.PENDING)
    validation_reasons: Mapped[list[str] | None] = mapped_column(JSON)
    duplicate_confidence: Mapped[str] = mapped_column(String(10), default=DuplicateConfidence.NONE)
    import_action: Mapped[str | None] = mapped_column(String(64))
    normalization_issues: Mapped[list[str] | None] = mapped_column(JSON)
    text_repairs: Mapped[list[str] | None] = mapped_column(JSON)
    raw_payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    # A reviewer's decision on the row: "approved" lets a row in review go to the commit,
    # "skipped" keeps it out; a reviewer's classification goes to classification_override
    # (the rules' answer stays in classification). Every decision is also in the audit trail.
    review_decision: Mapped[str | None] = mapped_column(String(20))
    review_note: Mapped[str | None] = mapped_column(Text)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # A reviewer's classification, kept beside the rules' own (`classification`) so that
    # classifying the run again never loses it; the plan uses it when set. Its reason is staff
    # text, kept here and never copied into the audit trail.
    classification_override: Mapped[str | None] = mapped_column(String(32))
    override_reason: Mapped[str | None] = mapped_column(Text)
    imported_entity_type: Mapped[str | None] = mapped_column(String(50))
    imported_entity_id: Mapped[int | None] = mapped_column(BigInteger)
    committed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at_column()

    # The row's training, read only (no foreign key names the join): the import writes it.
    training: Mapped[LegacyTrainingImport | None] = relationship(
        primaryjoin="LegacyStudentImport.id == foreign(LegacyTrainingImport.student_import_id)",
        uselist=False,
        viewonly=True,
    )


class LegacyReviewQueueCount(Model):
    """How many rows of a run's review queue give one reason, by validation state and by whether
    a reviewer has decided on them: the queue's group counts, kept exact by every write that
    moves a row in the queue (`queue_counts.py`), so that the review page need not count."""

    __tablename__ = "legacy_review_queue_counts"

    import_run_id: Mapped[int] = mapped_column(
        ForeignKey("legacy_import_runs.id", ondelete="CASCADE"), primary_key=True
    )
    reason: Mapped[str] = mapped_column(String(64), primary_key=True)
    validation_state: Mapped[str] = mapped_column(String(20), primary_key=True)
    pending: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    row_count: Mapped[int] = mapped_column(Integer, default=0)


class LegacyTrainingImport(Model):
    """The training/session reference of a staged student row."""

    __tablename__ = "legacy_training_imports"
    __table_args__ = (
        # The session-type filter of the staged-rows list (migration 0006).
        Index(
            "ix_legacy_training_imports_run_session_type",
            "import_run_id",
            "session_type",
            "student_import_id",
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # The staged row and its run, without foreign keys checked for every training written
    # (migrations 0011, 0012): a trigger deletes a deleted row's training. No index of the run's
    # own: the session-type index starts with it.
    student_import_id: Mapped[int] = mapped_column(BigId, unique=True)
    import_run_id: Mapped[int] = mapped_column(BigId)
    legacy_formation_id: Mapped[int | None] = mapped_column(BigInteger)
    legacy_formation_name: Mapped[str | None] = mapped_column(String(255))
    legacy_session_id: Mapped[int | None] = mapped_column(BigInteger)
    legacy_session_code: Mapped[str | None] = mapped_column(String(191))
    session_starts_on: Mapped[date | None] = mapped_column(Date)
    session_ends_on: Mapped[date | None] = mapped_column(Date)
    matched_course_id: Mapped[int | None] = mapped_column(ForeignKey("courses.id"))
    matched_cohort_id: Mapped[int | None] = mapped_column(ForeignKey("cohorts.id"))
    session_type: Mapped[str | None] = mapped_column(String(32))
    import_action: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = created_at_column()


class LegacyCourseMapping(Model):
    """A legacy `formations` row and the reviewed intent for it."""

    __tablename__ = "legacy_course_mappings"
    __table_args__ = (UniqueConstraint("import_run_id", "legacy_formation_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    import_run_id: Mapped[int] = mapped_column(ForeignKey("legacy_import_runs.id", ondelete="CASCADE"))
    legacy_formation_id: Mapped[int] = mapped_column(BigInteger)
    legacy_name: Mapped[str | None] = mapped_column(String(255))
    raw_payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    suggested_course_id: Mapped[int | None] = mapped_column(ForeignKey("courses.id"))
    suggestion_score: Mapped[float | None] = mapped_column(Float)
    course_id: Mapped[int | None] = mapped_column(ForeignKey("courses.id"))
    decision: Mapped[str] = mapped_column(String(20), default="pending")
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at_column()


class LegacySessionMapping(Model):
    """A legacy `session_ecoins` row and the reviewed intent for it."""

    __tablename__ = "legacy_session_mappings"
    __table_args__ = (UniqueConstraint("import_run_id", "legacy_session_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    import_run_id: Mapped[int] = mapped_column(ForeignKey("legacy_import_runs.id", ondelete="CASCADE"))
    legacy_session_id: Mapped[int] = mapped_column(BigInteger)
    code: Mapped[str | None] = mapped_column(String(191))
    legacy_formation_id: Mapped[int | None] = mapped_column(BigInteger)
    starts_on: Mapped[date | None] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    raw_payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    session_type: Mapped[str | None] = mapped_column(String(32))
    cohort_id: Mapped[int | None] = mapped_column(ForeignKey("cohorts.id"))
    decision: Mapped[str] = mapped_column(String(20), default="pending")
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at_column()


class LegacyImportCommitLog(Model):
    """One entity created, linked or skipped by a run's commit; rollback reads these."""

    __tablename__ = "legacy_import_commit_logs"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    import_run_id: Mapped[int] = mapped_column(
        ForeignKey("legacy_import_runs.id", ondelete="CASCADE"), index=True
    )
    student_import_id: Mapped[int | None] = mapped_column(
        ForeignKey("legacy_student_imports.id", ondelete="SET NULL"), index=True
    )
    action: Mapped[str] = mapped_column(String(20))
    entity_type: Mapped[str | None] = mapped_column(String(50))
    entity_id: Mapped[int | None] = mapped_column(BigInteger)
    entity_snapshot: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    reason: Mapped[str | None] = mapped_column(String(100))
    rolled_back_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at_column()


class LegacyCompletedTraining(Model):
    """Compatibility record of a training completed on the old platform."""

    __tablename__ = "legacy_completed_trainings"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    crm_lead_id: Mapped[int | None] = mapped_column(ForeignKey("crm_leads.id"), index=True)
    course_id: Mapped[int | None] = mapped_column(ForeignKey("courses.id"))
    student_import_id: Mapped[int | None] = mapped_column(
        ForeignKey("legacy_student_imports.id", ondelete="SET NULL")
    )
    legacy_formation_id: Mapped[int | None] = mapped_column(BigInteger)
    legacy_session_id: Mapped[int | None] = mapped_column(BigInteger)
    completed_on: Mapped[date | None] = mapped_column(Date)
    first_name: Mapped[str | None] = mapped_column(String(191))
    last_name: Mapped[str | None] = mapped_column(String(191))
    source: Mapped[str] = mapped_column(String(50), default="legacy_platform")
    legacy_import_run_id: Mapped[int | None] = mapped_column(ForeignKey("legacy_import_runs.id"), index=True)
    created_at: Mapped[datetime] = created_at_column()


class LegacyDuplicateHint(Model):
    """An advisory link from a staged row to a person it may be: a user, a CRM lead, or another
    staged row of the same run. Stored, never merged."""

    __tablename__ = "legacy_duplicate_hints"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # The run and the staged row, without foreign keys checked for every hint written
    # (migrations 0011, 0012): a trigger deletes a deleted row's hints.
    import_run_id: Mapped[int] = mapped_column(BigId, index=True)
    student_import_id: Mapped[int] = mapped_column(BigId, index=True)
    target_type: Mapped[str] = mapped_column(String(20))
    target_id: Mapped[int] = mapped_column(BigInteger)
    confidence: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str] = mapped_column(String(50))
    score: Mapped[int | None] = mapped_column(Integer)
    decision: Mapped[str | None] = mapped_column(String(20))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at_column()


class LegacyImportChunk(Model):
    """A range of legacy ids of `stagiaires` or `archives` that one worker stages at a time.

    A worker claims a chunk with a compare-and-set on `status`/`claimed_at` and renews the claim
    with each batch; a chunk whose claim is older than the lease can be claimed again."""

    __tablename__ = "legacy_import_chunks"
    __table_args__ = (UniqueConstraint("import_run_id", "source_table", "after_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    import_run_id: Mapped[int] = mapped_column(
        ForeignKey("legacy_import_runs.id", ondelete="CASCADE"), index=True
    )
    source_table: Mapped[str] = mapped_column(String(20))
    after_id: Mapped[int] = mapped_column(BigInteger)
    up_to_id: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Its checkpoint: the last legacy id staged, written with each batch (migration 0014).
    staged_up_to: Mapped[int | None] = mapped_column(BigInteger)


# The tables, for the services' set-based statements (SQLAlchemy types a model's `__table__` as
# any FromClause; these are Tables).
STUDENTS = cast(Table, LegacyStudentImport.__table__)
TRAININGS = cast(Table, LegacyTrainingImport.__table__)
RUNS = cast(Table, LegacyImportRun.__table__)
HINTS = cast(Table, LegacyDuplicateHint.__table__)
COURSE_MAPPINGS = cast(Table, LegacyCourseMapping.__table__)
SESSION_MAPPINGS = cast(Table, LegacySessionMapping.__table__)
CHUNKS = cast(Table, LegacyImportChunk.__table__)
COMMIT_LOGS = cast(Table, LegacyImportCommitLog.__table__)
QUEUE_COUNTS = cast(Table, LegacyReviewQueueCount.__table__)
