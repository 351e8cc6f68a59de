"""Staged rows: the filtered list, its masked CSV export, one row, and its raw payload.

Masking: lists and exports never show a full phone number or e-mail address. Names show in
full on screen (staff review people by name, and search by it) but are masked in the CSV file,
as in `flask legacy export`: a file leaves the application. The row page shows a phone, an
e-mail and a birth date in full only to holders of `view_raw` (who may read the raw payload
anyway); raw values (`phone_raw`, ...) appear only on the audited raw-payload page.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from flask import Response, abort, render_template, request, stream_with_context
from flask_login import current_user
from sqlalchemy import select

from app.accounts.models import User
from app.accounts.permissions import VIEW, VIEW_RAW
from app.audit.services import record
from app.extensions import db
from app.legacy_import import students_query as staged
from app.legacy_import.export import COLUMNS, csv_cells, mask_row
from app.legacy_import.masking import mask_email, mask_phone
from app.legacy_import.models import LegacyImportRun, LegacyStudentImport
from app.legacy_import.web import bp
from app.security import permission_required

RUN_CHOICES = 100


@bp.route("/students")
@permission_required(VIEW)
def students() -> str | tuple[str, int]:
    try:
        filters = staged.parse_filters(db.session(), request.args)
        page = staged.list_page(db.session(), filters, staged.parse_cursor(request.args))
    except staged.FilterError as error:
        return _render_list(errors=error.messages), 400
    return _render_list(filters=filters, page=page, count=staged.count_rows(db.session(), filters))


def _render_list(
    filters: staged.StudentFilters | None = None,
    page: staged.Page | None = None,
    count: tuple[int | None, bool] | None = None,
    errors: list[str] | None = None,
) -> str:
    values = {name: request.args.get(name, "") for name in (*staged.VOCABULARIES, "run", "q", "sort")}
    if filters is not None and filters.run_id is not None:
        values["run"] = str(filters.run_id)
    if errors and _refused(values["q"]):
        values["q"] = ""  # a phone number or an address is not offered back for another request
    return render_template(
        "legacy_import/students.html",
        filters=filters,
        page=page,
        count=count,
        errors=errors or [],
        values=values,
        runs=_run_choices(filters.run_id if filters else None),
        vocabularies=staged.VOCABULARIES,
        sorts=staged.SORTS,
        filter_labels=staged.FILTER_LABELS,
        query_args=filters.query_args() if filters else {},
    )


def _refused(search_text: str) -> bool:
    try:
        staged.parse_search(search_text)
    except staged.FilterError:
        return True
    return False


def _run_choices(current: int | None) -> list[LegacyImportRun]:
    runs = list(
        db.session.scalars(select(LegacyImportRun).order_by(LegacyImportRun.id.desc()).limit(RUN_CHOICES))
    )
    if current is not None and all(run.id != current for run in runs):
        older = db.session.get(LegacyImportRun, current)
        runs += [older] if older is not None else []
    return runs


@bp.route("/students/export.csv")
@permission_required(VIEW)
def students_export() -> Response | tuple[str, int]:
    try:
        filters = staged.parse_filters(db.session(), request.args)
    except staged.FilterError as error:
        return _render_list(errors=error.messages), 400
    if filters.run_id is None:
        abort(404)
    return Response(
        stream_with_context(_csv_lines(filters, current_user.id)),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="lignes-import-{filters.run_id}.csv"'},
    )


def _csv_lines(filters: staged.StudentFilters, actor_id: int) -> Iterator[str]:
    """The export, streamed a keyset batch at a time, masked and safe to open in a spreadsheet.
    The audit event is written when the stream ends, with the rows actually sent."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS)
    rows, complete = 0, False
    try:
        buffer.write("\ufeff")  # so that spreadsheets read the file as UTF-8
        writer.writeheader()
        yield _drain(buffer)
        for batch in staged.iter_batches(db.session(), filters, staged.export_base(), staged.EXPORT_BATCH):
            for row in staged.with_session_types(db.session(), batch):
                writer.writerow(csv_cells(mask_row(row), formula_safe=True))
            rows += len(batch)
            yield _drain(buffer)
        complete = True
    finally:
        if not complete:
            db.session.rollback()
        record(
            db.session(),
            "legacy_import.rows_exported",
            object_type="legacy_import_run",
            object_id=filters.run_id,
            actor_id=actor_id,
            details={"filters": filters.audit_details(), "rows": rows, "complete": complete, "masked": True},
        )
        db.session.commit()


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


@bp.route("/students/<int:row_id>")
@permission_required(VIEW)
def student(row_id: int) -> str:
    detail = staged.student_detail(db.session(), row_id)
    if detail is None:
        abort(404)
    reveal = current_user.can(VIEW_RAW)
    return render_template(
        "legacy_import/student.html",
        detail=detail,
        row=detail.row,
        training=detail.training,
        contact=_contact(detail.row, reveal),
        reviewer=db.session.get(User, detail.row.reviewed_by_id) if detail.row.reviewed_by_id else None,
        can_view_raw=reveal,
    )


def _contact(row: LegacyStudentImport, reveal: bool) -> dict[str, Any]:
    """Normalized contact values: in full for `view_raw` holders, masked for everyone else."""
    alternates = row.phone_alternates or []
    birth = row.birth_date
    return {
        "phone": row.phone_normalized if reveal else mask_phone(row.phone_normalized),
        "alternates": alternates if reveal else [mask_phone(number) for number in alternates],
        "email": row.email_normalized if reveal else mask_email(row.email_normalized),
        "birth_date": (birth.isoformat() if reveal else f"{birth.year} (jour et mois masqués)")
        if birth
        else None,
        "revealed": reveal,
    }


@bp.route("/students/<int:row_id>/raw")
@permission_required(VIEW_RAW)
def student_raw(row_id: int) -> str:
    payload = staged.view_raw_payload(db.session(), row_id, current_user.id)
    if payload is None:
        abort(404)
    db.session.commit()
    return render_template("legacy_import/raw_payload.html", row_id=row_id, payload=payload)
