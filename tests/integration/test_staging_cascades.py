"""Deleting a run deletes its staged rows, and deleting a staged row its training and hints, on
both backends (triggers, migration 0012), and the migration itself keeps every staged row."""

from __future__ import annotations

import pytest
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import delete, func, select

from app.extensions import db
from app.legacy_import.models import HINTS, RUNS, STUDENTS, TRAININGS
from tests.conftest import make_app
from tests.support.cli import legacy_json

pytestmark = pytest.mark.integration

STAGED_TABLES = {"rows": STUDENTS, "trainings": TRAININGS, "hints": HINTS}


@pytest.fixture
def app(app_db_url: str, legacy_sqlite_url: str) -> Flask:
    return make_app(app_db_url, LEGACY_CONNECTIONS={"legacy": legacy_sqlite_url})


def validated_run(app: Flask) -> int:
    run_id = int(legacy_json(app, "import")["run_id"])
    legacy_json(app, "validate", f"--run={run_id}")
    return run_id


def staged(app: Flask, run_id: int) -> dict[str, int]:
    with app.app_context():
        return {
            name: db.session.scalar(select(func.count()).where(table.c.import_run_id == run_id)) or 0
            for name, table in STAGED_TABLES.items()
        }


def test_deleting_a_staged_row_deletes_its_training_and_hints_only(app: Flask) -> None:
    run_id = validated_run(app)
    before = staged(app, run_id)
    with app.app_context():
        hinted = db.session.scalar(select(HINTS.c.student_import_id).limit(1))
        hints = db.session.scalar(select(func.count()).where(HINTS.c.student_import_id == hinted))
        db.session.execute(delete(STUDENTS).where(STUDENTS.c.id == hinted))
        db.session.commit()
        assert db.session.scalar(select(func.count()).where(TRAININGS.c.student_import_id == hinted)) == 0
        assert db.session.scalar(select(func.count()).where(HINTS.c.student_import_id == hinted)) == 0
    assert hints
    assert staged(app, run_id) == {
        "rows": before["rows"] - 1,
        "trainings": before["trainings"] - 1,
        "hints": before["hints"] - hints,
    }


def test_deleting_a_run_deletes_its_staged_rows_and_leaves_other_runs_alone(app: Flask) -> None:
    kept, deleted = validated_run(app), validated_run(app)
    kept_before = staged(app, kept)
    # The same legacy rows in both runs; not always the same hints: helper processes stage
    # chunks side by side, so which of a person's rows is staged first (the one the others
    # point at) can differ between runs.
    deleted_before = staged(app, deleted)
    assert all(kept_before.values()) and all(deleted_before.values())
    assert (deleted_before["rows"], deleted_before["trainings"]) == (
        kept_before["rows"],
        kept_before["trainings"],
    )
    with app.app_context():
        db.session.execute(delete(RUNS).where(RUNS.c.id == deleted))
        db.session.commit()
    assert staged(app, deleted) == {"rows": 0, "trainings": 0, "hints": 0}
    assert staged(app, kept) == kept_before


def test_the_migration_keeps_every_staged_row_training_and_hint(app: Flask) -> None:
    """Down to 0011 and up again: on SQLite both rebuild the staging tables, which must not
    cascade to the rows that refer to them."""
    run_id = validated_run(app)
    before = staged(app, run_id)
    with app.app_context():
        downgrade(revision="0011")
        upgrade()
        db.engine.dispose()
    assert staged(app, run_id) == before
    with app.app_context():
        db.session.execute(delete(RUNS).where(RUNS.c.id == run_id))  # the triggers are back
        db.session.commit()
    assert staged(app, run_id) == {"rows": 0, "trainings": 0, "hints": 0}
