"""The runs pages: starting an import and its phases from the browser, a run's detail (charts,
dry-run report, commit logs), its live progress, permissions, CSRF and the audit trail.

No broker is configured, so Celery runs each task in process before the redirect."""

from __future__ import annotations

import json
import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from app.accounts.models import User
from app.audit.models import AuditEvent
from app.extensions import db
from app.legacy_import.models import (
    RUN_COUNTERS,
    LegacyImportCommitLog,
    LegacyImportRun,
    LegacyStudentImport,
    LegacyTrainingImport,
)
from app.legacy_import.runs import create_run
from app.legacy_import.web.runs import COUNTER_LABELS, RUNS_PER_PAGE
from tests.e2e.conftest import csrf_token, email_for

RUNS = "/admin/legacy-imports"


def start_import(client: FlaskClient, label: str = "essai web", connection: str = "legacy") -> Any:
    token = csrf_token(client, RUNS)
    return client.post(f"{RUNS}/new", data={"csrf_token": token, "connection": connection, "label": label})


def start_phase(client: FlaskClient, run_id: int, phase: str) -> Any:
    return client.post(f"{RUNS}/{run_id}/{phase}", data={"csrf_token": csrf_token(client, RUNS)})


def run_status(app: Flask, run_id: int) -> str:
    with app.app_context():
        run = db.session.get(LegacyImportRun, run_id)
        assert run is not None
        return run.status


def audit_events(app: Flask, prefix: str = "legacy_import.") -> list[AuditEvent]:
    with app.app_context():
        query = select(AuditEvent).where(AuditEvent.action.startswith(prefix)).order_by(AuditEvent.id)
        return list(db.session.scalars(query))


def user_id(app: Flask, role: str) -> int:
    with app.app_context():
        return db.session.scalars(select(User.id).where(User.email == email_for(role))).one()


def prepared_run(app: Flask, client_as: Any) -> int:
    """A run taken to `dry_run_ready` through the pages, by an import manager."""
    client = client_as("import_manager")
    assert start_import(client).status_code == 302
    for phase in ("validate", "classify", "dry-run"):
        assert start_phase(client, 1, phase).status_code == 302
    assert run_status(app, 1) == "dry_run_ready"
    return 1


def counts_by(app: Flask, column: Any, run_id: int) -> dict[str, int]:
    with app.app_context():
        query = select(column, func.count()).where(column.table.c.import_run_id == run_id).group_by(column)
        return {str(value): count for value, count in db.session.execute(query)}


def test_an_import_manager_starts_an_import_and_its_phases_from_the_pages(
    web_app: Flask, client_as: Any
) -> None:
    client = client_as("import_manager")
    page = client.get(RUNS).get_data(as_text=True)
    assert "Nouvel import" in page and '<option value="legacy">legacy</option>' in page
    assert "Aucun import pour l'instant." in page

    response = start_import(client)
    assert response.status_code == 302
    assert response.headers["Location"] == f"{RUNS}/1"
    assert run_status(web_app, 1) == "ingested"  # eager: the task ran before the redirect
    detail = client.get(f"{RUNS}/1").get_data(as_text=True)
    assert "Import n°1 lancé sur la connexion « legacy »." in detail

    with web_app.app_context():
        run = db.session.get(LegacyImportRun, 1)
        assert run is not None and run.initiated_by_id == user_id(web_app, "import_manager")
        assert run.label == "essai web" and run.stagiaires_staged > 0

    listing = client.get(RUNS).get_data(as_text=True)
    assert 'action="/admin/legacy-imports/1/validate"' in listing
    assert 'action="/admin/legacy-imports/1/classify"' not in listing  # not valid while ingested
    for phase, status in (
        ("validate", "validated"),
        ("classify", "classified"),
        ("dry-run", "dry_run_ready"),
    ):
        response = start_phase(client, 1, phase)
        assert response.status_code == 302 and response.headers["Location"] == f"{RUNS}/1"
        assert run_status(web_app, 1) == status
    listing = client.get(RUNS).get_data(as_text=True)
    for phase in ("validate", "classify", "dry-run"):
        assert f'action="/admin/legacy-imports/1/{phase}"' in listing
    assert "i***@ecoin.test" in listing  # who started it, masked


def test_a_viewer_sees_the_runs_but_no_forms_and_may_not_post(web_app: Flask, client_as: Any) -> None:
    prepared_run(web_app, client_as)
    viewer = client_as("viewer")
    listing = viewer.get(RUNS).get_data(as_text=True)
    assert 'href="/admin/legacy-imports/1"' in listing
    assert "Nouvel import" not in listing
    assert f"{RUNS}/new" not in listing and f"{RUNS}/1/validate" not in listing
    detail = viewer.get(f"{RUNS}/1").get_data(as_text=True)
    assert f"{RUNS}/1/validate" not in detail and "<button" in detail  # only the sign-out button
    assert detail.count("<form") == 1
    token = csrf_token(viewer, RUNS)
    assert viewer.post(f"{RUNS}/new", data={"csrf_token": token, "connection": "legacy"}).status_code == 403
    for phase in ("validate", "classify", "dry-run"):
        assert viewer.post(f"{RUNS}/1/{phase}", data={"csrf_token": token}).status_code == 403
    assert viewer.get(f"{RUNS}/1/progress.json").status_code == 200
    with web_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(LegacyImportRun)) == 1


