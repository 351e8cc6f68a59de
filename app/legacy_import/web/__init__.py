"""The review workspace under /admin/legacy-imports: one module per page group."""

from __future__ import annotations

from flask import Blueprint, current_app
from flask.blueprints import BlueprintSetupState
from werkzeug.wrappers import Response

from app.legacy_import.web.labels import label, vocabulary
from app.security import public

bp = Blueprint("legacy_web", __name__, url_prefix="/admin/legacy-imports")

# The French labels, for every template of the application (the audit log's too).
bp.add_app_template_filter(label, "label")
bp.add_app_template_global(vocabulary, "vocabulary")

FAVICON = "favicon.svg"


@public
def favicon() -> Response:
    """What browsers ask for at /favicon.ico whatever the page says: the SVG icon, not the
    404 page (the pages link the icon themselves)."""
    return current_app.send_static_file(FAVICON)


@bp.record_once
def _register_favicon(state: BlueprintSetupState) -> None:
    state.app.add_url_rule("/favicon.ico", "favicon", favicon)


from app.legacy_import.web import (  # noqa: E402,F401  (routes register on `bp`)
    mappings,
    review,
    runs,
    students,
)
