"""The review queue's group counts on PostgreSQL: exact after review actions and validations,
also when a reviewer acts while validation runs; and counted for existing runs by the migration."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from app.crm.models import CrmLead
from app.extensions import db
from app.legacy_import import queue_counts, validate
from app.legacy_import.models import LegacyStudentImport
from app.legacy_import.pipeline import run_named_phase
from app.legacy_import.review import (
    ALL,
    APPROVE,
    DECIDED,
    OVERRIDE,
    PENDING,
    SKIP,
    UNRESOLVED,
    ReviewCommand,
    apply_review,
    group_conditions,
    queue_groups,
)
from app.legacy_import.runs import lock_run
from tests.conftest import make_app, migrate, truncate_app_tables
from tests.support.cli import legacy_json
from tests.support.databases import postgres_database

pytestmark = pytest.mark.integration

STUDENTS = LegacyStudentImport.__table__


@pytest.fixture
def app(postgres_url: str, legacy_sqlite_url: str) -> Flask:
    app = make_app(postgres_url, LEGACY_CONNECTIONS={"legacy": legacy_sqlite_url})
    truncate_app_tables(app)
    return app


def prepared_run(app: Flask) -> int:
    run_id = int(legacy_json(app, "import")["run_id"])
    legacy_json(app, "validate", f"--run={run_id}")
    legacy_json(app, "classify", f"--run={run_id}")
    return run_id


def assert_counts_exact(app: Flask, run_id: int) -> None:
    with app.app_context():
        counted = queue_counts.counted_from_rows(db.session, run_id)
        assert counted, "an empty queue proves nothing"
        assert queue_counts.kept_counts(db.session, run_id) == counted


def approvable(app: Flask, run_id: int, after_id: int = 0) -> list[int]:
    """Rows of the queue, no decision yet, that a reviewer may approve as they are."""
    with app.app_context():
        query = (
            select(STUDENTS.c.id)
            .where(
                STUDENTS.c.import_run_id == run_id,
                STUDENTS.c.id > after_id,
                STUDENTS.c.validation_state.in_(queue_counts.QUEUE_STATES),
                STUDENTS.c.review_decision.is_(None),
                STUDENTS.c.classification.not_in(UNRESOLVED),
            )
            .order_by(STUDENTS.c.id)
        )
        return list(db.session.scalars(query))


def review(app: Flask, command: ReviewCommand) -> None:
    with app.app_context():
        apply_review(db.session, command, actor_id=None)


def test_the_counts_stay_exact_through_review_actions_and_validations(app: Flask) -> None:
    run_id = prepared_run(app)
    assert_counts_exact(app, run_id)
    rows = approvable(app, run_id)
    review(app, ReviewCommand(APPROVE, run_id, tuple(rows[:5])))
    assert_counts_exact(app, run_id)
    review(app, ReviewCommand(SKIP, run_id, tuple(rows[3:8])))
    assert_counts_exact(app, run_id)
    review(app, ReviewCommand(OVERRIDE, run_id, tuple(rows[8:10]), classification="registered", reason="vu"))
    assert_counts_exact(app, run_id)

    with app.app_context():  # leads with the phones of valid rows: validation makes them duplicates
        phones = db.session.scalars(
            select(STUDENTS.c.phone_normalized)
            .where(STUDENTS.c.validation_state == "valid", STUDENTS.c.phone_normalized.is_not(None))
            .limit(5)
        ).all()
        db.session.add_all(CrmLead(first_name="X", last_name="Y", phone=phone) for phone in phones)
        db.session.commit()
    legacy_json(app, "validate", f"--run={run_id}")
    assert_counts_exact(app, run_id)


def test_a_group_page_finds_its_rows_in_the_review_queue_index_alone(app: Flask) -> None:
    """Each group's and page's ids are read from the review queue's index without visiting the
    table (what keeps a rare reason's page fast at 1M rows): once the table is vacuumed, and
    with the scans that visit it turned off, PostgreSQL still has a plan: that index alone."""
    run_id = prepared_run(app)
    with app.app_context():
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE legacy_student_imports"))
        session = db.session
        groups = queue_groups(session, run_id)
        assert len(groups) >= 4
        for setting in ("enable_seqscan", "enable_bitmapscan"):
            session.execute(text(f"SET LOCAL {setting} = off"))
        edges = (
            (PENDING, {}),
            (DECIDED, {"after": 1}),
            (ALL, {"before": 10**9}),
        )
        for group in groups:
            for show, edge in edges:
                query = select(STUDENTS.c.id).where(*group_conditions(run_id, group, show, **edge))
                compiled = query.compile(
                    dialect=session.get_bind().dialect, compile_kwargs={"literal_binds": True}
                )
                plan = "\n".join(session.scalars(text(f"EXPLAIN {compiled}")))
                assert "Index Only Scan using ix_legacy_student_imports_review_queue" in plan, (
                    group.reason,
                    plan,
                )
        session.rollback()


def test_a_review_action_during_validation_is_counted_by_the_batch_after_it(app: Flask) -> None:
    """Each validation batch is written under the run's lock, as a review action is, and reads
    its rows' place in the queue under it: the batch after the action counts the decisions it
    made, and the counts stay exact."""
    run_id = prepared_run(app)
    batch = 100
    with app.app_context():
        query = select(STUDENTS.c.id).where(STUDENTS.c.import_run_id == run_id).order_by(STUDENTS.c.id)
        ids = list(db.session.scalars(query))
    second_batch = [i for i in approvable(app, run_id, after_id=ids[batch - 1]) if i <= ids[2 * batch - 1]]
    assert second_batch
    first_batch_done, reviewer_holds_the_lock = threading.Event(), threading.Event()
    failures: list[BaseException] = []

    def progress(_done: int, _total: int) -> None:
        if not first_batch_done.is_set():
            first_batch_done.set()
            reviewer_holds_the_lock.wait(30)

    def validate() -> None:
        try:
            with app.app_context():
                run_named_phase(db.session, app.config, run_id, "validate", progress, batch_size=batch)
        except BaseException as error:  # noqa: BLE001 - reported by the test thread
            failures.append(error)

    worker = threading.Thread(target=validate)
    worker.start()
    assert first_batch_done.wait(60)
    with app.app_context(), Session(db.engine) as reviewer:
        lock_run(reviewer, run_id)  # a review action under way
        reviewer_holds_the_lock.set()
        wait_for_a_lock_wait(reviewer)  # validation's next batch waits for it
        apply_review(reviewer, ReviewCommand(APPROVE, run_id, tuple(second_batch)), actor_id=None)
    worker.join(120)
    assert not worker.is_alive() and not failures
    assert_counts_exact(app, run_id)
    assert not set(second_batch) & set(approvable(app, run_id))  # approved, and counted so


def test_a_review_action_waits_for_the_validation_batch_under_way(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reviewer approves a row while the validation batch that makes it a duplicate is under
    way: the action waits for the batch, then counts the row where the batch put it."""
    run_id = prepared_run(app)
    with app.app_context():
        query = select(STUDENTS.c.id, STUDENTS.c.phone_normalized).where(
            STUDENTS.c.id.in_(approvable(app, run_id)),
            STUDENTS.c.validation_state == "needs_review",
            STUDENTS.c.phone_normalized.is_not(None),
        )
        target, phone = db.session.execute(query.order_by(STUDENTS.c.id).limit(1)).one()
        db.session.add(CrmLead(first_name="X", last_name="Y", phone=phone))
        db.session.commit()
    batch_written, failures = threading.Event(), []
    add_to_counts = validate.add_to_counts

    def add_then_wait_for_the_reviewer(session: Session, run: int, change: Any) -> None:
        add_to_counts(session, run, change)
        batch_written.set()
        with app.app_context(), Session(db.engine) as observer:
            wait_for_a_lock_wait(observer)

    monkeypatch.setattr(validate, "add_to_counts", add_then_wait_for_the_reviewer)

    def revalidate() -> None:
        try:
            with app.app_context():
                run_named_phase(db.session, app.config, run_id, "validate", batch_size=100_000)
        except BaseException as error:  # noqa: BLE001 - reported by the test thread
            failures.append(error)

    worker = threading.Thread(target=revalidate)
    worker.start()
    assert batch_written.wait(60)
    review(app, ReviewCommand(APPROVE, run_id, (target,)))
    worker.join(120)
    assert not worker.is_alive() and not failures
    with app.app_context():
        approved = db.session.get(LegacyStudentImport, target)
        assert approved is not None
        assert (approved.validation_state, approved.review_decision) == ("duplicate", "approved")
    assert_counts_exact(app, run_id)


def wait_for_a_lock_wait(session: Session) -> None:
    query = text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
    deadline = time.monotonic() + 10
    while session.execute(query).scalar_one() == 0:
        # The activity statistics hold still for the whole transaction, and rolling it back
        # would drop the run's lock the caller may hold: clear the snapshot instead.
        session.execute(text("SELECT pg_stat_clear_snapshot()"))
        assert time.monotonic() < deadline, "validation did not wait for the run's lock"
        time.sleep(0.05)


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_app(request: pytest.FixtureRequest, tmp_path: Path, legacy_sqlite_url: str) -> Iterator[Flask]:
    """A database of its own, migrated to the head: the test migrates it down and up again."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'app.sqlite'}"
        shutil.copy(request.getfixturevalue("migrated_sqlite_template"), tmp_path / "app.sqlite")
        yield make_app(url, LEGACY_CONNECTIONS={"legacy": legacy_sqlite_url})
        return
    with postgres_database() as url:
        app = make_app(url, LEGACY_CONNECTIONS={"legacy": legacy_sqlite_url})
        migrate(app)
        yield app


def test_the_migration_counts_the_queues_of_existing_runs(fresh_app: Flask) -> None:
    run_id = prepared_run(fresh_app)
    review(fresh_app, ReviewCommand(APPROVE, run_id, tuple(approvable(fresh_app, run_id)[:3])))
    with fresh_app.app_context():
        downgrade(revision="0007")
        upgrade()
        db.engine.dispose()
    assert_counts_exact(fresh_app, run_id)