def test_the_run_detail_shows_the_breakdowns_the_dry_run_report_and_the_progress(
    web_app: Flask, client_as: Any
) -> None:
    run_id = prepared_run(web_app, client_as)
    page = client_as("viewer").get(f"{RUNS}/{run_id}").get_data(as_text=True)

    charts = {
        "classification": LegacyStudentImport.__table__.c.classification,
        "validation_state": LegacyStudentImport.__table__.c.validation_state,
        "import_action": LegacyStudentImport.__table__.c.import_action,
        "session_type": LegacyTrainingImport.__table__.c.session_type,
    }
    for key, column in charts.items():
        counts = counts_by(web_app, column, run_id)
        assert len(counts) > 1, key  # the demo data has a mix of every vocabulary
        section = page.split(f'id="chart-{key}"', 1)[1].split("</figure>", 1)[0]
        for value, count in counts.items():
            assert f'data-chart-value="{value}">{count}</td>' in section, (key, value)
        assert f"· {sum(counts.values())} " in section

    with web_app.app_context():
        run = db.session.get(LegacyImportRun, run_id)
        assert run is not None
        report, counters, steps = run.dry_run_report, run.counters(), run.step_log
    assert report is not None
    assert f'data-report="leads.create">{report["leads"]["create"]}<' in page
    assert f'data-report="leads.link_existing">{report["leads"]["link_existing"]}<' in page
    created = report["completed_trainings"]["create"]
    assert f'data-report="completed_trainings.create">{created}<' in page
    for key in ("deferred", "blocked"):
        for reason, count in report[key].items():
            assert f'data-report="{key}.{reason}">{count}<' in page
    for name, value in report.get("review_decisions", {}).items():
        assert f'data-report="review_decisions.{name}">{value}<' in page
    for name, value in counters.items():
        assert f'data-counter="{name}">{value}<' in page
    assert steps and "Indices de doublons" in page and "Simulation" in page
    assert "Rien n'a encore été enregistré pour cet import." in page

    progress = client_as("viewer").get(f"{RUNS}/{run_id}/progress.json")
    assert progress.status_code == 200 and progress.mimetype == "application/json"
    data = progress.get_json()
    assert data["status"] == "dry_run_ready" and data["working"] is False
    assert data["counters"] == counters
    assert {"step", "rows_done", "rows_total", "percent", "failure_reason"} <= set(data)
    assert data["rows_total"] > 0 and 0 <= data["percent"] <= 100
    assert "Étape terminée" in page


def test_the_run_detail_shows_commit_logs_without_personal_data(web_app: Flask, client_as: Any) -> None:
    run_id = prepared_run(web_app, client_as)
    with web_app.app_context():
        row = db.session.scalars(
            select(LegacyStudentImport).where(LegacyStudentImport.import_run_id == run_id)
        ).first()
        assert row is not None
        for entity_id, action in ((41, "created"), (42, "created"), (43, "linked")):
            db.session.add(
                LegacyImportCommitLog(
                    import_run_id=run_id,
                    student_import_id=row.id,
                    action=action,
                    entity_type="crm_lead",
                    entity_id=entity_id,
                    entity_snapshot={"first_name": "Secret-Prénom", "phone": "213559446168"},
                )
            )
        db.session.commit()
    page = client_as("viewer").get(f"{RUNS}/{run_id}").get_data(as_text=True)
    commit = page.split('id="commit"', 1)[1]
    assert '<td title="created">Création</td><td>Prospect CRM</td><td class="num">2</td>' in commit
    assert '<td title="linked">Liaison</td><td>Prospect CRM</td><td class="num">1</td>' in commit
    assert "Prospect CRM n°43" in commit
    assert "Secret-Prénom" not in page and "213559446168" not in page
    assert "<button" not in commit  # no commit or rollback button


def test_phase_buttons_refuse_a_run_in_the_wrong_state(web_app: Flask, client_as: Any) -> None:
    client = client_as("import_manager")
    start_import(client)
    before = len(audit_events(web_app, "legacy_import.phase_started"))
    for phase in ("classify", "dry-run"):
        response = start_phase(client, 1, phase)
        assert response.status_code == 302
        page = client.get(response.headers["Location"]).get_data(as_text=True)
        assert "impossible : l&#39;import n°1 est « lu »" in page
        assert "« classé »" in page
    assert run_status(web_app, 1) == "ingested"
    assert len(audit_events(web_app, "legacy_import.phase_started")) == before
    assert start_phase(client, 1, "commit").status_code == 404  # no commit from the web
    assert start_phase(client, 99, "validate").status_code == 404


