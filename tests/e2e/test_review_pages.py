"""The review queue through the test client: the queue's groups, each review action, what the next
dry run makes of it, and the audit trail it leaves (SPEC.md, "Web pages" and "Security")."""

from __future__ import annotations

import json
import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.crm.models import CrmLead
from app.extensions import db
from app.legacy_import import queue_counts
from app.legacy_import.models import LegacyDuplicateHint, LegacyStudentImport
from tests.e2e.conftest import csrf_token
from tests.support.cli import legacy_json

REVIEW = "/admin/legacy-imports/review"
ACTION = "/admin/legacy-imports/review/action"


def import_run(app: Flask) -> int:
    return int(legacy_json(app, "import")["run_id"])


def prepare(app: Flask, run_id: int) -> dict[str, Any]:
    """Validate, classify and dry-run a run; the dry-run report."""
    legacy_json(app, "validate", f"--run={run_id}")
    legacy_json(app, "classify", f"--run={run_id}")
    return dry_run(app, run_id)


def dry_run(app: Flask, run_id: int) -> dict[str, Any]:
    return legacy_json(app, "dry-run", f"--run={run_id}")


def pipeline(app: Flask) -> tuple[int, dict[str, Any]]:
    run_id = import_run(app)
    return run_id, prepare(app, run_id)


def rows(app: Flask, **where: Any) -> list[LegacyStudentImport]:
    with app.app_context():
        query = select(LegacyStudentImport).filter_by(**where).order_by(LegacyStudentImport.id)
        found = list(db.session.scalars(query))
        db.session.expunge_all()
        return found


def row(app: Flask, row_id: int) -> LegacyStudentImport:
    with app.app_context():
        found = db.session.get(LegacyStudentImport, row_id)
        assert found is not None
        db.session.expunge(found)
        return found


def audit_events(app: Flask, prefix: str = "legacy_import.") -> list[AuditEvent]:
    with app.app_context():
        query = select(AuditEvent).where(AuditEvent.action.startswith(prefix)).order_by(AuditEvent.id)
        found = list(db.session.scalars(query))
        db.session.expunge_all()
        return found


def post(client: FlaskClient, path: str, data: dict[str, Any], follow: bool = True) -> Any:
    data = {"csrf_token": csrf_token(client, REVIEW), **data}
    return client.post(path, data=data, follow_redirects=follow)


def act(client: FlaskClient, run_id: int, action: str, row_ids: list[int], **fields: Any) -> str:
    response = post(client, ACTION, {"run_id": run_id, "action": action, "row_ids": row_ids, **fields})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def lead_only_in_review(app: Flask) -> list[LegacyStudentImport]:
    return rows(app, validation_state="needs_review", classification="lead_only")


# -- the page ------------------------------------------------------------------------------------


def test_the_queue_groups_rows_by_reason_and_masks_contacts(web_app: Flask, client_as: Any) -> None:
    run_id, _ = pipeline(web_app)
    client = client_as("reviewer")
    page = client.get(f"{REVIEW}?run={run_id}&group=classification_unknown").get_data(as_text=True)
    assert "Statut inconnu" in page and "Doublon possible (indice moyen)" in page
    unknown = rows(web_app, validation_state="needs_review", classification="unknown")
    assert f'id="row-{unknown[0].id}"' in page
    assert 'name="csrf_token"' in page and 'value="approve"' in page
    for staged in rows(web_app, validation_state="needs_review"):
        for value in (staged.phone_normalized, staged.email_normalized, staged.phone_raw):
            if value and len(value) > 4:
                assert value not in page
        if staged.last_name and len(staged.last_name) > 3:
            assert f">{staged.last_name}" not in page


