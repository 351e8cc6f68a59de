"""The review queue: rows in review grouped by reason, and the reviewer's actions on them."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from app.accounts.permissions import REVIEW, VIEW
from app.extensions import db
from app.legacy_import import review
from app.legacy_import.models import LegacyStudentImport
from app.legacy_import.runs import latest_run_id
from app.legacy_import.web import bp
from app.legacy_import.web.labels import label
from app.legacy_import.web.review_forms import ReviewActionForm, first_error
from app.security import permission_required


@bp.route("/review")
@permission_required(VIEW)
def review_queue() -> str:
    session = db.session()
    run_id = request.args.get("run", type=int) or latest_run_id(session)
    show = request.args.get("show", review.PENDING)
    show = show if show in review.SHOW_CHOICES else review.PENDING
    limit = request.args.get("size", 50, type=int)
    limit = limit if limit in review.PAGE_SIZES else 50
    groups = review.queue_groups(session, run_id) if run_id else []
    group = _chosen_group(groups, request.args.get("group"))
    page = None
    if run_id and group:
        page = review.queue_page(
            session,
            run_id,
            group,
            show,
            after=request.args.get("after", type=int),
            before=request.args.get("before", type=int),
            limit=limit,
        )
    form = ReviewActionForm(
        formdata=None,
        data={
            "run_id": run_id,
            "group": group.reason if group else "",
            "show": show,
            "after": request.args.get("after", ""),
        },
    )
    return render_template(
        "legacy_import/review.html",
        runs=review.recent_runs(session),
        run_id=run_id,
        groups=groups,
        group=group,
        show=show,
        size=limit,
        page=page,
        form=form,
        can_review=current_user.can(REVIEW),
        contact_statuses=_contact_statuses(page),
    )


def _contact_statuses(page: review.QueuePage | None) -> dict[int, tuple[str, str]]:
    """(phone status, e-mail status) of each row of the page, by id: the queue shows a masked
    value only for a valid phone or address, and the status otherwise (as the staged rows list
    does), not a masked fragment of what the legacy field held."""
    ids = [row.id for row in page.rows] if page else []
    if not ids:
        return {}
    query = select(
        LegacyStudentImport.id, LegacyStudentImport.phone_status, LegacyStudentImport.email_status
    ).where(LegacyStudentImport.id.in_(ids))
    return {row_id: (phone, email) for row_id, phone, email in db.session.execute(query)}


def _chosen_group(groups: list[review.QueueGroup], reason: str | None) -> review.QueueGroup | None:
    for group in groups:
        if group.reason == reason:
            return group
    return groups[0] if groups else None


@bp.route("/review/action", methods=["POST"])
@permission_required(REVIEW)
def review_action() -> Response:
    form = ReviewActionForm()
    if not form.validate_on_submit():
        flash(first_error(form), "error")
        return _back(form)
    command = review.ReviewCommand(
        action=form.action.data,
        run_id=form.run_id.data,
        row_ids=form.selected_rows(),
        classification=form.classification.data or None,
        reason=form.reason.data,
        note=form.note.data,
        hint_id=form.hint_id.data,
    )
    try:
        result = review.apply_review(db.session(), command, current_user.id)
    except review.ReviewError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        flash(_done_message(result), "success")
    return _back(form)


def _done_message(result: review.ReviewResult) -> str:
    message = f"{label(result.action, 'review_action')} : {result.changed} modification(s) enregistrée(s)"
    if result.unchanged:
        message += f", {result.unchanged} déjà dans cet état"
    return message + ". Elles compteront à la prochaine simulation (dry run)."


def _back(form: ReviewActionForm) -> Response:
    arguments: dict[str, Any] = {
        "run": form.run_id.data if isinstance(form.run_id.data, int) else None,
        "group": form.group.data or None,
        "show": form.show.data or None,
        "after": form.after.data if (form.after.data or "").isdigit() else None,
    }
    return redirect(url_for(".review_queue", **{k: v for k, v in arguments.items() if v}))
