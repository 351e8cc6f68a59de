"""The commit slice and its rollback.

Commit: rows not yet committed are planned in id order (the dry run's planner) and acted on in
batches, one transaction per batch: a CRM lead created through the CRM module, a link to an
existing user or lead, or a legacy completed training. Each created or linked entity gets a
commit log entry, and the row records what it became; a batch that fails leaves nothing, and
a row already committed is never planned again, so the commit can be re-run or resumed.

Rollback: the run's commit logs, newest first. A created entity that nobody changed since the
commit is deleted; one that was changed (or is now used elsewhere) is left alone and reported
on its log (`reason`). Links are simply undone. Current-platform data is never overwritten.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.crm.models import CrmLead
from app.crm.services import create_lead, delete_lead
from app.legacy_import.bulk import update_rows
from app.legacy_import.models import (
    COMMIT_LOGS,
    LegacyCompletedTraining,
    LegacyCourseMapping,
    LegacyImportCommitLog,
    LegacyImportRun,
    LegacyStudentImport,
)
from app.legacy_import.phases import STUDENTS, TRAININGS, Phase, StepContext, finish_batch
from app.legacy_import.planning import ROW_COLUMNS, Planner, RowPlan, row_links
from app.legacy_import.rules import plan
from app.legacy_import.vocab import RunStatus
from app.models_base import utcnow

SOURCE = "legacy_platform"
CREATED, LINKED = "created", "linked"
CHANGED_SINCE_COMMIT, GONE, IN_USE = "changed_since_commit", "gone", "in_use"
SNAPSHOT_FIELDS: dict[str, tuple[str, ...]] = {
    "crm_lead": ("first_name", "last_name", "phone", "email", "status", "interested_course_id", "source"),
    "legacy_completed_training": (
        "user_id",
        "crm_lead_id",
        "course_id",
        "completed_on",
        "first_name",
        "last_name",
        "source",
    ),
}
ENTITY_MODELS: dict[str, Any] = {"crm_lead": CrmLead, "legacy_completed_training": LegacyCompletedTraining}
COMMIT_COLUMNS = (
    *ROW_COLUMNS,
    STUDENTS.c.first_name,
    STUDENTS.c.last_name,
    STUDENTS.c.phone_normalized,
    STUDENTS.c.email_normalized,
    TRAININGS.c.session_ends_on,
)


def commit_phase() -> Phase:
    return Phase(
        name="commit",
        working=RunStatus.COMMITTING,
        done=RunStatus.COMMITTED,
        starts_from=frozenset({RunStatus.DRY_RUN_READY, RunStatus.COMMITTED, RunStatus.ROLLED_BACK}),
        steps=(("commit", commit_rows),),
    )


def rollback_phase() -> Phase:
    return Phase(
        name="rollback",
        working=RunStatus.ROLLING_BACK,
        done=RunStatus.ROLLED_BACK,
        starts_from=frozenset({RunStatus.COMMITTED}),
        steps=(("rollback", rollback_logs),),
        count_rows=lambda session, run_id: int(
            session.execute(select(func.count()).where(COMMIT_LOGS.c.import_run_id == run_id)).scalar_one()
        ),
    )


# -- commit -----------------------------------------------------------------------------------


def commit_rows(context: StepContext) -> None:
    session, run_id = context.session, context.run_id
    committer = Committer.load(session, run_id)
    after_id = context.checkpoint
    while True:
        rows = session.execute(
            select(STUDENTS.c.id, *COMMIT_COLUMNS)
            .outerjoin(TRAININGS, TRAININGS.c.student_import_id == STUDENTS.c.id)
            .where(STUDENTS.c.import_run_id == run_id, STUDENTS.c.id > after_id)
            .order_by(STUDENTS.c.id)
            .limit(context.batch_size)
        ).all()
        if not rows:
            return
        pending = [row for row in rows if not committer.is_committed(row.id)]
        by_id = {row.id: row for row in pending}
        for row_plan in committer.planner.plan(pending):
            committer.act(row_plan, by_id[row_plan.row_id])
        committer.flush_marks()
        finish_batch(context, rows[-1].id, len(rows))  # commits the batch with its checkpoint
        after_id = rows[-1].id


class Committer:
    """Acts on the plan of each row, within the caller's transaction."""

    def __init__(
        self, session: Session, run: LegacyImportRun, planner: Planner, courses: dict[int, int]
    ) -> None:
        self.session = session
        self.run = run
        self.planner = planner
        self.courses = courses
        self.shared = {value for values in (run.shared_contacts or {}).values() for value in values}
        self.leads_by_person: dict[int, int] = {}
        self.committed: set[int] = set()
        self.marks: list[dict[str, Any]] = []

    @classmethod
    def load(cls, session: Session, run_id: int) -> Committer:
        run = session.get(LegacyImportRun, run_id)
        assert run is not None
        courses = session.execute(
            select(LegacyCourseMapping.legacy_formation_id, LegacyCourseMapping.course_id).where(
                LegacyCourseMapping.import_run_id == run_id, LegacyCourseMapping.course_id.is_not(None)
            )
        )
        committer = cls(session, run, Planner.load(session, run_id), {fid: cid for fid, cid in courses})
        committer._remember_earlier_commits()
        return committer

    def _remember_earlier_commits(self) -> None:
        """Rows committed by an earlier (or interrupted) commit of this run, and the leads they
        created: later rows of the same people link to those leads."""
        committed = self.session.execute(
            select(STUDENTS.c.id, STUDENTS.c.imported_entity_type, STUDENTS.c.imported_entity_id).where(
                STUDENTS.c.import_run_id == self.run.id, STUDENTS.c.committed_at.is_not(None)
            )
        ).all()
        self.committed = {row.id for row in committed}
        created_leads = {
            row.id: row.imported_entity_id for row in committed if row.imported_entity_type == "crm_lead"
        }
        _, same_person = row_links(self.session, created_leads)
        for row_id, lead_id in created_leads.items():
            person = same_person.get(row_id, row_id)
            self.leads_by_person.setdefault(person, lead_id)
            self.planner.people_with_lead.add(person)

    def is_committed(self, row_id: int) -> bool:
        return row_id in self.committed

    def act(self, row_plan: RowPlan, row: Any) -> None:
        outcome = row_plan.planned.outcome
        if outcome == plan.CREATE_LEAD:
            lead = create_lead(
                self.session,
                first_name=row.first_name,
                last_name=row.last_name,
                phone=self._contact(row.phone_normalized),
                email=self._contact(row.email_normalized),
                source=SOURCE,
                legacy_import_run_id=self.run.id,
                interested_course_id=self.courses.get(row_plan.formation_id or 0),
            )
            self.leads_by_person[row_plan.person] = lead.id
            self._log(row.id, CREATED, "crm_lead", lead)
        elif outcome == plan.LINK_IN_RUN:
            self._link(row.id, "crm_lead", self.leads_by_person[row_plan.person])
        elif outcome == plan.LINK_EXISTING and row_plan.existing is not None:
            self._link(row.id, *row_plan.existing)
        elif outcome == plan.CREATE_COMPLETED_TRAINING:
            self._create_training(row_plan, row)

    def _contact(self, value: str | None) -> str | None:
        """The school's shared phone or address is nobody's contact: not copied to a lead."""
        return None if value in self.shared else value

    def _create_training(self, row_plan: RowPlan, row: Any) -> None:
        tied_type, tied_id = row_plan.existing or (None, None)
        training = LegacyCompletedTraining(
            user_id=tied_id if tied_type == "user" else None,
            crm_lead_id=tied_id if tied_type == "crm_lead" else None,
            course_id=self.courses.get(row_plan.formation_id or 0),
            student_import_id=row.id,
            legacy_formation_id=row_plan.formation_id,
            legacy_session_id=row.legacy_session_id,
            completed_on=row.session_ends_on,
            first_name=row.first_name,
            last_name=row.last_name,
            source=SOURCE,
            legacy_import_run_id=self.run.id,
        )
        self.session.add(training)
        self.session.flush()
        self._log(row.id, CREATED, "legacy_completed_training", training)

    def _link(self, row_id: int, entity_type: str, entity_id: int) -> None:
        self.session.add(
            LegacyImportCommitLog(
                import_run_id=self.run.id,
                student_import_id=row_id,
                action=LINKED,
                entity_type=entity_type,
                entity_id=entity_id,
            )
        )
        self._mark_row(row_id, entity_type, entity_id)

    def _log(self, row_id: int, action: str, entity_type: str, entity: Any) -> None:
        self.session.add(
            LegacyImportCommitLog(
                import_run_id=self.run.id,
                student_import_id=row_id,
                action=action,
                entity_type=entity_type,
                entity_id=entity.id,
                entity_snapshot=snapshot(entity_type, entity),
            )
        )
        self._mark_row(row_id, entity_type, entity.id)

    def _mark_row(self, row_id: int, entity_type: str, entity_id: int) -> None:
        self.marks.append(
            {
                "b_id": row_id,
                "imported_entity_type": entity_type,
                "imported_entity_id": entity_id,
                "committed_at": utcnow(),
            }
        )
        self.committed.add(row_id)

    def flush_marks(self) -> None:
        """Record on the batch's rows what each became, in one statement, before the batch commits."""
        update_rows(self.session, STUDENTS, self.marks)
        self.marks = []