def test_a_viewer_sees_the_queue_without_actions_and_cannot_post(web_app: Flask, client_as: Any) -> None:
    run_id, _ = pipeline(web_app)
    viewer = client_as("viewer")
    page = viewer.get(f"{REVIEW}?run={run_id}").get_data(as_text=True)
    assert "File de revue" in page and 'value="approve"' not in page
    target = lead_only_in_review(web_app)[0].id
    response = post(
        viewer, ACTION, {"run_id": run_id, "action": "approve", "row_ids": [target]}, follow=False
    )
    assert response.status_code == 403
    assert row(web_app, target).review_decision is None


def test_empty_states(web_app: Flask, client_as: Any) -> None:
    client = client_as("reviewer")
    assert "Aucun import pour l'instant" in client.get(REVIEW).get_data(as_text=True)
    run_id = import_run(web_app)  # ingested, not validated: nothing in review yet
    assert "Rien à revoir" in client.get(f"{REVIEW}?run={run_id}").get_data(as_text=True)


def test_pages_of_a_group_follow_each_other_by_id(web_app: Flask, client_as: Any) -> None:
    run_id, _ = pipeline(web_app)
    client = client_as("viewer")
    group = "dangling_session"
    expected = [r.id for r in rows(web_app, validation_state="needs_review") if group in r.validation_reasons]
    assert len(expected) > 25
    seen: list[int] = []
    url = f"{REVIEW}?run={run_id}&group={group}&size=25"
    while url:
        page = client.get(url).get_data(as_text=True)
        seen += [int(part.split('"')[0]) for part in page.split('id="row-')[1:]]
        url = ""
        if "Suivantes" in page:
            url = f"{REVIEW}?run={run_id}&group={group}&size=25&after={seen[-1]}"
    assert seen == expected
    back = client.get(f"{REVIEW}?run={run_id}&group={group}&size=25&before={expected[25]}").get_data(
        as_text=True
    )
    assert f'id="row-{expected[0]}"' in back and f'id="row-{expected[25]}"' not in back


# -- actions and the next dry run ----------------------------------------------------------------


def test_an_approved_row_leaves_the_review_queue_at_the_next_dry_run(web_app: Flask, client_as: Any) -> None:
    run_id, report = pipeline(web_app)
    target = next(
        r for r in lead_only_in_review(web_app) if "no_usable_phone_or_email" in r.validation_reasons
    )
    page = act(client_as("reviewer"), run_id, "approve", [target.id])
    assert "1 modification(s) enregistrée(s)" in page
    approved = row(web_app, target.id)
    assert approved.review_decision == "approved" and approved.reviewed_by_id and approved.reviewed_at
    after = dry_run(web_app, run_id)
    assert after["blocked"]["review_queue"] == report["blocked"]["review_queue"] - 1
    assert after["leads"]["create"] == report["leads"]["create"] + 1
    assert after["review_decisions"]["approved"] == 1
    [event] = audit_events(web_app)
    assert event.action == "legacy_import.review.approve"
    assert event.object_id == str(target.id) and event.actor_id is not None
    assert event.details["before"] == {"review_decision": None}
    assert event.details["after"] == {"review_decision": "approved"}


def test_an_unknown_row_must_be_reclassified_not_approved(web_app: Flask, client_as: Any) -> None:
    run_id, _ = pipeline(web_app)
    target = rows(web_app, validation_state="needs_review", classification="unknown")[0]
    page = act(client_as("reviewer"), run_id, "approve", [target.id])
    assert "sans classification utilisable" in page
    assert row(web_app, target.id).review_decision is None
    assert audit_events(web_app) == []