def test_a_failed_import_is_told_in_one_line_and_shown_on_its_page(web_app: Flask, client_as: Any) -> None:
    web_app.config["LEGACY_CONNECTIONS"]["broken"] = "sqlite:////nonexistent/legacy.sqlite"
    client = client_as("import_manager")
    response = start_import(client, connection="broken")
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "n&#39;a pas abouti" in page
    assert run_status(web_app, 1) == "failed"
    assert "flask legacy resume --run=1" in page
    with web_app.app_context():
        run = db.session.get(LegacyImportRun, 1)
        assert run is not None and run.failure_reason
        reason = run.failure_reason
    assert 'data-field="failure_reason" hidden' not in page
    assert f'<span data-field="failure_text">{reason}</span>' in page


def test_import_runs_and_phases_are_audited_with_the_actor_and_no_personal_data(
    web_app: Flask, client_as: Any
) -> None:
    run_id = prepared_run(web_app, client_as)
    events = audit_events(web_app)
    manager = user_id(web_app, "import_manager")
    assert [e.action for e in events] == [
        "legacy_import.run_started",
        "legacy_import.phase_started",
        "legacy_import.phase_started",
        "legacy_import.phase_started",
    ]
    assert all(e.actor_id == manager and e.object_id == str(run_id) for e in events)
    assert events[0].details == {"connection": "legacy"}
    assert [e.details["phase"] for e in events[1:]] == ["validate", "classify", "dry-run"]  # type: ignore[index]
    assert all(e.created_at is not None for e in events)

    with web_app.app_context():
        people = db.session.execute(
            select(
                LegacyStudentImport.phone_raw,
                LegacyStudentImport.phone_normalized,
                LegacyStudentImport.email_raw,
                LegacyStudentImport.first_name,
                LegacyStudentImport.last_name,
            ).where(LegacyStudentImport.import_run_id == run_id)
        ).all()
    personal = {value for row in people for value in row if value and len(value) >= 4}
    assert personal
    trail = json.dumps(
        [[e.action, e.object_type, e.object_id, e.details] for e in events], ensure_ascii=False
    )
    assert not [value for value in personal if value in trail]


def test_posts_without_a_csrf_token_are_refused(web_app: Flask, client_as: Any) -> None:
    client = client_as("import_manager")
    assert client.post(f"{RUNS}/new", data={"connection": "legacy"}).status_code == 400
    start_import(client)
    assert client.post(f"{RUNS}/1/validate").status_code == 400
    assert run_status(web_app, 1) == "ingested"
    with web_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(LegacyImportRun)) == 1


def test_a_new_import_needs_a_configured_connection(web_app: Flask, client_as: Any) -> None:
    client = client_as("import_manager")
    response = start_import(client, connection="elsewhere")
    assert response.status_code == 302 and response.headers["Location"] == RUNS
    assert "Import non lancé" in client.get(RUNS).get_data(as_text=True)
    with web_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(LegacyImportRun)) == 0


def test_unknown_runs_are_not_found(client_as: Any) -> None:
    client = client_as("viewer")
    assert client.get(f"{RUNS}/99").status_code == 404
    assert client.get(f"{RUNS}/99/progress.json").status_code == 404


def test_the_runs_list_is_paginated_and_names_who_started_each_run(web_app: Flask, client_as: Any) -> None:
    with web_app.app_context():
        for number in range(RUNS_PER_PAGE + 5):
            create_run(db.session, "legacy", f"lot {number}")
    client = client_as("viewer")
    first = client.get(RUNS).get_data(as_text=True)
    assert first.count('<tr data-run-progress="') == RUNS_PER_PAGE  # pending runs are followed live
    assert f'href="{RUNS}/{RUNS_PER_PAGE + 5}"' in first and f'href="{RUNS}/5"' not in first
    assert "CLI" in first
    next_page = re.search(r'href="(/admin/legacy-imports\?before=\d+)"', first)
    assert next_page
    second = client.get(next_page.group(1)).get_data(as_text=True)
    assert f'href="{RUNS}/5"' in second and f'href="{RUNS}/1"' in second
    assert "?before=" not in second and "Les plus récents" in second


def test_pages_load_their_script_from_static_and_have_no_inline_code(web_app: Flask, client_as: Any) -> None:
    client = client_as("import_manager")
    start_import(client)
    for path in (RUNS, f"{RUNS}/1"):
        page = client.get(path).get_data(as_text=True)
        scripts = re.findall(r"<script[^>]*>", page)
        assert scripts == ['<script src="/static/js/run_progress.js" defer>']
        assert "style=" not in page and " onclick=" not in page
    assert client.get("/static/js/run_progress.js").status_code == 200


def test_every_counter_has_a_label() -> None:
    assert set(COUNTER_LABELS) == set(RUN_COUNTERS)


def test_the_workspace_cannot_start_a_commit_or_a_rollback(client_as: Any) -> None:
    client = client_as("administrator")
    client.application.test_cli_runner().invoke(args=["legacy", "import", "--json"])
    token = csrf_token(client, "/admin/legacy-imports")
    for phase in ("commit", "rollback"):
        assert client.post(f"/admin/legacy-imports/1/{phase}", data={"csrf_token": token}).status_code == 404
    page = client.get("/admin/legacy-imports/1").get_data(as_text=True)
    assert "/1/commit" not in page and "/1/rollback" not in page
