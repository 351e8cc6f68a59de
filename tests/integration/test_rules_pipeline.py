"""Validate, classify and dry-run on PostgreSQL, against existing users and CRM leads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy import select

from app.accounts.models import User
from app.crm.models import CrmLead
from app.extensions import db
from app.legacy_import import classify as classify_module
from app.legacy_import.demo import legacy_metadata
from app.legacy_import.models import (
    LegacyDuplicateHint,
    LegacyImportRun,
    LegacyStudentImport,
    LegacyTrainingImport,
)
from app.legacy_import.vocab import SessionType
from tests.conftest import make_app, truncate_app_tables
from tests.support.cli import legacy_json

pytestmark = pytest.mark.integration

SCHOOL_PHONE = "021 73 45 10"


def stagiaire(i: int, nom: str | None, prenom: str | None, **values: Any) -> dict[str, Any]:
    return {
        "id": i,
        "nom": nom,
        "prenom": prenom,
        "statut": "Informer",
        "formation_id": 1,
        "session_ecoin_id": 10,
        **values,
    }


STAGIAIRES = [
    stagiaire(1, "Haddad", "Karim", telephone="0661 00 00 01", statut="Formée"),
    stagiaire(2, "Kaci", "Sara", email=" SARA.KACI@gmail.com"),
    stagiaire(
        3,
        "Ali",
        "Yacine",
        telephone="0555 11 22 33",
        email="yacine@ecole.dz",
        date_naissance="1999-04-02",
        statut="Formée",
    ),
    *[
        stagiaire(
            20 + n, f"Famille{chr(65 + n)}", "Prénom", telephone=SCHOOL_PHONE, email=f"eleve{n}@gmail.com"
        )
        for n in range(12)
    ],
    stagiaire(40, "BENALI", "Âmine", telephone="0770 12 34 56"),
    stagiaire(41, "Mansouri", "Lyes", telephone="0660 99 88 77", session_ecoin_id=999),
    stagiaire(42, None, None, telephone="0", email="/"),
    stagiaire(43, "Zerrouki", "Nadia", telephone="0551 23 45 67", statut="Reporter", session_ecoin_id=1),
    stagiaire(
        44,
        "Belkacem",
        "Omar",
        telephone="0552 23 45 67",
        statut="Formée",
        formation_id=None,
        session_ecoin_id=None,
    ),
    # a session id of 0, a waiting session the run does not hold, a session without formation
    stagiaire(45, "Saadi", "Rym", telephone="0553 10 20 30", session_ecoin_id=0),
    stagiaire(46, "Touati", "Walid", telephone="0554 10 20 30", session_ecoin_id=235),
    stagiaire(47, "Hamdi", "Lina", telephone="0556 10 20 30", session_ecoin_id=11),
]
ARCHIVES = [
    {
        "id": 1,
        "stagiaire_id": 3,
        "nom": "ALI",
        "prenom": "yacine",
        "telephone": "+213 555 11 22 33",
        "date_naissance": "02/04/1999",
        "statut": "Archivé",
        "formation_id": 1,
        "session_ecoin_id": 10,
    },
]


def build_legacy(path: Path) -> str:
    url = f"sqlite:///{path}"
    engine = sa.create_engine(url)
    metadata = legacy_metadata()
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(metadata.tables["formations"].insert(), [{"id": 1, "nom": "Développement Web"}])
        conn.execute(
            metadata.tables["session_ecoins"].insert(),
            [
                {"id": 0, "code": "DW-2020-00", "formation_id": 1},  # 0 still means "no session"
                {"id": 1, "code": "Session-Attente-DW", "formation_id": 1},
                {"id": 10, "code": "DW-2023-03", "formation_id": 1},
                {"id": 11, "code": "X-2020", "formation_id": None},
            ],
        )
        columns = metadata.tables["stagiaires"].columns.keys()
        conn.execute(
            metadata.tables["stagiaires"].insert(), [{c: row.get(c) for c in columns} for row in STAGIAIRES]
        )
        conn.execute(metadata.tables["archives"].insert(), ARCHIVES)
    engine.dispose()
    return url


@pytest.fixture
def app(postgres_url: str, tmp_path: Path) -> Flask:
    app = make_app(postgres_url, LEGACY_CONNECTIONS={"legacy": build_legacy(tmp_path / "legacy.sqlite")})
    truncate_app_tables(app)
    with app.app_context():
        db.session.add_all(
            [
                User(first_name="Karim", last_name="Haddad", phone="213661000001", email="karim@ecole.dz"),
                User(first_name="Accueil", last_name="Ecole", phone="21321734510"),
                CrmLead(
                    first_name="Sara", last_name="Kaci", phone="213770000002", email="sara.kaci@gmail.com"
                ),
                CrmLead(first_name="Amine", last_name="Benali", phone="213770000003"),
            ]
        )
        db.session.commit()
    return app


def pipeline(app: Flask) -> tuple[int, dict[str, Any]]:
    run_id = legacy_json(app, "import")["run_id"]
    assert legacy_json(app, "validate", f"--run={run_id}")["status"] == "validated"
    assert legacy_json(app, "classify", f"--run={run_id}")["status"] == "classified"
    return run_id, legacy_json(app, "dry-run", f"--run={run_id}")


def staged(app: Flask, source_table: str, legacy_id: int) -> dict[str, Any]:
    with app.app_context():
        row = db.session.execute(
            select(LegacyStudentImport).where(
                LegacyStudentImport.source_table == source_table, LegacyStudentImport.legacy_id == legacy_id
            )
        ).scalar_one()
        hints = db.session.scalars(
            select(LegacyDuplicateHint).where(LegacyDuplicateHint.student_import_id == row.id)
        ).all()
        return {
            "id": row.id,
            "validation_state": row.validation_state,
            "validation_reasons": row.validation_reasons,
            "classification": row.classification,
            "classification_rule": row.classification_rule,
            "import_action": row.import_action,
            "duplicate_confidence": row.duplicate_confidence,
            "session_type": row.training.session_type if row.training else None,
            "hints": sorted((h.confidence, h.reason, h.target_type) for h in hints),
        }


def test_high_hints_point_at_existing_users_and_leads(app: Flask) -> None:
    pipeline(app)
    karim = staged(app, "stagiaires", 1)
    assert ("high", "same_phone_as_user", "user") in karim["hints"]
    assert karim["validation_state"] == "duplicate"
    assert karim["validation_reasons"] == ["matches_existing_user"]
    sara = staged(app, "stagiaires", 2)
    assert ("high", "same_email_as_crm_lead", "crm_lead") in sara["hints"]
    assert sara["duplicate_confidence"] == "high"
    assert sara["validation_state"] == "duplicate"


def test_the_same_person_twice_in_a_run_is_linked(app: Flask) -> None:
    pipeline(app)
    first, archived = staged(app, "stagiaires", 3), staged(app, "archives", 1)
    assert ("high", "same_phone_in_run", "staged_row") in archived["hints"]
    assert ("medium", "same_name_and_birth_date", "staged_row") in archived["hints"]
    assert archived["validation_state"] == "needs_review"
    assert "medium_duplicate_hint" in archived["validation_reasons"]
    assert first["hints"] == []
    assert first["validation_state"] == "valid"
    assert archived["classification"] == "archived_training"


def test_the_school_phone_on_many_rows_never_gives_a_high_hint(app: Flask) -> None:
    run_id, _ = pipeline(app)
    rows = [staged(app, "stagiaires", 20 + n) for n in range(12)]
    assert all(h[0] != "high" for row in rows for h in row["hints"])
    assert {row["validation_state"] for row in rows} == {"valid"}  # each still has its own e-mail
    with app.app_context():
        assert db.session.get(LegacyImportRun, run_id).shared_contacts["phones"] == ["21321734510"]


def test_a_similar_name_is_a_low_hint_whatever_the_order_and_accents(app: Flask) -> None:
    pipeline(app)
    amine = staged(app, "stagiaires", 40)
    assert amine["hints"] == [("low", "similar_name", "crm_lead")]
    assert amine["duplicate_confidence"] == "low"
    assert amine["validation_state"] == "valid"


def test_rows_that_need_review_or_fail_say_why(app: Flask) -> None:
    pipeline(app)
    dangling = staged(app, "stagiaires", 41)
    assert dangling["session_type"] == "unknown"
    assert dangling["validation_reasons"] == ["dangling_session"]
    nobody = staged(app, "stagiaires", 42)
    assert nobody["validation_state"] == "failed"
    assert nobody["validation_reasons"] == ["no_name_phone_or_email"]
    waiting = staged(app, "stagiaires", 43)
    assert waiting["session_type"] == "waiting_session"
    assert (waiting["classification"], waiting["classification_rule"]) == (
        "lead_only",
        "status_reporter_no_real_session",
    )
    trained_nowhere = staged(app, "stagiaires", 44)
    assert trained_nowhere["classification"] == "needs_review"
    assert trained_nowhere["import_action"] == "needs_review"
    assert trained_nowhere["validation_reasons"] == ["classification_needs_review"]


def test_the_dry_run_accounts_for_every_row_and_writes_nothing(app: Flask) -> None:
    with app.app_context():
        before = (db.session.query(User).count(), db.session.query(CrmLead).count())
    run_id, report = pipeline(app)
    rows = len(STAGIAIRES) + len(ARCHIVES)
    assert report["rows"] == rows
    planned = (
        sum(report["leads"].values())
        + report["completed_trainings"]["create"]
        + sum(report["deferred"].values())
        + sum(report["blocked"].values())
    )
    assert planned == rows
    for breakdown in ("by_classification", "by_validation_state", "by_import_action", "by_session_type"):
        assert sum(report[breakdown].values()) == rows
    assert report["leads"]["link_existing"] == 1  # Sara, a lead already
    assert report["deferred"]["unmapped_formation"] >= 1  # completed rows wait for course mapping
    with app.app_context():
        assert (db.session.query(User).count(), db.session.query(CrmLead).count()) == before
        run = db.session.get(LegacyImportRun, run_id)
        assert run.status == "dry_run_ready"
        assert run.dry_run_report == report


DECISIONS = (
    LegacyStudentImport.legacy_id,
    LegacyStudentImport.classification,
    LegacyStudentImport.classification_rule,
    LegacyStudentImport.import_action,
    LegacyTrainingImport.session_type,
    LegacyTrainingImport.import_action.label("training_action"),
)


def decisions(app: Flask, run_id: int) -> list[Any]:
    with app.app_context():
        query = (
            select(*DECISIONS)
            .join(LegacyTrainingImport, LegacyTrainingImport.student_import_id == LegacyStudentImport.id)
            .where(LegacyStudentImport.import_run_id == run_id)
            .order_by(LegacyStudentImport.source_table, LegacyStudentImport.legacy_id)
        )
        return [tuple(row) for row in db.session.execute(query)]


def test_the_import_stages_the_rules_decisions_and_the_phases_correct_stale_ones(app: Flask) -> None:
    """Rows are staged with the session type, classification and import action the rules give;
    validation and classification apply the rules again and rewrite only what differs."""
    run_id = legacy_json(app, "import")["run_id"]
    staged_decisions = decisions(app, run_id)
    assert {row[1] for row in staged_decisions} >= {"completed", "lead_only", "needs_review"}
    assert {row[4] for row in staged_decisions} == set(SessionType)
    assert all(None not in row for row in staged_decisions)
    with app.app_context():  # stale decisions, as a run staged by an earlier version would hold
        stale = sa.update(LegacyStudentImport).where(LegacyStudentImport.import_run_id == run_id)
        db.session.execute(stale.values(classification=None, classification_rule=None, import_action=None))
        trainings = sa.update(LegacyTrainingImport).where(LegacyTrainingImport.import_run_id == run_id)
        db.session.execute(trainings.values(session_type="unknown", import_action=None))
        db.session.commit()

    legacy_json(app, "validate", f"--run={run_id}")
    legacy_json(app, "classify", f"--run={run_id}")

    assert decisions(app, run_id) == staged_decisions


def test_the_app_s_postgresql_connections_compile_no_query(app: Flask) -> None:
    """JIT compilation off (`engine_options`): compiling cost more than it saved on every query
    measured here, up to 2.5 s of CPU for one grouping of a 100k-row run."""
    with app.app_context():
        assert db.session.scalar(sa.text("SHOW jit")) == "off"


def test_classification_reads_rows_one_by_one_only_when_some_decision_is_stale(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After an import every row holds the rules' decision: classification checks them once per
    distinct status, formation and session, and reads no row. One stale row or training, and
    it goes through the rows and corrects it."""
    run_id = legacy_json(app, "import")["run_id"]
    legacy_json(app, "validate", f"--run={run_id}")
    staged_decisions = decisions(app, run_id)
    passes: list[int] = []
    row_by_row = classify_module.student_batches

    def counted(context: Any, *args: Any, **kwargs: Any) -> Any:
        passes.append(context.run_id)
        return row_by_row(context, *args, **kwargs)

    monkeypatch.setattr(classify_module, "student_batches", counted)

    classified = legacy_json(app, "classify", f"--run={run_id}")
    assert passes == []
    assert (
        classified["progress"]["rows_done"] == classified["progress"]["rows_total"] == len(staged_decisions)
    )

    with app.app_context():  # one stale row, and another row's stale training
        ids = db.session.scalars(
            select(LegacyStudentImport.id)
            .where(LegacyStudentImport.import_run_id == run_id)
            .order_by(LegacyStudentImport.id)
        ).all()
        row = db.session.get(LegacyStudentImport, ids[0])
        row.classification = "lead_only" if row.classification == "registered" else "registered"
        training = db.session.scalars(
            select(LegacyTrainingImport).where(LegacyTrainingImport.student_import_id == ids[-1])
        ).one()
        stale_action = (
            "needs_review" if training.import_action != "needs_review" else "create_course_interest"
        )
        training.import_action = stale_action
        db.session.commit()
    assert decisions(app, run_id) != staged_decisions

    legacy_json(app, "classify", f"--run={run_id}")
    assert passes == [run_id]
    assert decisions(app, run_id) == staged_decisions


def test_the_hints_are_stored_row_by_row_the_stronger_ones_first(app: Flask) -> None:
    """Written in row order, the hints of a batch of rows sit together on disk, where the row
    pass, the dry run and the commit read them a batch at a time."""
    run_id, _ = pipeline(app)
    with app.app_context():
        stored = db.session.execute(
            select(LegacyDuplicateHint.student_import_id, LegacyDuplicateHint.confidence)
            .where(LegacyDuplicateHint.import_run_id == run_id)
            .order_by(LegacyDuplicateHint.id)
        ).all()
    assert {confidence for _, confidence in stored} == {"high", "medium", "low"}
    assert len({row_id for row_id, _ in stored}) > 5
    assert stored == sorted(stored, key=lambda hint: (hint.student_import_id, hint.confidence == "low"))