def test_an_override_needs_a_reason_and_then_becomes_the_classification(
    web_app: Flask, client_as: Any
) -> None:
    run_id, report = pipeline(web_app)
    target = next(
        r
        for r in rows(web_app, validation_state="needs_review", classification="unknown")
        if r.validation_reasons == ["classification_unknown"]
    )
    client = client_as("reviewer")
    page = act(client, run_id, "override", [target.id], classification="lead_only", reason="   ")
    assert "Indiquez la raison" in page
    unchanged = row(web_app, target.id)
    assert unchanged.classification_override is None and unchanged.review_decision is None
    assert audit_events(web_app) == []

    page = act(
        client,
        run_id,
        "override",
        [target.id],
        classification="lead_only",
        reason="Statut « Rappeler » : prospect",
    )
    assert "1 modification(s)" in page
    changed = row(web_app, target.id)
    assert changed.classification == "unknown"  # the rules' answer stays beside the reviewer's
    assert changed.classification_override == "lead_only" and changed.review_decision == "approved"
    assert changed.override_reason == "Statut « Rappeler » : prospect"
    after = dry_run(web_app, run_id)
    assert after["blocked"]["review_queue"] == report["blocked"]["review_queue"] - 1
    assert after["review_decisions"]["reclassified"] == 1
    [event] = audit_events(web_app)
    assert event.action == "legacy_import.review.override"
    assert event.details["before"]["classification_override"] is None
    assert event.details["after"]["classification_override"] == "lead_only"
    assert "Rappeler" not in json.dumps(event.details)  # the reason's text stays on the row

    legacy_json(web_app, "classify", f"--run={run_id}")  # classifying again keeps the reviewer's decision
    assert row(web_app, target.id).classification_override == "lead_only"


def test_a_skipped_row_is_blocked_for_that_reason(web_app: Flask, client_as: Any) -> None:
    run_id, report = pipeline(web_app)
    valid_lead = rows(web_app, validation_state="valid", classification="lead_only")
    target = lead_only_in_review(web_app)[0]
    act(client_as("reviewer"), run_id, "skip", [target.id])
    after = dry_run(web_app, run_id)
    assert after["blocked"]["skipped_by_reviewer"] == 1
    assert after["blocked"]["review_queue"] == report["blocked"]["review_queue"] - 1
    assert valid_lead  # a valid row is not in the queue: it cannot be skipped
    page = act(client_as("reviewer"), run_id, "skip", [valid_lead[0].id])
    assert "hors de la file de revue" in page


def test_bulk_approve_of_a_selection_and_of_a_whole_page(web_app: Flask, client_as: Any) -> None:
    run_id, report = pipeline(web_app)
    targets = [r.id for r in lead_only_in_review(web_app)][:3]
    client = client_as("reviewer")
    page = act(client, run_id, "approve", targets)
    assert "3 modification(s) enregistrée(s)" in page
    assert [row(web_app, t).review_decision for t in targets] == ["approved"] * 3
    events = audit_events(web_app)
    assert sorted(int(e.object_id) for e in events) == targets
    assert all(e.details["rows_in_action"] == 3 for e in events)
    page = act(client, run_id, "approve", targets[:1])
    assert "1 déjà dans cet état" in page and len(audit_events(web_app)) == 3

    others = [r.id for r in lead_only_in_review(web_app)][3:6]
    response = post(
        client,
        ACTION,
        {"run_id": run_id, "action": "skip", "whole_page": "y", "page_row_ids": others, "row_ids": []},
    )
    assert "3 modification(s)" in response.get_data(as_text=True)
    assert [row(web_app, t).review_decision for t in others] == ["skipped"] * 3
    after = dry_run(web_app, run_id)
    assert after["blocked"]["review_queue"] == report["blocked"]["review_queue"] - 6
    assert after["blocked"]["skipped_by_reviewer"] == 3


def test_an_action_without_rows_or_with_rows_of_another_run_is_refused(
    web_app: Flask, client_as: Any
) -> None:
    run_id, _ = pipeline(web_app)
    client = client_as("reviewer")
    assert "Aucune ligne sélectionnée" in act(client, run_id, "approve", [])
    target = lead_only_in_review(web_app)[0].id
    other_run = import_run(web_app)
    assert "introuvable" in act(client, other_run, "approve", [target])
    assert row(web_app, target).review_decision is None


