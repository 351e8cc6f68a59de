"""The whole pipeline on the generated demo database: import, validate, classify, dry-run."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from app.extensions import db
from app.legacy_import import validate as validate_module
from app.legacy_import.models import LegacyImportRun, LegacyStudentImport
from tests.support.cli import legacy_json

pytestmark = pytest.mark.integration


def outcomes(app: Flask, run_id: int) -> list[tuple[Any, ...]]:
    with app.app_context():
        return db.session.execute(
            select(
                LegacyStudentImport.source_table,
                LegacyStudentImport.legacy_id,
                LegacyStudentImport.validation_state,
                LegacyStudentImport.duplicate_confidence,
                LegacyStudentImport.classification,
                LegacyStudentImport.import_action,
            )
            .where(LegacyStudentImport.import_run_id == run_id)
            .order_by(LegacyStudentImport.source_table, LegacyStudentImport.legacy_id)
        ).all()


def test_the_dry_run_totals_add_up_to_the_staged_rows(sqlite_app: Flask) -> None:
    run_id = legacy_json(sqlite_app, "import")["run_id"]
    legacy_json(sqlite_app, "validate", f"--run={run_id}")
    legacy_json(sqlite_app, "classify", f"--run={run_id}")
    report = legacy_json(sqlite_app, "dry-run", f"--run={run_id}")

    staged = len(outcomes(sqlite_app, run_id))
    assert report["rows"] == staged == 600
    for breakdown in ("by_classification", "by_validation_state", "by_import_action", "by_session_type"):
        assert sum(report[breakdown].values()) == staged, breakdown
    planned = (
        sum(report["leads"].values())
        + report["completed_trainings"]["create"]
        + sum(report["deferred"].values())
        + sum(report["blocked"].values())
    )
    assert planned == staged
    assert set(report["by_session_type"]) == {
        "real_session",
        "waiting_session",
        "placeholder_session",
        "unknown",
    }
    assert report["blocked"]["review_queue"] == report["by_validation_state"]["needs_review"]
    assert legacy_json(sqlite_app, "status", f"--run={run_id}")["status"] == "dry_run_ready"


def test_classify_before_validate_is_refused(sqlite_app: Flask) -> None:
    run_id = legacy_json(sqlite_app, "import")["run_id"]
    result = sqlite_app.test_cli_runner().invoke(args=["legacy", "classify", f"--run={run_id}"])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: run {run_id} is ingested; classify needs a run that is")


def test_a_validation_that_fails_midway_resumes_to_the_same_result(
    sqlite_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    sqlite_app.config["LEGACY_BATCH_SIZE"] = "100"
    reference = legacy_json(sqlite_app, "import")["run_id"]
    legacy_json(sqlite_app, "validate", f"--run={reference}")
    run_id = legacy_json(sqlite_app, "import")["run_id"]

    calls = {"n": 0}
    real_validate = validate_module.validate

    def crashing_validate(facts: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 350:
            raise MemoryError
        return real_validate(facts)

    monkeypatch.setattr(validate_module, "validate", crashing_validate)
    failed = sqlite_app.test_cli_runner().invoke(args=["legacy", "validate", f"--run={run_id}"])
    assert failed.exit_code == 1
    assert f"flask legacy resume --run={run_id}" in failed.stderr
    with sqlite_app.app_context():
        run = db.session.get(LegacyImportRun, run_id)
        assert (run.status, run.current_step, run.failure_reason) == (
            "failed",
            "validation",
            "validation: MemoryError",
        )
        assert run.step_checkpoint > 0
        assert run.rows_done == 300

    monkeypatch.setattr(validate_module, "validate", real_validate)
    resumed = legacy_json(sqlite_app, "resume", f"--run={run_id}")

    assert resumed["status"] == "validated"
    assert resumed["progress"]["rows_done"] == 600
    assert [row[2:] for row in outcomes(sqlite_app, run_id)] == [
        row[2:] for row in outcomes(sqlite_app, reference)
    ]