def snapshot(entity_type: str, entity: Any) -> dict[str, Any]:
    values = {name: getattr(entity, name) for name in SNAPSHOT_FIELDS[entity_type]}
    return {
        name: value.isoformat() if hasattr(value, "isoformat") else value for name, value in values.items()
    }


# -- rollback ---------------------------------------------------------------------------------


def rollback_logs(context: StepContext) -> None:
    """Undo the run's logs newest first; a log left alone keeps its reason and is not retried."""
    session, run_id = context.session, context.run_id
    open_logs = and_(
        COMMIT_LOGS.c.import_run_id == run_id,
        COMMIT_LOGS.c.rolled_back_at.is_(None),
        or_(COMMIT_LOGS.c.reason.is_(None), COMMIT_LOGS.c.action == LINKED),
    )
    while True:
        logs = session.scalars(
            select(LegacyImportCommitLog)
            .where(open_logs)
            .order_by(COMMIT_LOGS.c.id.desc())
            .limit(context.batch_size)
        ).all()
        if not logs:
            return
        undone = [log.student_import_id for log in logs if undo(session, log)]
        if undone:  # the rows are uncommitted again, in one statement per batch
            session.execute(
                update(LegacyStudentImport)
                .where(LegacyStudentImport.id.in_(undone))
                .values(imported_entity_type=None, imported_entity_id=None, committed_at=None)
            )
        finish_batch(context, logs[-1].id, len(logs))