def test_a_note_is_kept_on_the_row_and_only_its_length_in_the_audit(web_app: Flask, client_as: Any) -> None:
    run_id, _ = pipeline(web_app)
    target = lead_only_in_review(web_app)[0]
    note = f"Appelé le 12/03, c'est bien {target.first_name or 'elle'} ; rappeler au 0559446168"
    client = client_as("reviewer")
    assert "La note est vide" in act(client, run_id, "note", [target.id], note="  ")
    act(client, run_id, "note", [target.id], note=note)
    noted = row(web_app, target.id)
    assert noted.review_note == note.strip() and noted.review_decision is None
    [event] = audit_events(web_app)
    assert event.details["after"] == {"note_length": len(note.strip())}
    assert "0559446168" not in json.dumps(event.details)


def test_rejecting_a_high_hint_unlinks_the_row_and_confirming_links_it(
    web_app: Flask, client_as: Any
) -> None:
    run_id, _ = pipeline(web_app)
    staged = next(
        r for r in rows(web_app, validation_state="valid", classification="lead_only") if r.phone_normalized
    )
    with web_app.app_context():  # an existing lead with the phone of a staged row, then validate again
        db.session.add(CrmLead(first_name="X", last_name="Y", phone=staged.phone_normalized))
        db.session.commit()
    staged_id = staged.id
    report = prepare(web_app, run_id)
    target = row(web_app, staged_id)
    assert target.validation_state == "duplicate" and target.classification == "lead_only"
    with web_app.app_context():
        hint = db.session.scalars(
            select(LegacyDuplicateHint).filter_by(student_import_id=staged_id, target_type="crm_lead")
        ).one()
        hint_id = hint.id
    linked = report["leads"]["link_existing"]
    assert linked >= 1

    client = client_as("reviewer")
    page = client.get(f"{REVIEW}?run={run_id}&group=matches_existing_crm_lead").get_data(as_text=True)
    assert f'name="hint_id" value="{hint_id}"' in page
    act(client, run_id, "reject_hint", [], hint_id=hint_id)
    after = dry_run(web_app, run_id)
    assert after["leads"]["link_existing"] == linked - 1
    assert after["leads"]["create"] + after["leads"]["link_in_run"] == (
        report["leads"]["create"] + report["leads"]["link_in_run"] + 1
    )
    act(client, run_id, "confirm_hint", [], hint_id=hint_id)
    assert dry_run(web_app, run_id)["leads"] == report["leads"]
    events = audit_events(web_app)
    assert [e.action for e in events] == [
        "legacy_import.review.reject_hint",
        "legacy_import.review.confirm_hint",
    ]
    assert events[0].details["before"] == {"decision": None}
    assert events[0].details["after"] == {"decision": "rejected"}
    assert events[1].details["hint"]["target_type"] == "crm_lead"


def test_confirming_a_medium_hint_links_the_row_to_the_first_row_of_that_person(
    web_app: Flask, client_as: Any
) -> None:
    """Medium hints never link on their own; a reviewer's confirmation does (here after rejecting
    the high hint that linked the two rows, so that only the medium one can)."""
    run_id, _ = pipeline(web_app)
    with web_app.app_context():
        hints = db.session.scalars(select(LegacyDuplicateHint).filter_by(import_run_id=run_id)).all()
        hints = [(h.id, h.student_import_id, h.target_id, h.confidence) for h in hints]
    medium, row_id = next(
        (hint_id, row_id)
        for hint_id, row_id, target_id, confidence in hints
        if confidence == "medium"
        and row(web_app, row_id).classification == "lead_only"
        and (row(web_app, target_id).classification, row(web_app, target_id).validation_state)
        == ("lead_only", "valid")
    )
    client = client_as("reviewer")
    act(client, run_id, "approve", [row_id])
    for hint_id, source, _, confidence in hints:
        if source == row_id and confidence == "high":
            act(client, run_id, "reject_hint", [], hint_id=hint_id)
    before = dry_run(web_app, run_id)["leads"]
    act(client, run_id, "confirm_hint", [], hint_id=medium)
    after = dry_run(web_app, run_id)["leads"]
    assert after["link_in_run"] == before["link_in_run"] + 1
    assert after["create"] == before["create"] - 1


