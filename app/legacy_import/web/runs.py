"""Runs: the list of import runs."""

from __future__ import annotations

from flask import render_template
from sqlalchemy import select

from app.accounts.permissions import VIEW
from app.extensions import db
from app.legacy_import.models import LegacyImportRun
from app.legacy_import.web import bp
from app.security import permission_required


@bp.route("")
@permission_required(VIEW)
def runs() -> str:
    rows = db.session.scalars(select(LegacyImportRun).order_by(LegacyImportRun.id.desc()).limit(200)).all()
    return render_template("legacy_import/runs.html", runs=rows)
