"""Course and session mapping through the test client and the services (SPEC.md, "Web pages",
"Commit slice", "Sessions")."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.catalog.models import Cohort, Course
from app.extensions import db
from app.legacy_import import mapping
from app.legacy_import.models import LegacyCourseMapping, LegacySessionMapping
from tests.e2e.conftest import csrf_token
from tests.e2e.test_review_pages import audit_events, dry_run, pipeline

COURSES = "/admin/legacy-imports/course-mapping"
SESSIONS = "/admin/legacy-imports/session-mapping"
COURSE_NAMES = ("Développement web", "Comptabilité et finance", "Anglais", "Marketing digital", "Infographie")


def add_courses(app: Flask) -> dict[str, int]:
    with app.app_context():
        courses = [Course(name=name) for name in COURSE_NAMES]
        db.session.add_all(courses)
        db.session.commit()
        return {course.name: course.id for course in courses}


def add_cohort(app: Flask, course_id: int, name: str = "DW printemps 2026") -> int:
    with app.app_context():
        cohort = Cohort(course_id=course_id, name=name, starts_on=date(2026, 3, 1))
        db.session.add(cohort)
        db.session.commit()
        return cohort.id


def course_mapping(app: Flask, run_id: int, formation_id: int) -> LegacyCourseMapping:
    with app.app_context():
        found = db.session.scalars(
            select(LegacyCourseMapping).filter_by(import_run_id=run_id, legacy_formation_id=formation_id)
        ).one()
        db.session.expunge(found)
        return found


def session_mapping(app: Flask, run_id: int, session_type: str) -> LegacySessionMapping:
    with app.app_context():
        found = db.session.scalars(
            select(LegacySessionMapping)
            .filter_by(import_run_id=run_id, session_type=session_type)
            .order_by(LegacySessionMapping.legacy_session_id)
        ).first()
        assert found is not None
        db.session.expunge(found)
        return found


def post(client: FlaskClient, path: str, **data: Any) -> str:
    response = client.post(path, data={"csrf_token": csrf_token(client, path), **data}, follow_redirects=True)
    assert response.status_code == 200
    return response.get_data(as_text=True)


# -- course mapping ------------------------------------------------------------------------------


def test_suggestions_find_the_current_course_by_a_fuzzy_name(web_app: Flask, client_as: Any) -> None:
    run_id, _ = pipeline(web_app)
    courses = add_courses(web_app)
    with web_app.app_context():  # a name as an old latin1 connection stored it
        db.session.get(
            LegacyCourseMapping, course_mapping(web_app, run_id, 25).id
        ).legacy_name = "DÃ©veloppement Web"
        db.session.commit()
    client = client_as("reviewer")
    assert "non calculée" in client.get(f"{COURSES}?run={run_id}").get_data(as_text=True)
    page = post(client, COURSES, run_id=run_id, decision="suggest")
    assert "Suggestions calculées" in page
    for formation_id in (1, 25):
        suggested = course_mapping(web_app, run_id, formation_id)
        assert suggested.suggested_course_id == courses["Développement web"]
        assert suggested.suggestion_score is not None and suggested.suggestion_score >= 90
        assert suggested.decision == "pending" and suggested.course_id is None
    assert course_mapping(web_app, run_id, 5).suggested_course_id == courses["Infographie"]
    unrelated = course_mapping(web_app, run_id, 21)  # Hygiène, sécurité et environnement (HSE)
    assert unrelated.suggested_course_id is None and unrelated.suggestion_score < mapping.SUGGESTION_CUTOFF
    page = client.get(f"{COURSES}?run={run_id}").get_data(as_text=True)
    assert "Développement web" in page and "Élevée" in page and "aucune formation proche" in page
    [event] = audit_events(web_app)
    assert event.action == "legacy_import.course_mapping.suggest" and event.details["suggested"] >= 3


def test_an_accepted_mapping_lets_completed_rows_become_completed_trainings(
    web_app: Flask, client_as: Any
) -> None:
    run_id, report = pipeline(web_app)
    assert report["completed_trainings"]["create"] == 0
    courses = add_courses(web_app)
    client = client_as("reviewer")
    post(client, COURSES, run_id=run_id, decision="suggest")
    target = course_mapping(web_app, run_id, 1)
    page = post(client, COURSES, run_id=run_id, decision="accept", mapping_id=target.id)
    assert "Formation n°1 : Associée" in page
    accepted = course_mapping(web_app, run_id, 1)
    assert (accepted.decision, accepted.course_id) == ("mapped", courses["Développement web"])
    assert accepted.reviewed_by_id is not None and accepted.reviewed_at is not None
    after = dry_run(web_app, run_id)
    created = after["completed_trainings"]["create"]
    assert created > 0
    assert after["deferred"]["unmapped_formation"] == report["deferred"]["unmapped_formation"] - created
    event = audit_events(web_app, "legacy_import.course_mapping.accept")[0]
    assert event.details["before"] == {"decision": "pending", "course_id": None}
    assert event.details["after"] == {"decision": "mapped", "course_id": courses["Développement web"]}


def test_change_and_legacy_only(web_app: Flask, client_as: Any) -> None:
    run_id, report = pipeline(web_app)
    courses = add_courses(web_app)
    client = client_as("reviewer")
    first, second = course_mapping(web_app, run_id, 2), course_mapping(web_app, run_id, 3)
    page = post(client, COURSES, run_id=run_id, decision="accept", mapping_id=first.id)
    assert "Aucune suggestion à accepter" in page
    page = post(client, COURSES, run_id=run_id, decision="change", mapping_id=first.id, course_id="")
    assert "Choisissez une formation actuelle" in page
    page = post(client, COURSES, run_id=run_id, decision="change", mapping_id=first.id, course_id=99999)
    assert "Choisissez une formation actuelle" in page
    assert course_mapping(web_app, run_id, 2).decision == "pending"
    course_id = courses["Comptabilité et finance"]
    post(client, COURSES, run_id=run_id, decision="change", mapping_id=first.id, course_id=course_id)
    post(client, COURSES, run_id=run_id, decision="legacy_only", mapping_id=second.id)
    assert course_mapping(web_app, run_id, 2).course_id == course_id
    kept = course_mapping(web_app, run_id, 3)
    assert (kept.decision, kept.course_id) == ("legacy_only", None)
    after = dry_run(web_app, run_id)
    assert after["completed_trainings"]["create"] > report["completed_trainings"]["create"]
    actions = [event.action for event in audit_events(web_app)]
    assert actions == ["legacy_import.course_mapping.change", "legacy_import.course_mapping.legacy_only"]


def test_a_mapping_of_another_run_is_refused(web_app: Flask, client_as: Any) -> None:
    run_id, _ = pipeline(web_app)
    other_run, _ = pipeline(web_app)
    target = course_mapping(web_app, run_id, 4)
    page = post(
        client_as("reviewer"), COURSES, run_id=other_run, decision="legacy_only", mapping_id=target.id
    )
    assert "introuvable" in page
    assert course_mapping(web_app, run_id, 4).decision == "pending"


# -- session mapping -----------------------------------------------------------------------------


def test_a_waiting_session_can_never_be_mapped_to_a_cohort_by_the_service(web_app: Flask) -> None:
    run_id, _ = pipeline(web_app)
    courses = add_courses(web_app)
    cohort_id = add_cohort(web_app, courses["Développement web"])
    with web_app.app_context():
        for session_type in ("waiting_session", "placeholder_session"):
            waiting = session_mapping(web_app, run_id, session_type)
            with pytest.raises(mapping.MappingError, match="ne peut jamais devenir une cohorte"):
                mapping.decide_session(db.session, run_id, waiting.id, mapping.COHORT, None, cohort_id)
            db.session.rollback()
            assert db.session.get(LegacySessionMapping, waiting.id).cohort_id is None
            kept = mapping.decide_session(db.session, run_id, waiting.id, mapping.PLACEHOLDER, None)
            assert (kept.decision, kept.cohort_id) == ("placeholder", None)


def test_session_mapping_page_refuses_a_cohort_for_a_waiting_session(web_app: Flask, client_as: Any) -> None:
    run_id, _ = pipeline(web_app)
    courses = add_courses(web_app)
    cohort_id = add_cohort(web_app, courses["Développement web"])
    waiting = session_mapping(web_app, run_id, "waiting_session")
    client = client_as("reviewer")
    page = client.get(f"{SESSIONS}?run={run_id}&type=waiting_session").get_data(as_text=True)
    assert f'id="session-{waiting.id}"' in page and "Ne peut pas devenir une cohorte" in page
    assert f'id="cohort-{waiting.id}"' not in page  # no cohort choice offered
    page = post(
        client, SESSIONS, run_id=run_id, mapping_id=waiting.id, decision="cohort", cohort_id=cohort_id
    )
    assert "Une session d&#39;attente ne peut jamais devenir une cohorte." in page
    assert session_mapping(web_app, run_id, "waiting_session").cohort_id is None
    assert audit_events(web_app) == []
    page = post(client, SESSIONS, run_id=run_id, mapping_id=waiting.id, decision="placeholder")
    assert "Règle de substitution" in page
    [event] = audit_events(web_app)
    assert event.action == "legacy_import.session_mapping.placeholder"
    assert event.details["session_type"] == "waiting_session"


def test_a_real_session_maps_to_a_cohort_of_its_course(web_app: Flask, client_as: Any) -> None:
    run_id, _ = pipeline(web_app)
    courses = add_courses(web_app)
    real = session_mapping(web_app, run_id, "real_session")
    client = client_as("reviewer")
    formation = course_mapping(web_app, run_id, real.legacy_formation_id)
    other_course = courses["Marketing digital"]
    post(
        client,
        COURSES,
        run_id=run_id,
        decision="change",
        mapping_id=formation.id,
        course_id=courses["Anglais"],
    )
    wrong = add_cohort(web_app, other_course, "MD 2026")
    page = post(client, SESSIONS, run_id=run_id, mapping_id=real.id, decision="cohort", cohort_id=wrong)
    assert "appartient à une autre formation" in page
    right = add_cohort(web_app, courses["Anglais"], "Anglais 2026")
    page = post(client, SESSIONS, run_id=run_id, mapping_id=real.id, decision="cohort", cohort_id=right)
    mapped = session_mapping(web_app, run_id, "real_session")
    assert (mapped.decision, mapped.cohort_id) == ("mapped", right)
    assert "Anglais 2026" in page
    event = audit_events(web_app, "legacy_import.session_mapping")[0]
    assert event.details["after"] == {"decision": "mapped", "cohort_id": right}


def test_mapping_pages_for_a_viewer_show_no_actions_and_refuse_posts(web_app: Flask, client_as: Any) -> None:
    run_id, _ = pipeline(web_app)
    viewer = client_as("viewer")
    courses_page = viewer.get(f"{COURSES}?run={run_id}").get_data(as_text=True)
    sessions_page = viewer.get(f"{SESSIONS}?run={run_id}").get_data(as_text=True)
    assert "Développement Web" in courses_page and 'value="accept"' not in courses_page
    assert "Session d&#39;attente" in sessions_page and 'value="placeholder"' not in sessions_page
    token = csrf_token(viewer, COURSES)
    assert (
        viewer.post(COURSES, data={"csrf_token": token, "run_id": run_id, "decision": "suggest"}).status_code
        == 403
    )
    assert viewer.post(SESSIONS, data={"csrf_token": token, "run_id": run_id}).status_code == 403


def test_mapping_pages_without_runs(web_app: Flask, client_as: Any) -> None:
    client = client_as("reviewer")
    for path in (COURSES, SESSIONS):
        assert "Aucun import pour l'instant" in client.get(path).get_data(as_text=True)
