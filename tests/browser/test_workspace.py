"""The review workspace in a real browser against a live server (SPEC.md, "Web pages"): sign in,
start an import on the demo database, watch it reach `ingested`, validate, classify and dry-run
it, filter staged rows, approve a review item, map a course; a viewer sees no actions.

Full-page screenshots of the main pages are kept in test-artifacts/screenshots/.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
import sqlalchemy as sa
from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import shoot

pytestmark = pytest.mark.integration

RUNS = "/admin/legacy-imports"
STUDENTS = "/admin/legacy-imports/students"
REVIEW = "/admin/legacy-imports/review"
COURSES = "/admin/legacy-imports/course-mapping"
SESSIONS = "/admin/legacy-imports/session-mapping"
AUDIT = "/admin/audit"
PHASE_SECONDS = 30  # bound for one step of the 600-row demo run (a second or two in practice)
COURSE_NAMES = ("Développement web", "Comptabilité et finance", "Anglais", "Marketing digital", "Infographie")
CONTACT_STATUSES = ("valide", "fictif", "invalide", "absent")
MASKED_PHONE = re.compile(r"^\*+\d{0,2}$")
MASKED_EMAIL = re.compile(r"^[^*@\s]?\*\*\*(@\S+)?$")

OpenPage = Callable[[str | None], Page]
STATE: dict[str, int] = {}  # the run the pipeline test prepared, for the tests after it


def flash(page: Page, text: str | re.Pattern[str]) -> Locator:
    return page.get_by_role("status").filter(has_text=text)


def count_in(text: str) -> int:
    match = re.search(r"(\d[\d\u00a0\s]*)", text)
    assert match, text
    return int(re.sub(r"\D", "", match.group(1)))


def run_status(page: Page) -> Locator:
    return page.locator('.run-status [data-field="status"]')


def import_and_prepare(page: Page) -> int:
    """Start an import from the runs page and take it to a dry run through the run's page."""
    page.goto(RUNS)
    page.get_by_label("Connexion", exact=True).select_option("legacy")
    page.get_by_label("Libellé (facultatif)").fill("contrôle navigateur")
    page.get_by_role("button", name="Lancer l'import").click()
    expect(page).to_have_url(re.compile(r"/admin/legacy-imports/\d+$"), timeout=PHASE_SECONDS * 1000)
    run_id = int(page.url.rsplit("/", 1)[1])
    expect(page.get_by_role("heading", name=f"Import n°{run_id} · contrôle navigateur")).to_be_visible()
    expect(flash(page, f"Import n°{run_id} lancé sur la connexion « legacy »")).to_be_visible()
    # While the run works, the page polls its progress and reloads itself once it rests.
    expect(run_status(page)).to_have_attribute("title", "ingested", timeout=PHASE_SECONDS * 1000)
    expect(run_status(page)).to_have_text("lu")
    expect(page.locator('#counters [data-counter="stagiaires_staged"]')).to_have_text(
        re.compile(r"^[1-9]\d*$")
    )

    for action, label, status in (
        ("Valider", "Validation", "validated"),
        ("Classer", "Classification", "classified"),
        ("Simuler", "Simulation", "dry_run_ready"),
    ):
        page.get_by_role("button", name=action, exact=True).click()
        expect(flash(page, f"{label} de l'import n°{run_id} lancée.")).to_be_visible(
            timeout=PHASE_SECONDS * 1000
        )
        expect(run_status(page)).to_have_attribute("title", status, timeout=PHASE_SECONDS * 1000)

    report = page.locator("#dry-run")
    expect(report.get_by_role("heading", name="Simulation")).to_be_visible()
    expect(report.get_by_role("table", name="Prospects CRM")).to_be_visible()
    expect(report.locator('[data-report="leads.create"]')).to_have_text(re.compile(r"^\d+$"))
    expect(report.get_by_role("table", name="Bloquées")).to_be_visible()
    return run_id


@pytest.fixture
def ready_run(open_page: OpenPage) -> int:
    """The run the pipeline test took to `dry_run_ready`; prepared here when it did not run."""
    if "run_id" not in STATE:
        STATE["run_id"] = import_and_prepare(open_page("administrator"))
    return STATE["run_id"]


# -- tests, in the order a person would work ---------------------------------------------------


