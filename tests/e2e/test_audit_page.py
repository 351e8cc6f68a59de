"""The audit log page: administrators only, newest first, filters, before/after details."""

from __future__ import annotations

from typing import Any

from flask import Flask

from app.accounts.models import User
from app.audit.services import record
from app.extensions import db
from tests.e2e.conftest import email_for
from tests.e2e.test_review_pages import act, lead_only_in_review, pipeline

AUDIT = "/admin/audit"


def test_only_administrators_see_the_audit_log(web_app: Flask, client_as: Any) -> None:
    signed_out = web_app.test_client().get(AUDIT)
    assert signed_out.status_code == 302 and "/login" in signed_out.headers["Location"]
    for role in ("viewer", "reviewer", "import_manager"):
        client = client_as(role)
        assert client.get(AUDIT).status_code == 403, role
        assert f'href="{AUDIT}"' not in client.get("/admin/legacy-imports").get_data(as_text=True)
    admin = client_as("administrator")
    page = admin.get(AUDIT).get_data(as_text=True)
    assert "<h1>Journal d'audit</h1>" in page and "auth.signed_in" in page
    assert f'href="{AUDIT}"' in admin.get("/admin/legacy-imports").get_data(as_text=True)


def test_review_actions_show_their_actor_and_before_after(web_app: Flask, client_as: Any) -> None:
    run_id, _ = pipeline(web_app)
    target = lead_only_in_review(web_app)[0]
    act(client_as("reviewer"), run_id, "approve", [target.id])
    admin = client_as("administrator")
    page = admin.get(f"{AUDIT}?action=legacy_import.review").get_data(as_text=True)
    assert "legacy_import.review.approve" in page
    assert email_for("reviewer") in page
    assert f'<span title="legacy_student_import">Ligne importée</span> n°{target.id}' in page
    assert "<td>review_decision</td><td>—</td><td>approved</td>" in page
    assert "auth.signed_in" not in page  # filtered by action
    with web_app.app_context():
        reviewer_id = db.session.query(User.id).filter_by(email=email_for("reviewer")).scalar()
        admin_id = db.session.query(User.id).filter_by(email=email_for("administrator")).scalar()
    mine = admin.get(f"{AUDIT}?actor={admin_id}").get_data(as_text=True)
    assert "legacy_import.review.approve" not in mine and "auth.signed_in" in mine
    theirs = admin.get(f"{AUDIT}?actor={reviewer_id}").get_data(as_text=True)
    assert "legacy_import.review.approve" in theirs


def test_the_log_pages_newest_first(web_app: Flask, client_as: Any) -> None:
    with web_app.app_context():
        for n in range(60):
            record(db.session, "test.event", object_type="thing", object_id=n, details={"n": n})
        db.session.commit()
    admin = client_as("administrator")
    first = admin.get(f"{AUDIT}?action=test.").get_data(as_text=True)
    assert first.count("<code>test.event</code>") == 50
    assert first.index("thing</span> n°59") < first.index("thing</span> n°58")
    assert "thing</span> n°9<" not in first and "Plus anciens" in first
    oldest_shown = first.split("before=")[1].split('"')[0]
    second = admin.get(f"{AUDIT}?action=test.&before={oldest_shown}").get_data(as_text=True)
    assert second.count("<code>test.event</code>") == 10 and "thing</span> n°0<" in second
    assert "Plus anciens" not in second
    assert "Aucun événement" in admin.get(f"{AUDIT}?action=nothing.").get_data(as_text=True)
