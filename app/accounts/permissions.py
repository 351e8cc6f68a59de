"""Permissions and the roles that carry them (SPEC.md, "Security")."""

from __future__ import annotations

VIEW = "legacy_imports.view"
RUN = "legacy_imports.run"
VALIDATE = "legacy_imports.validate"
REVIEW = "legacy_imports.review"
COMMIT = "legacy_imports.commit"
ROLLBACK = "legacy_imports.rollback"
VIEW_RAW = "legacy_imports.view_raw"
AUDIT = "audit.view"

ALL_PERMISSIONS = (VIEW, RUN, VALIDATE, REVIEW, COMMIT, ROLLBACK, VIEW_RAW, AUDIT)

# Raw payloads are the legacy rows verbatim, full of personal data: no role carries
# `view_raw`; it is granted to a person explicitly (`flask users grant`).
ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "administrator": frozenset({VIEW, RUN, VALIDATE, REVIEW, COMMIT, ROLLBACK, AUDIT}),
    "import_manager": frozenset({VIEW, RUN, VALIDATE, COMMIT, ROLLBACK}),
    "reviewer": frozenset({VIEW, REVIEW}),
    "viewer": frozenset({VIEW}),
}
ROLES = tuple(ROLE_PERMISSIONS)