def test_sign_in_page_refuses_a_wrong_password(open_page: OpenPage) -> None:
    page = open_page(None)
    page.goto(RUNS)
    expect(page).to_have_url(re.compile(r"/login\?next="))
    expect(page.get_by_role("heading", name="Connexion")).to_be_visible()
    shoot(page, "01-sign-in")
    page.get_by_label("Adresse e-mail").fill("viewer@ecoin.test")
    page.get_by_label("Mot de passe").fill("not the password")
    page.get_by_role("button", name="Se connecter").click()
    expect(flash(page, "Adresse e-mail ou mot de passe incorrect.")).to_be_visible()
    expect(page.get_by_role("link", name="Imports")).to_have_count(0)


def test_administrator_imports_the_demo_database_and_runs_it_to_a_dry_run(
    open_page: OpenPage, app_db: sa.Engine
) -> None:
    page = open_page("administrator")
    run_id = import_and_prepare(page)
    STATE["run_id"] = run_id
    shoot(page, "03-run-detail-dry-run")

    with app_db.connect() as conn:
        status, report = conn.execute(
            sa.text("SELECT status, dry_run_report FROM legacy_import_runs WHERE id = :id"), {"id": run_id}
        ).one()
    assert status == "dry_run_ready"
    assert report

    page.get_by_role("link", name="Imports", exact=True).first.click()
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name=f"n°{run_id}", exact=True))
    expect(row).to_contain_text("contrôle navigateur")
    expect(row.locator('[data-field="status"]')).to_have_text("simulation prête")
    shoot(page, "02-runs-list")


def test_staged_rows_filter_by_validation_state_with_contacts_masked(
    open_page: OpenPage, ready_run: int, app_db: sa.Engine
) -> None:
    page = open_page("administrator")
    page.goto(f"{STUDENTS}?run={ready_run}")
    summary = page.locator(".staged-summary p")
    expect(summary).to_contain_text(f"lignes dans l'import n°{ready_run}.")
    total = count_in(summary.inner_text())
    rows = page.locator("table.staged-rows tbody tr")
    first_ids = rows.locator("td:first-child").all_inner_texts()

    page.get_by_role("combobox", name=re.compile(r"^Validation")).select_option("needs_review")
    page.get_by_role("button", name="Filtrer").click()
    expect(page).to_have_url(re.compile(r"validation_state=needs_review"))
    expect(summary).to_contain_text("avec ces filtres")
    filtered = count_in(summary.inner_text())
    assert 0 < filtered < total
    expect(rows.first).to_be_visible()
    assert rows.locator("td:first-child").all_inner_texts() != first_ids
    states = rows.locator("td:nth-child(8) .badge").first
    expect(states).to_have_text("À revoir")
    for cell in rows.locator("td:nth-child(8)").all_inner_texts():
        assert cell.startswith("À revoir"), cell

    phones = rows.locator("td.contact:nth-child(5)").all_inner_texts()
    emails = rows.locator("td.contact:nth-child(6)").all_inner_texts()
    assert any(MASKED_PHONE.match(p) and "*" in p for p in phones), phones
    for phone in phones:
        assert phone in CONTACT_STATUSES or MASKED_PHONE.match(phone), phone
    for email in emails:
        assert email in CONTACT_STATUSES or MASKED_EMAIL.match(email), email
    with app_db.connect() as conn:
        contacts = conn.execute(
            sa.text(
                "SELECT phone_normalized, email_normalized FROM legacy_student_imports "
                "WHERE import_run_id = :run AND validation_state = 'needs_review'"
            ),
            {"run": ready_run},
        ).all()
    html = page.content()
    leaked = [value for pair in contacts for value in pair if value and value in html]
    assert not leaked, f"{len(leaked)} full phone numbers or e-mail addresses on the page"
    shoot(page, "04-staged-rows-filtered")

    first = rows.first.get_by_role("link").first
    row_id = first.inner_text().strip()
    first.click()
    expect(page.get_by_role("navigation", name="breadcrumb")).to_contain_text(f"Ligne n°{row_id}")
    expect(page.get_by_role("heading", name="Classification et validation")).to_be_visible()
    expect(page.get_by_text("Téléphone, e-mail et date de naissance sont masqués")).to_be_visible()
    expect(page.get_by_role("link", name="Voir les données brutes")).to_have_count(0)
    shoot(page, "05-row-detail")