# -- the audit trail -----------------------------------------------------------------------------


def test_review_audit_events_have_an_actor_and_no_personal_data(web_app: Flask, client_as: Any) -> None:
    run_id, _ = pipeline(web_app)
    targets = lead_only_in_review(web_app)[:4]
    client = client_as("reviewer")
    act(client, run_id, "approve", [targets[0].id])
    act(client, run_id, "skip", [targets[1].id])
    act(client, run_id, "override", [targets[2].id], classification="registered", reason="Inscrit pour mars")
    act(client, run_id, "note", [targets[3].id], note="vu")
    events = audit_events(web_app)
    assert len(events) == 4
    personal = {
        value
        for target in targets
        for value in (
            target.first_name,
            target.last_name,
            target.phone_raw,
            target.phone_normalized,
            target.email_raw,
            target.email_normalized,
        )
        if value and len(value) > 2
    }
    for event in events:
        assert event.actor_id is not None and event.created_at is not None
        assert {"before", "after", "run_id"} <= set(event.details)
        text = json.dumps(event.details, ensure_ascii=False)
        assert not [value for value in personal if value in text], event.action


def test_hint_decisions_survive_a_new_validation(web_app: Flask, client_as: Any) -> None:
    run_id, _ = pipeline(web_app)
    staged = next(r for r in rows(web_app, validation_state="valid") if r.phone_normalized)
    with web_app.app_context():
        db.session.add(CrmLead(first_name="X", last_name="Y", phone=staged.phone_normalized))
        db.session.commit()
    prepare(web_app, run_id)
    with web_app.app_context():
        hint_id = db.session.scalars(
            select(LegacyDuplicateHint.id).filter_by(student_import_id=staged.id, target_type="crm_lead")
        ).one()
    act(client_as("reviewer"), run_id, "reject_hint", [], hint_id=hint_id)

    prepare(web_app, run_id)  # validation rebuilds the hints

    with web_app.app_context():
        hint = db.session.scalars(
            select(LegacyDuplicateHint).filter_by(student_import_id=staged.id, target_type="crm_lead")
        ).one()
        assert hint.decision == "rejected"
        assert hint.decided_by_id is not None
        assert (
            db.session.get(LegacyStudentImport, staged.id).validation_state == "valid"
        )  # not a duplicate now


# -- the queue's counts --------------------------------------------------------------------------

GROUP_LINK = re.compile(
    r'group=(\w+)[^"]*"[^>]*>[^<]*<span class="badge" title="à traiter">(\d+)</span> '
    r'<span class="muted">/ (\d+)</span>'
)


def counted_groups(app: Flask, run_id: int) -> dict[str, tuple[int, int]]:
    """Each group's (pending, total), counted from the rows as they stand."""
    with app.app_context():
        counted = queue_counts.counted_from_rows(db.session, run_id)
        assert queue_counts.kept_counts(db.session, run_id) == counted
    groups: dict[str, tuple[int, int]] = {}
    for (reason, _state, pending), n in counted.items():
        shown_pending, total = groups.get(reason, (0, 0))
        groups[reason] = (shown_pending + (n if pending else 0), total + n)
    return groups


def assert_counts_exact(app: Flask, client: FlaskClient, run_id: int) -> dict[str, tuple[int, int]]:
    """The kept counts equal a count of the rows, and the page shows them."""
    expected = counted_groups(app, run_id)
    page = client.get(f"{REVIEW}?run={run_id}").get_data(as_text=True)
    shown = {reason: (int(pending), int(total)) for reason, pending, total in GROUP_LINK.findall(page)}
    assert shown == expected
    return expected