def undo(session: Session, log: LegacyImportCommitLog) -> bool:
    """Undo one log; False when its entity stays (the reason is recorded on the log)."""
    if log.action == CREATED:
        reason = _delete_if_unchanged(session, log)
        if reason is not None:
            log.reason = reason
            return False
    log.rolled_back_at = utcnow()
    return True


def _delete_if_unchanged(session: Session, log: LegacyImportCommitLog) -> str | None:
    """Delete the entity the log created; or say why it stays."""
    entity_type = log.entity_type or ""
    entity = session.get(ENTITY_MODELS[entity_type], log.entity_id)
    if entity is None:
        return GONE
    if snapshot(entity_type, entity) != log.entity_snapshot:
        return CHANGED_SINCE_COMMIT
    try:
        with session.begin_nested():
            if entity_type == "crm_lead":
                delete_lead(session, entity)
            else:
                session.delete(entity)
                session.flush()
    except IntegrityError:
        return IN_USE
    return None


def rollback_report(session: Session, run_id: int) -> dict[str, int]:
    """What the rollback undid and what it left alone, from the logs."""
    rows = session.execute(
        select(COMMIT_LOGS.c.action, COMMIT_LOGS.c.rolled_back_at.is_not(None), COMMIT_LOGS.c.reason).where(
            COMMIT_LOGS.c.import_run_id == run_id
        )
    ).all()
    report = {"undone": 0, CHANGED_SINCE_COMMIT: 0, GONE: 0, IN_USE: 0, "not_rolled_back": 0}
    for _action, undone, reason in rows:
        key = "undone" if undone else (reason or "not_rolled_back")
        report[key] = report.get(key, 0) + 1
    return report


def commit_report(session: Session, run_id: int) -> dict[str, int]:
    """What the run's commit created and linked, by kind, from the logs (rolled back included)."""
    rows = session.execute(
        select(COMMIT_LOGS.c.action, COMMIT_LOGS.c.entity_type, func.count())
        .where(COMMIT_LOGS.c.import_run_id == run_id)
        .group_by(COMMIT_LOGS.c.action, COMMIT_LOGS.c.entity_type)
    ).all()
    return {f"{action}_{entity_type}": count for action, entity_type, count in rows}
