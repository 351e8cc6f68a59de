"""The commit slice and its rollback on PostgreSQL, with existing users and CRM leads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select, update

from app.accounts.models import User
from app.crm import services as crm_services
from app.crm.models import CrmLead
from app.extensions import db
from app.legacy_import.models import (
    LegacyCompletedTraining,
    LegacyCourseMapping,
    LegacyImportCommitLog,
    LegacyImportRun,
)
from tests.conftest import make_app, truncate_app_tables
from tests.integration.test_rules_pipeline import build_legacy
from tests.support.cli import legacy_json

pytestmark = pytest.mark.integration


@pytest.fixture
def app(postgres_url: str, tmp_path: Path) -> Flask:
    app = make_app(postgres_url, LEGACY_CONNECTIONS={"legacy": build_legacy(tmp_path / "legacy.sqlite")})
    truncate_app_tables(app)
    with app.app_context():
        db.session.add_all(
            [
                User(first_name="Karim", last_name="Haddad", phone="213661000001", email="karim@ecole.dz"),
                CrmLead(
                    first_name="Sara", last_name="Kaci", phone="213770000002", email="sara.kaci@gmail.com"
                ),
            ]
        )
        db.session.commit()
    return app


def ready_run(app: Flask) -> tuple[int, dict[str, Any]]:
    run_id = legacy_json(app, "import")["run_id"]
    for phase in ("validate", "classify"):
        legacy_json(app, phase, f"--run={run_id}")
    with app.app_context():
        db.session.execute(update(LegacyCourseMapping).values(decision="legacy_only"))
        db.session.commit()
    return run_id, legacy_json(app, "dry-run", f"--run={run_id}")


def counts(app: Flask) -> dict[str, int]:
    with app.app_context():
        return {
            "users": db.session.scalar(select(func.count()).select_from(User)),
            "leads": db.session.scalar(select(func.count()).select_from(CrmLead)),
            "trainings": db.session.scalar(select(func.count()).select_from(LegacyCompletedTraining)),
            "logs": db.session.scalar(select(func.count()).select_from(LegacyImportCommitLog)),
        }


def test_the_commit_does_what_the_dry_run_said_and_only_once(app: Flask) -> None:
    before = counts(app)
    run_id, report = ready_run(app)

    committed = legacy_json(app, "commit", f"--run={run_id}", "--batch=3")

    assert committed["status"] == "committed"
    after = counts(app)
    assert after["leads"] - before["leads"] == report["leads"]["create"] > 0
    assert after["trainings"] == report["completed_trainings"]["create"] > 0
    assert committed["commit"]["linked_crm_lead"] == report["leads"]["link_existing"] == 1
    with app.app_context():
        created = db.session.scalars(select(CrmLead).where(CrmLead.legacy_import_run_id == run_id)).all()
        assert {lead.source for lead in created} == {"legacy_platform"}
        assert "21321734510" not in {lead.phone for lead in created}  # the school's number is nobody's
        sara = db.session.scalars(select(CrmLead).where(CrmLead.email == "sara.kaci@gmail.com")).one()
        assert sara.legacy_import_run_id is None  # the existing lead is linked, never rewritten

    again = legacy_json(app, "commit", f"--run={run_id}")
    assert counts(app) == after
    assert again["commit"] == committed["commit"]


def test_an_interrupted_commit_resumes_without_doubles(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    run_id, report = ready_run(app)
    calls = {"n": 0}
    real_create = crm_services.create_lead

    def failing_create(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 4:
            raise ConnectionError
        return real_create(*args, **kwargs)

    monkeypatch.setattr("app.legacy_import.commit.create_lead", failing_create)
    failed = app.test_cli_runner().invoke(args=["legacy", "commit", f"--run={run_id}", "--batch=2"])
    assert failed.exit_code == 1
    with app.app_context():
        run = db.session.get(LegacyImportRun, run_id)
        assert (run.status, run.failure_reason) == ("failed", "commit: ConnectionError")

    monkeypatch.setattr("app.legacy_import.commit.create_lead", real_create)
    assert legacy_json(app, "resume", f"--run={run_id}")["status"] == "committed"
    with app.app_context():
        created = db.session.scalar(
            select(func.count()).select_from(CrmLead).where(CrmLead.legacy_import_run_id == run_id)
        )
    assert created == report["leads"]["create"]


def test_rollback_undoes_exactly_what_the_run_created(app: Flask) -> None:
    before = counts(app)
    run_id, _ = ready_run(app)
    legacy_json(app, "commit", f"--run={run_id}")
    with app.app_context():
        touched = db.session.scalars(select(CrmLead).where(CrmLead.legacy_import_run_id == run_id)).first()
        touched.status = "contacted"  # a salesperson worked on this lead since the commit
        db.session.commit()
        touched_id = touched.id

    rolled_back = legacy_json(app, "rollback", f"--run={run_id}")

    assert rolled_back["status"] == "rolled_back"
    assert rolled_back["rollback"]["changed_since_commit"] == 1
    after = counts(app)
    assert after["users"] == before["users"]
    assert after["leads"] == before["leads"] + 1
    assert after["trainings"] == 0
    with app.app_context():
        assert db.session.get(CrmLead, touched_id).status == "contacted"
        assert db.session.scalars(select(CrmLead).where(CrmLead.email == "sara.kaci@gmail.com")).one()