def test_reviewer_approves_a_row_and_it_leaves_the_queue(
    open_page: OpenPage, ready_run: int, app_db: sa.Engine
) -> None:
    page = open_page("reviewer")
    page.get_by_role("link", name="Revue", exact=True).click()
    expect(page.get_by_role("heading", name="File de revue")).to_be_visible()
    page.get_by_role("combobox", name=re.compile(r"^Import")).select_option(str(ready_run))
    page.get_by_role("button", name="Afficher").click()
    # Rows classified unknown / needs_review must be corrected, not approved: take a row of the
    # first group that has one with a usable classification.
    group_title = page.locator("#group-title")
    expect(group_title).to_contain_text("à traiter sur")
    approvable = page.locator("table.review-table tbody tr").filter(
        has_not=page.locator("td:nth-child(5)", has_text=re.compile("Inconnu|À revoir"))
    )
    groups = page.get_by_role("navigation", name="Motifs de revue").get_by_role("link")
    for index in range(groups.count()):
        if groups.nth(index).get_attribute("aria-current") != "true":
            groups.nth(index).click()
            expect(groups.nth(index)).to_have_attribute("aria-current", "true")
        if approvable.count():
            break
    first = approvable.first
    expect(first).to_be_visible()
    pending = count_in(group_title.locator("small").inner_text())
    row_id = int((first.get_attribute("id") or "").removeprefix("row-"))
    name, phone, email = first.locator("td:nth-child(3)").inner_text().splitlines()[:3]
    assert re.fullmatch(r"(\S\*\*\* ?)+", name.strip()), name  # names masked to their initials
    # a valid phone or address masked, else its status ("e-mail invalide"), never a fragment
    assert MASKED_PHONE.match(phone.strip()) or phone in [f"téléphone {s}" for s in CONTACT_STATUSES], phone
    assert MASKED_EMAIL.match(email.strip()) or email in [f"e-mail {s}" for s in CONTACT_STATUSES], email
    shoot(page, "06-review-queue")

    page.get_by_role("button", name=f"Approuver la ligne {row_id}", exact=True).click()
    expect(flash(page, "Approuver : 1 modification(s) enregistrée(s)")).to_be_visible()
    expect(page.locator(f"#row-{row_id}")).to_have_count(0)
    expect(group_title.locator("small")).to_contain_text(f"{pending - 1} à traiter")

    page.get_by_role("combobox", name=re.compile(r"^Lignes")).select_option(label="Traitées")
    page.get_by_role("button", name="Afficher").click()
    expect(page.locator(f"#row-{row_id}")).to_contain_text("Approuvée")
    with app_db.connect() as conn:
        decision = conn.execute(
            sa.text("SELECT review_decision FROM legacy_student_imports WHERE id = :id"), {"id": row_id}
        ).scalar_one()
    assert decision == "approved"


def test_reviewer_maps_formations_to_current_courses(
    open_page: OpenPage, ready_run: int, app_db: sa.Engine
) -> None:
    with app_db.begin() as conn:  # the current platform's catalogue, which the mapping targets
        if not conn.execute(sa.text("SELECT count(*) FROM courses")).scalar_one():
            conn.execute(
                sa.text(
                    "INSERT INTO courses (name, is_active, created_at) VALUES (:name, 1, CURRENT_TIMESTAMP)"
                ),
                [{"name": name} for name in COURSE_NAMES],
            )
    page = open_page("reviewer")
    page.goto(f"{COURSES}?run={ready_run}")
    expect(page.get_by_role("heading", name="Correspondance des formations")).to_be_visible()
    page.get_by_role("button", name=re.compile(r"^(Re)?[Cc]alculer les suggestions$")).click()
    expect(flash(page, "Suggestions calculées")).to_be_visible()

    table = page.locator("table.mapping-table tbody")
    web = table.get_by_role("row").filter(has=page.get_by_role("cell", name="Développement Web", exact=True))
    expect(web.locator("td:nth-child(3)")).to_contain_text("Développement web")
    web.get_by_role("button", name=re.compile(r"^Accepter la suggestion")).click()
    expect(flash(page, re.compile(r"Formation n°\d+ : Associée\."))).to_be_visible()
    expect(web.locator("td:nth-child(4)")).to_contain_text("Associée")
    expect(web.locator("td:nth-child(4)")).to_contain_text("Développement web")

    english = table.get_by_role("row").filter(
        has=page.get_by_role("cell", name="Langue Anglaise", exact=True)
    )
    english.get_by_label("Autre formation actuelle").select_option(label="Anglais")
    english.get_by_role("button", name="Choisir").click()
    expect(flash(page, re.compile(r"Formation n°\d+ : Associée\."))).to_be_visible()
    expect(english.locator("td:nth-child(4)")).to_contain_text("Anglais")
    shoot(page, "07-course-mapping")

    with app_db.connect() as conn:
        found = conn.execute(
            sa.text(
                "SELECT m.legacy_name, c.name FROM legacy_course_mappings m JOIN courses c "
                "ON c.id = m.course_id WHERE m.import_run_id = :run AND m.decision = 'mapped'"
            ),
            {"run": ready_run},
        )
        mapped = {str(legacy_name): str(course) for legacy_name, course in found}
    assert mapped.get("Développement Web") == "Développement web"
    assert mapped.get("Langue Anglaise") == "Anglais"