def test_the_counts_stay_exact_through_every_review_action(web_app: Flask, client_as: Any) -> None:
    run_id, _ = pipeline(web_app)
    client = client_as("reviewer")
    before = assert_counts_exact(web_app, client, run_id)
    leads = [r for r in lead_only_in_review(web_app) if len(r.validation_reasons or []) > 1]
    leads += [r for r in lead_only_in_review(web_app) if r not in leads]
    unknown = rows(web_app, validation_state="needs_review", classification="unknown")
    assert len(leads) > 8 and unknown

    act(client, run_id, "approve", [leads[0].id])  # a row with two reasons leaves two groups' pending
    after = assert_counts_exact(web_app, client, run_id)
    for reason in leads[0].validation_reasons or []:
        assert after[reason] == (before[reason][0] - 1, before[reason][1])
    act(client, run_id, "skip", [leads[0].id])  # decided -> decided: no count moves
    assert assert_counts_exact(web_app, client, run_id) == after
    act(client, run_id, "approve", [leads[0].id, leads[1].id])  # one already decided
    assert_counts_exact(web_app, client, run_id)
    act(client, run_id, "override", [unknown[0].id], classification="lead_only", reason="Rappelée")
    assert_counts_exact(web_app, client, run_id)
    act(client, run_id, "note", [leads[2].id], note="à rappeler")  # a note is no decision
    assert assert_counts_exact(web_app, client, run_id)
    act(client, run_id, "approve", [unknown[1].id])  # refused: nothing changes
    assert_counts_exact(web_app, client, run_id)
    act(client, run_id, "skip", [r.id for r in leads[3:6]])
    assert_counts_exact(web_app, client, run_id)
    whole_page = {"run_id": run_id, "action": "approve", "whole_page": "y", "row_ids": []}
    post(client, ACTION, {**whole_page, "page_row_ids": [r.id for r in leads[5:9]]})
    assert_counts_exact(web_app, client, run_id)


def test_the_counts_follow_a_row_out_of_the_queue_and_back_with_its_decision(
    web_app: Flask, client_as: Any
) -> None:
    """Validation moves rows between groups and out of the queue; a reviewer's decision stays
    with the row, so that it comes back decided."""
    run_id, _ = pipeline(web_app)
    client = client_as("reviewer")
    phones = [r.phone_normalized for r in rows(web_app, import_run_id=run_id)]
    staged = next(
        r
        for r in rows(web_app, validation_state="valid", classification="lead_only")
        if r.phone_normalized and phones.count(r.phone_normalized) == 1
    )

    def lead_with_the_rows_phone() -> None:
        with web_app.app_context():
            db.session.add(CrmLead(first_name="X", last_name="Y", phone=staged.phone_normalized))
            db.session.commit()

    before = assert_counts_exact(web_app, client, run_id)
    lead_with_the_rows_phone()
    prepare(web_app, run_id)  # the row is now a duplicate of that lead
    assert row(web_app, staged.id).validation_state == "duplicate"
    pending, total = before.get("matches_existing_crm_lead", (0, 0))
    duplicates = assert_counts_exact(web_app, client, run_id)
    assert duplicates["matches_existing_crm_lead"] == (pending + 1, total + 1)

    act(client, run_id, "approve", [staged.id])
    decided = assert_counts_exact(web_app, client, run_id)
    assert decided["matches_existing_crm_lead"] == (pending, total + 1)
    with web_app.app_context():
        hint_id = db.session.scalars(
            select(LegacyDuplicateHint.id).filter_by(student_import_id=staged.id, target_type="crm_lead")
        ).one()
    act(client, run_id, "reject_hint", [], hint_id=hint_id)
    assert assert_counts_exact(web_app, client, run_id) == decided  # a hint decision moves no row
    prepare(web_app, run_id)  # the rejected hint no longer counts: the row leaves the queue
    assert row(web_app, staged.id).validation_state == "valid"
    assert assert_counts_exact(web_app, client, run_id) == before

    lead_with_the_rows_phone()  # a second lead: a new hint, and the row is back, still approved
    prepare(web_app, run_id)
    assert row(web_app, staged.id).review_decision == "approved"
    assert assert_counts_exact(web_app, client, run_id) == decided
