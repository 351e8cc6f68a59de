"""Course mapping (legacy formations -> current courses) and session mapping (legacy sessions ->
cohorts or the placeholder rule)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response
from wtforms import SelectChoice

from app.accounts.permissions import REVIEW, VIEW
from app.extensions import db
from app.legacy_import import mapping
from app.legacy_import.review import recent_runs
from app.legacy_import.runs import latest_run_id
from app.legacy_import.web import bp
from app.legacy_import.web.labels import label, vocabulary
from app.legacy_import.web.review_forms import CourseMappingForm, SessionMappingForm, first_error
from app.security import permission_required

SESSIONS_PER_PAGE = 100


def _run_id() -> int | None:
    return request.args.get("run", type=int) or latest_run_id(db.session())


@bp.route("/course-mapping")
@permission_required(VIEW)
def course_mapping() -> str:
    run_id = _run_id()
    rows = mapping.course_mapping_rows(db.session(), run_id) if run_id else []
    courses = mapping.active_courses(db.session())
    form = CourseMappingForm(formdata=None, data={"run_id": run_id})
    form.course_id.choices = [SelectChoice("", "— choisir —")] + [
        SelectChoice(course.id, course.name)
        for course in courses  # type: ignore[arg-type]
    ]
    return render_template(
        "legacy_import/course_mapping.html",
        runs=recent_runs(db.session()),
        run_id=run_id,
        rows=rows,
        courses=courses,
        counts=Counter(row.mapping.decision for row in rows),
        form=form,
        can_review=current_user.can(REVIEW),
        suggestions_missing=any(r.mapping.suggestion_score is None for r in rows),
    )


@bp.route("/course-mapping", methods=["POST"])
@permission_required(REVIEW)
def course_mapping_update() -> Response:
    form = CourseMappingForm()
    if not form.validate_on_submit():
        flash(first_error(form), "error")
        return _back(".course_mapping", form.run_id.data)
    run_id, decision = form.run_id.data, form.decision.data
    try:
        if decision == "suggest":
            count = mapping.suggest_courses(db.session(), run_id, current_user.id)
            flash(f"Suggestions calculées : {count} formation(s) ont une suggestion.", "success")
        elif form.mapping_id.data is None:
            flash("Formation manquante.", "error")
        else:
            chosen = mapping.decide_course(
                db.session(), run_id, form.mapping_id.data, decision, current_user.id, form.course_id.data
            )
            decided = label(chosen.decision, "course_decision")
            flash(f"Formation n°{chosen.legacy_formation_id} : {decided}.", "success")
    except mapping.MappingError as error:
        db.session.rollback()
        flash(str(error), "error")
    anchor = f"formation-{form.mapping_id.data}" if form.mapping_id.data else None
    return _back(".course_mapping", run_id, anchor=anchor)


@bp.route("/session-mapping")
@permission_required(VIEW)
def session_mapping() -> str:
    run_id = _run_id()
    session_type = request.args.get("type") or None
    session_type = session_type if session_type in vocabulary("session_type") else None
    after = request.args.get("after", type=int)
    rows, more = (
        mapping.session_mapping_rows(db.session(), run_id, session_type, after, SESSIONS_PER_PAGE)
        if run_id
        else ([], False)
    )
    form = SessionMappingForm(formdata=None, data={"run_id": run_id})
    form.cohort_id.choices = [
        SelectChoice("", "— choisir —"),
        *(SelectChoice(value, text) for value, text in mapping.cohort_choices(db.session())),  # type: ignore[arg-type]
    ]
    return render_template(
        "legacy_import/session_mapping.html",
        runs=recent_runs(db.session()),
        run_id=run_id,
        rows=rows,
        more=more,
        after=after,
        session_type=session_type,
        counts=mapping.session_counts(db.session(), run_id) if run_id else {},
        form=form,
        can_review=current_user.can(REVIEW),
    )


@bp.route("/session-mapping", methods=["POST"])
@permission_required(REVIEW)
def session_mapping_update() -> Response:
    form = SessionMappingForm()
    if not form.validate_on_submit():
        flash(first_error(form), "error")
        return _back(".session_mapping", form.run_id.data)
    try:
        chosen = mapping.decide_session(
            db.session(),
            form.run_id.data,
            form.mapping_id.data,
            form.decision.data,
            current_user.id,
            form.cohort_id.data,
        )
    except mapping.MappingError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        decided = label(chosen.decision, "session_decision")
        flash(f"Session n°{chosen.legacy_session_id} : {decided}.", "success")
    arguments = {"type": request.form.get("type") or None, "after": request.form.get("after") or None}
    anchor = f"session-{form.mapping_id.data}"
    return _back(".session_mapping", form.run_id.data, anchor=anchor, **arguments)


def _back(endpoint: str, run_id: object, anchor: str | None = None, **arguments: Any) -> Response:
    values: dict[str, Any] = {key: value for key, value in arguments.items() if value}
    if isinstance(run_id, int):
        values["run"] = run_id
    return redirect(url_for(endpoint, _anchor=anchor or None, **values))
