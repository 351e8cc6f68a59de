"""The review workspace under /admin/legacy-imports: one module per page group."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("legacy_web", __name__, url_prefix="/admin/legacy-imports")

from app.legacy_import.web import (  # noqa: E402,F401  (routes register on `bp`)
    mappings,
    review,
    runs,
    students,
)