def test_administrator_sees_session_mapping_and_the_audit_log(open_page: OpenPage, ready_run: int) -> None:
    page = open_page("administrator")
    page.get_by_role("link", name="Sessions", exact=True).click()
    expect(page.get_by_role("heading", name="Correspondance des sessions")).to_be_visible()
    page.get_by_role("combobox", name=re.compile(r"^Type de session")).select_option(
        label="Session d'attente"
    )
    page.get_by_role("button", name="Afficher").click()
    types = page.locator("table.mapping-table tbody tr td:nth-child(5)")
    expect(types.first).to_have_text("Session d'attente")
    assert set(types.all_inner_texts()) == {"Session d'attente"}
    page.get_by_role("combobox", name=re.compile(r"^Type de session")).select_option(label="Tous")
    page.get_by_role("button", name="Afficher").click()
    expect(page.locator("table.mapping-table tbody tr").first).to_be_visible()
    shoot(page, "08-session-mapping")

    page.get_by_role("link", name="Journal", exact=True).click()
    expect(page.get_by_role("heading", name="Journal d'audit")).to_be_visible()
    actions = page.locator("table.audit-table > tbody > tr > td:nth-child(3)")
    expect(actions.filter(has_text="legacy_import.run_started").first).to_be_visible()
    expect(actions.filter(has_text="auth.signed_in").first).to_be_visible()
    shoot(page, "09-audit-log")


def test_viewer_sees_no_actions_is_refused_the_audit_log_and_signs_out(
    open_page: OpenPage, ready_run: int
) -> None:
    page = open_page("viewer")
    actions = re.compile(r"^(Lancer l'import|Valider|Classer|Simuler|Approuver|Écarter|Accepter|Choisir)")
    expect(page.get_by_role("heading", name="Nouvel import")).to_have_count(0)
    expect(page.get_by_role("link", name="Journal")).to_have_count(0)
    expect(page.get_by_role("button", name=actions)).to_have_count(0)

    for path, heading in (
        (f"{RUNS}/{ready_run}", f"Import n°{ready_run}"),
        (f"{REVIEW}?run={ready_run}", "File de revue"),
        (f"{COURSES}?run={ready_run}", "Correspondance des formations"),
        (f"{SESSIONS}?run={ready_run}", "Correspondance des sessions"),
    ):
        page.goto(path)
        expect(page.get_by_role("heading", name=heading).first).to_be_visible()
        expect(page.get_by_role("button", name=actions)).to_have_count(0)
        expect(
            page.get_by_role("button", name=re.compile("suggestions|Règle de substitution"))
        ).to_have_count(0)
        expect(page.get_by_role("checkbox")).to_have_count(0)

    response = page.goto(AUDIT)
    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", name="Accès refusé")).to_be_visible()
    shoot(page, "10-forbidden-403")

    page.get_by_role("button", name="Se déconnecter").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(flash(page, "Vous êtes déconnecté.")).to_be_visible()
    page.goto(RUNS)
    expect(page).to_have_url(re.compile(r"/login\?next="))
    expect(page.get_by_role("button", name="Se déconnecter")).to_have_count(0)
