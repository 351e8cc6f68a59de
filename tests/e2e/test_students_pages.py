"""Staged rows: the filtered list, keyset pages, search, masking, the CSV export, one row and
its raw payload, through the test client (SQLite); the list queries also on PostgreSQL."""

from __future__ import annotations

import csv
import html
import io
import json
import re
import sqlite3
from collections import Counter
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update
from sqlalchemy import text as sql

from app.audit.models import AuditEvent
from app.extensions import db
from app.legacy_import import models
from app.legacy_import import students_query as staged
from app.legacy_import.models import LegacyDuplicateHint, LegacyStudentImport, LegacyTrainingImport
from app.legacy_import.normalize import name_key
from app.legacy_import.vocab import Classification, DuplicateConfidence, SessionType, ValidationState
from tests.conftest import make_app

LIST = "/admin/legacy-imports/students"
EXPORT = f"{LIST}/export.csv"
ROW_LINK = re.compile(r'<td class="num"><a href="/admin/legacy-imports/students/(\d+)">')
NEXT = re.compile(r'href="([^"]+)" rel="next"')
PREVIOUS = re.compile(r'href="([^"]+)" rel="prev"')
TOTAL = re.compile(r"(Plus de )?([\d\u00a0]+) lignes? dans l'import")
STUDENTS = LegacyStudentImport.__table__
TRAININGS = LegacyTrainingImport.__table__


def run_pipeline(app: Flask) -> int:
    runner = app.test_cli_runner()
    result = runner.invoke(args=["legacy", "import", "--json"])
    assert result.exit_code == 0, result.stderr
    run_id = json.loads(result.stdout)["run_id"]
    for step in ("validate", "classify"):
        result = runner.invoke(args=["legacy", step, f"--run={run_id}", "--json"])
        assert result.exit_code == 0, result.stderr
    return int(run_id)


@pytest.fixture
def run_id(web_app: Flask) -> int:
    return run_pipeline(web_app)


def text(response: Any) -> str:
    return response.get_data(as_text=True)


def row_ids(page: str) -> list[int]:
    return [int(found) for found in ROW_LINK.findall(page)]


def walk(client: FlaskClient, url: str) -> list[list[int]]:
    """Every page from `url` on, following the "next" links."""
    pages = []
    while url:
        response = client.get(url)
        assert response.status_code == 200, url
        pages.append(row_ids(text(response)))
        found = NEXT.search(text(response))
        url = html.unescape(found.group(1)) if found else ""
    return pages


def shown_total(page: str) -> int:
    found = TOTAL.search(page)
    assert found and not found.group(1), "no exact total on the page"
    return int(found.group(2).replace("\u00a0", ""))


def db_ids(app: Flask, *where: Any, join_trainings: bool = False) -> list[int]:
    with app.app_context():
        query = select(STUDENTS.c.id).where(*where).order_by(STUDENTS.c.id)
        if join_trainings:
            query = query.join(TRAININGS, TRAININGS.c.student_import_id == STUDENTS.c.id)
        return list(db.session.scalars(query))


def legacy_contacts(legacy_url: str) -> set[str]:
    """Every phone number and e-mail address of the legacy demo, as written there."""
    conn = sqlite3.connect(legacy_url.removeprefix("sqlite:///"))
    values: set[str] = set()
    for table in ("stagiaires", "archives"):
        for phone, email in conn.execute(f"SELECT telephone, email FROM {table}"):
            if isinstance(phone, str) and sum(char.isdigit() for char in phone) >= 8:
                values.add(phone.strip())
            if isinstance(email, str) and "@" in email and "." in email.partition("@")[2]:
                values.add(email.strip())
    conn.close()
    return values


def legacy_personal_values(legacy_url: str) -> set[str]:
    """Names, phones and e-mails of the legacy demo (long enough to matter)."""
    conn = sqlite3.connect(legacy_url.removeprefix("sqlite:///"))
    values: set[str] = set()
    for table in ("stagiaires", "archives"):
        for row in conn.execute(f"SELECT nom, prenom, telephone, email FROM {table}"):
            values.update(v.strip() for v in row if isinstance(v, str) and len(v.strip()) >= 5)
    conn.close()
    return values - {"NULL", "null", "néant", "inconnue"}


def normalized_contacts(app: Flask, run_id: int) -> set[str]:
    with app.app_context():
        rows = db.session.execute(
            select(STUDENTS.c.phone_normalized, STUDENTS.c.email_normalized).where(
                STUDENTS.c.import_run_id == run_id
            )
        )
        return {value for row in rows for value in row if value}


def audit_events(app: Flask, action: str) -> list[AuditEvent]:
    with app.app_context():
        events = list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))
        db.session.expunge_all()
        return events


# --- the list ----------------------------------------------------------------------------


def test_keyset_pages_walk_every_row_of_the_run_once_with_contacts_masked(
    web_app: Flask, run_id: int, client_as: Any, legacy_sqlite_url: str
) -> None:
    run_pipeline(web_app)  # a second run: the list shows the latest by default
    client = client_as("viewer")
    pages = walk(client, LIST)
    shown = [row for page in pages for row in page]
    latest = db_ids(web_app, STUDENTS.c.import_run_id == run_id + 1)
    assert shown == latest  # every row once, in id order
    assert all(len(page) == staged.PAGE_SIZE for page in pages[:-1])
    assert len(pages) == -(-len(latest) // staged.PAGE_SIZE)

    first_run = [row for page in walk(client, f"{LIST}?run={run_id}") for row in page]
    assert first_run == db_ids(web_app, STUDENTS.c.import_run_id == run_id)

    secrets = legacy_contacts(legacy_sqlite_url) | normalized_contacts(web_app, run_id)
    assert len(secrets) > 300
    for url in (LIST, f"{LIST}?run={run_id}&sort=last_name", f"{LIST}/{first_run[0]}"):
        page = text(client.get(url))
        assert [value for value in secrets if value in page] == [], url


@pytest.mark.parametrize("sort", staged.SORTS)
def test_each_sort_pages_forward_and_back_over_the_same_rows(
    web_app: Flask, run_id: int, client_as: Any, sort: str
) -> None:
    client = client_as("viewer")
    pages = walk(client, f"{LIST}?sort={sort}")
    shown = [row for page in pages for row in page]
    with web_app.app_context():
        rows = db.session.execute(
            select(STUDENTS.c.id, STUDENTS.c.source_table, STUDENTS.c.legacy_id, STUDENTS.c.last_name).where(
                STUDENTS.c.import_run_id == run_id
            )
        ).all()
    expected = {
        "id": sorted(rows, key=lambda r: r.id),
        "legacy_id": sorted(rows, key=lambda r: (r.source_table, r.legacy_id)),
        # Named rows by name (SQLite compares code points), then unnamed ones by id.
        "last_name": sorted(rows, key=lambda r: (r.last_name is None, r.last_name or "", r.id)),
    }[sort]
    assert shown == [r.id for r in expected]

    # Back from the last page, following the "previous" links: the same pages, reversed.
    last = client.get(f"{LIST}?sort={sort}&after={pages[-2][-1]}")
    backwards = [row_ids(text(last))]
    found = PREVIOUS.search(text(last))
    while found:
        response = client.get(html.unescape(found.group(1)))
        backwards.append(row_ids(text(response)))
        found = PREVIOUS.search(text(response))
    assert backwards[::-1] == pages


FILTERS = {
    "source_table": ("stagiaires", "archives"),
    "classification": tuple(Classification),
    "validation_state": tuple(ValidationState),
    "duplicate_confidence": tuple(DuplicateConfidence),
}


def test_each_filter_narrows_the_list_to_what_the_database_holds(
    web_app: Flask, run_id: int, client_as: Any
) -> None:
    client = client_as("viewer")
    seen_values = 0
    for name, values in FILTERS.items():
        for value in values:
            expected = db_ids(web_app, STUDENTS.c.import_run_id == run_id, STUDENTS.c[name] == value)
            page = text(client.get(f"{LIST}?{name}={value}"))
            if not expected:
                assert "Aucune ligne ne correspond" in page
                continue
            seen_values += 1
            assert shown_total(page) == len(expected), (name, value)
            assert row_ids(page) == expected[: staged.PAGE_SIZE], (name, value)
    for value in SessionType:
        expected = db_ids(
            web_app,
            STUDENTS.c.import_run_id == run_id,
            TRAININGS.c.session_type == value,
            join_trainings=True,
        )
        page = text(client.get(f"{LIST}?session_type={value}"))
        if expected:
            seen_values += 1
            assert shown_total(page) == len(expected), value
            assert row_ids(page) == expected[: staged.PAGE_SIZE], value
    assert seen_values >= 12  # the demo data exercises most values


def test_combined_filters_walk_exactly_the_matching_rows(web_app: Flask, run_id: int, client_as: Any) -> None:
    expected = db_ids(
        web_app,
        STUDENTS.c.import_run_id == run_id,
        STUDENTS.c.source_table == "stagiaires",
        STUDENTS.c.validation_state == "valid",
        TRAININGS.c.session_type == "real_session",
        join_trainings=True,
    )
    assert len(expected) > staged.PAGE_SIZE
    url = f"{LIST}?source_table=stagiaires&validation_state=valid&session_type=real_session&sort=last_name"
    shown = [row for page in walk(client_as("reviewer"), url) for row in page]
    assert sorted(shown) == expected and len(shown) == len(set(shown))


def test_search_by_legacy_id_and_by_words_of_a_name(web_app: Flask, run_id: int, client_as: Any) -> None:
    client = client_as("viewer")
    with web_app.app_context():
        rows = db.session.execute(
            select(
                STUDENTS.c.id,
                STUDENTS.c.legacy_id,
                STUDENTS.c.name_key,
                STUDENTS.c.first_name,
                STUDENTS.c.last_name,
            )
            .where(STUDENTS.c.import_run_id == run_id)
            .order_by(STUDENTS.c.id)
        ).all()
    legacy_id = Counter(r.legacy_id for r in rows).most_common(1)[0][0]
    page = text(client.get(LIST, query_string={"q": str(legacy_id)}))
    assert sorted(row_ids(page)) == [r.id for r in rows if r.legacy_id == legacy_id]

    def found(query: str) -> list[int]:
        typed = (name_key(query, None) or "").split()
        return [
            r.id for r in rows if all(any(t.startswith(w) for t in (r.name_key or "").split()) for w in typed)
        ]

    person = next(r for r in rows if r.name_key and len(r.name_key.split()) == 2)
    first_word, second_word = person.name_key.split()
    query = f"{second_word[:4].upper()} {first_word}"  # other order, a partial word, capitals
    expected = found(query)
    assert person.id in expected
    assert row_ids(text(client.get(LIST, query_string={"q": query}))) == expected[: staged.PAGE_SIZE]

    accented = next(
        r for r in rows if r.first_name and r.last_name and not (r.first_name + r.last_name).isascii()
    )
    for query in (f"{accented.first_name} {accented.last_name}", accented.name_key):
        shown = row_ids(text(client.get(LIST, query_string={"q": query})))
        assert accented.id in shown and shown == found(query)[: staged.PAGE_SIZE], query


def test_a_name_search_counts_its_matches_up_to_its_own_cap(
    web_app: Flask, run_id: int, client_as: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A name search's total stops at `NAME_SEARCH_COUNT_CAP` (a thousand), the list's own at ten
    thousand; here the search's cap is lowered below the matches of the run's commonest word."""
    with web_app.app_context():
        keys = db.session.scalars(select(STUDENTS.c.name_key).where(STUDENTS.c.import_run_id == run_id)).all()
    word, _ = Counter(token for key in keys for token in set((key or "").split())).most_common(1)[0]
    matches = sum(1 for key in keys if any(token.startswith(word) for token in (key or "").split()))
    assert matches >= 3
    monkeypatch.setattr(staged, "NAME_SEARCH_COUNT_CAP", matches - 1)
    client = client_as("viewer")

    searched = TOTAL.search(text(client.get(LIST, query_string={"q": word})))
    listed = TOTAL.search(text(client.get(LIST)))

    assert searched is not None and searched.groups() == ("Plus de ", str(matches - 1))
    assert listed is not None and listed.group(1) is None
    assert int(listed.group(2).replace("\u00a0", "")) == len(keys) > matches - 1


BAD_VALUES = (
    ({"classification": "bogus"}, "Classification : valeur inconnue"),
    ({"validation_state": "ok"}, "Validation : valeur inconnue"),
    ({"duplicate_confidence": "sure"}, "Doublon : valeur inconnue"),
    ({"session_type": "x"}, "Type de session : valeur inconnue"),
    ({"source_table": "eleves"}, "Table source : valeur inconnue"),
    ({"sort": "phone_raw"}, "Tri : valeur inconnue"),
    ({"run": "999"}, "Import : aucun import n°999"),
    ({"run": "abc"}, "Import : aucun import n°abc"),
    ({"after": "x1"}, "Page : position invalide"),
    ({"after": "999999"}, "cette position n'existe plus"),
    ({"q": "x" * 101}, "100 caractères au plus"),
    ({"q": "amine@gmail.com"}, "la recherche par e-mail n'est pas proposée"),
    ({"q": "0559 44 61 68"}, "la recherche par téléphone n'est pas proposée"),
    ({"q": "213559446168"}, "la recherche par téléphone n'est pas proposée"),
)


def test_a_bad_filter_value_is_a_clear_message_not_an_error(web_app: Flask, client_as: Any) -> None:
    assert web_app.test_cli_runner().invoke(args=["legacy", "import"]).exit_code == 0
    client = client_as("viewer")
    for args, message in BAD_VALUES:
        response = client.get(LIST, query_string=args)
        assert response.status_code == 400, args
        assert message in html.unescape(text(response)), args
        assert 'name="q"' in text(response)  # the filter form stays, to correct the value
        if "q" in args:  # a refused search is not offered back for another request
            assert args["q"] not in text(response)
        assert client.get(EXPORT, query_string=args).status_code == (200 if "after" in args else 400), args
    every = html.unescape(text(client.get(f"{LIST}?classification=a&validation_state=b&sort=c")))
    assert every.count("valeur inconnue") == 3  # all reported at once


def test_empty_states(web_app: Flask, client_as: Any) -> None:
    client = client_as("viewer")
    assert "Aucun import pour l'instant" in text(client.get(LIST))
    run_pipeline(web_app)
    page = text(client.get(LIST, query_string={"q": "zzzzqqq"}))
    assert "Aucune ligne ne correspond à ces filtres" in page
    assert "0 ligne dans l'import" in page


# --- export ------------------------------------------------------------------------------


def test_the_csv_export_is_filtered_masked_formula_safe_and_audited(
    web_app: Flask, run_id: int, client_as: Any, legacy_sqlite_url: str
) -> None:
    with web_app.app_context():
        target = db.session.scalar(
            select(func.min(STUDENTS.c.id)).where(
                STUDENTS.c.import_run_id == run_id, STUDENTS.c.validation_state == "valid"
            )
        )
        db.session.execute(
            update(STUDENTS).where(STUDENTS.c.id == target).values(status_raw='=HYPERLINK("http://x")')
        )
        db.session.commit()
    expected = db_ids(web_app, STUDENTS.c.import_run_id == run_id, STUDENTS.c.validation_state == "valid")
    assert len(expected) > staged.EXPORT_BATCH // 10

    response = client_as("viewer").get(EXPORT, query_string={"validation_state": "valid", "q": ""})
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_data(as_text=True)
    assert body.startswith("\ufeff")
    lines = list(csv.DictReader(io.StringIO(body.removeprefix("\ufeff"))))
    assert [int(line["id"]) for line in lines] == expected
    assert {"phone_normalized", "email_normalized", "session_type", "raw_payload"} <= set(lines[0])

    personal = legacy_personal_values(legacy_sqlite_url) | normalized_contacts(web_app, run_id)
    assert [value for value in personal if value in body] == []
    assert all(line["raw_payload"] in ("***", "") for line in lines)
    injected = next(line for line in lines if int(line["id"]) == target)
    assert injected["status_raw"] == '\'=HYPERLINK("http://x")'
    assert not any(cell.startswith(("=", "+", "-", "@")) for line in lines for cell in line.values() if cell)

    (event,) = audit_events(web_app, "legacy_import.rows_exported")
    assert event.object_id == str(run_id)
    assert event.details == {
        "filters": {"validation_state": "valid", "sort": "id"},
        "rows": len(expected),
        "complete": True,
        "masked": True,
    }


def test_the_export_streams_in_keyset_batches_in_the_sort_order(
    web_app: Flask, run_id: int, client_as: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(staged, "EXPORT_BATCH", 7)
    response = client_as("viewer").get(EXPORT, query_string={"sort": "last_name", "q": "a"})
    lines = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).removeprefix("\ufeff"))))
    shown = [row for page in walk(client_as("viewer"), f"{LIST}?sort=last_name&q=a") for row in page]
    assert [int(line["id"]) for line in lines] == shown
    (event,) = audit_events(web_app, "legacy_import.rows_exported")
    assert event.details["filters"] == {"search": "name", "sort": "last_name"}  # never the words searched
    assert event.details["rows"] == len(shown)


# --- one row -----------------------------------------------------------------------------


def hinted_row(app: Flask, run_id: int) -> tuple[int, int]:
    """A row with a hint at another staged row: (row id, target id)."""
    with app.app_context():
        hint = db.session.scalars(
            select(LegacyDuplicateHint)
            .where(
                LegacyDuplicateHint.import_run_id == run_id, LegacyDuplicateHint.target_type == "staged_row"
            )
            .order_by(LegacyDuplicateHint.id)
        ).first()
        assert hint is not None
        return hint.student_import_id, hint.target_id


def test_a_row_page_shows_its_decisions_hints_and_training_with_contacts_masked(
    web_app: Flask, run_id: int, client_as: Any
) -> None:
    row_id, target_id = hinted_row(web_app, run_id)
    with web_app.app_context():
        row = db.session.get(LegacyStudentImport, row_id)
        assert row is not None
        training = row.training
        facts = {
            "rule": row.classification_rule,
            "reasons": row.validation_reasons or [],
            "phone": row.phone_normalized,
            "email": row.email_normalized,
            "session": training.legacy_session_id if training else None,
        }
    page = text(client_as("viewer").get(f"{LIST}/{row_id}"))
    assert facts["rule"] and f"<code>{facts['rule']}</code>" in page
    assert all(f"<code>{reason}</code>" in page for reason in facts["reasons"])
    assert f'href="/admin/legacy-imports/students/{target_id}"' in page
    if facts["session"] is not None:
        assert f"n°{facts['session']}" in page
    assert "Formation et session" in page and "Indices de doublon" in page
    for secret in (facts["phone"], facts["email"]):
        if secret:
            assert secret not in page
    assert "Voir les données brutes" not in page
    assert f"{LIST}/{row_id}/raw" not in page

    revealed = text(client_as("raw.viewer@ecoin.test").get(f"{LIST}/{row_id}"))
    assert "Voir les données brutes" in revealed
    for secret in (facts["phone"], facts["email"]):
        if secret:
            assert secret in revealed

    assert client_as("viewer").get(f"{LIST}/999999").status_code == 404


def test_the_raw_payload_needs_view_raw_and_every_view_is_audited(
    web_app: Flask, run_id: int, client_as: Any
) -> None:
    row_id = db_ids(web_app, STUDENTS.c.import_run_id == run_id, STUDENTS.c.email_status == "valid")[4]
    with web_app.app_context():
        payload = db.session.get(LegacyStudentImport, row_id).raw_payload  # type: ignore[union-attr]
    url = f"{LIST}/{row_id}/raw"
    for role in ("viewer", "reviewer", "import_manager", "administrator"):
        assert client_as(role).get(url).status_code == 403, role
    assert audit_events(web_app, "legacy_import.raw_viewed") == []

    client = client_as("raw.viewer@ecoin.test")
    for _ in range(2):
        response = client.get(url)
        assert response.status_code == 200
        page = text(response)
        assert all(f"<code>{column}</code>" in page for column in payload)
        assert str(payload["email"]) in page
    events = audit_events(web_app, "legacy_import.raw_viewed")
    assert len(events) == 2
    assert {(e.object_type, e.object_id) for e in events} == {("legacy_student_import", str(row_id))}
    assert all(e.actor_id is not None and e.details == {"import_run_id": run_id} for e in events)
    assert client.get(f"{LIST}/999999/raw").status_code == 404
    assert len(audit_events(web_app, "legacy_import.raw_viewed")) == 2


def test_the_list_is_in_the_navigation(client_as: Any) -> None:
    page = text(client_as("viewer").get("/admin/legacy-imports"))
    assert f'href="{LIST}"' in page and "Lignes importées" in page


# --- the service on both backends -------------------------------------------------------


def test_list_queries_agree_with_the_database_on_both_backends(
    app_db_url: str, legacy_sqlite_url: str
) -> None:
    app = make_app(app_db_url, LEGACY_CONNECTIONS={"legacy": legacy_sqlite_url})
    run_id = run_pipeline(app)
    with app.app_context():
        session = db.session
        all_ids = list(
            session.scalars(
                select(STUDENTS.c.id).where(STUDENTS.c.import_run_id == run_id).order_by(STUDENTS.c.id)
            )
        )
        for sort in staged.SORTS:
            filters = staged.parse_filters(session, {"sort": sort})
            seen: list[int] = []
            cursor = None
            while True:
                page = staged.list_page(session, filters, cursor, size=37)
                seen += [row["id"] for row in page.rows]
                if page.next_after is None:
                    break
                cursor = staged.Cursor(page.next_after, forward=True)
            assert sorted(seen) == all_ids and len(seen) == len(all_ids), sort
            exported = [
                row.id
                for batch in staged.iter_batches(session, filters, staged.list_base(), 41)
                for row in batch
            ]
            assert exported == seen, sort

        combined = staged.parse_filters(
            session,
            {"source_table": "stagiaires", "session_type": "real_session", "q": "a", "sort": "last_name"},
        )
        expected = session.scalar(
            select(func.count())
            .select_from(STUDENTS.join(TRAININGS, TRAININGS.c.student_import_id == STUDENTS.c.id))
            .where(
                STUDENTS.c.import_run_id == run_id,
                STUDENTS.c.source_table == "stagiaires",
                TRAININGS.c.session_type == "real_session",
                (STUDENTS.c.name_key.like("a%")) | (STUDENTS.c.name_key.like("% a%")),
            )
        )
        assert staged.count_rows(session, combined) == (expected, False)
        assert staged.count_rows(session, combined, cap=5) == (5, True)
        if session.get_bind().dialect.name == "postgresql":  # a count gets a time budget there
            timeout = session.scalar(sql("SELECT current_setting('statement_timeout')"))
            assert staged.scalar_within(session, select(func.pg_sleep(1)), budget_ms=50) is None
            assert session.scalar(sql("SELECT current_setting('statement_timeout')")) == timeout
            assert staged.scalar_within(session, select(func.count()).select_from(STUDENTS), 5000) == len(
                all_ids
            )
            assert session.scalar(sql("SELECT current_setting('statement_timeout')")) == timeout
        db.engine.dispose()


SEARCH_INDEX = "ix_legacy_student_imports_spaced_name_key_trgm"
FILTER_INDEXES = tuple(f"ix_legacy_student_imports_run_{name}" for name in ("class", "source", "confidence"))


def test_name_search_words_begin_words_of_the_name_on_both_backends(
    app_db_url: str, legacy_sqlite_url: str
) -> None:
    """The same rows are found before validation (the run's rows are read) and after it (the
    trigram index of validated rows serves the search on PostgreSQL)."""
    app = make_app(app_db_url, LEGACY_CONNECTIONS={"legacy": legacy_sqlite_url})
    runner = app.test_cli_runner()
    imported = runner.invoke(args=["legacy", "import", "--json"])
    assert imported.exit_code == 0, imported.stderr
    run_id = json.loads(imported.stdout)["run_id"]
    keys = ("kelvo trumo", "kelvorin zed", "bakelvo trumo", "trumo", "akelvo btrumo")  # invented words
    with app.app_context():
        session = db.session
        ids = session.scalars(
            select(STUDENTS.c.id).where(STUDENTS.c.import_run_id == run_id).order_by(STUDENTS.c.id).limit(5)
        ).all()
        for row_id, key in zip(ids, keys, strict=True):
            session.execute(update(STUDENTS).where(STUDENTS.c.id == row_id).values(name_key=key))
        session.commit()
        by_key = dict(zip(keys, ids, strict=True))

        def found(query: str, indexed: bool) -> set[int]:
            filters = staged.parse_filters(session, {"run": str(run_id), "q": query})
            assert filters.validated is indexed
            listed = str(select(STUDENTS.c.id).where(*staged.conditions(filters)))
            assert (models.VALIDATED in listed) is indexed  # what the indexes of validated rows need
            plain = staged.parse_filters(session, {"run": str(run_id), "session_type": "waiting_session"})
            assert models.VALIDATED not in str(select(STUDENTS.c.id).where(*staged.conditions(plain)))
            shown = {row["id"] for row in staged.list_page(session, filters, size=500).rows}
            assert staged.count_rows(session, filters) == (len(shown), False), query
            return shown

        def expect_the_same_rows(indexed: bool) -> None:
            assert found("kelvo", indexed) == {by_key["kelvo trumo"], by_key["kelvorin zed"]}  # word starts
            assert found("TRUMO kél", indexed) == found("kel trumo", indexed) == {by_key["kelvo trumo"]}
            assert found("trumo", indexed) == {
                by_key["kelvo trumo"],
                by_key["bakelvo trumo"],
                by_key["trumo"],
            }
            assert found("kelvor", indexed) == {by_key["kelvorin zed"]}
            assert found("umo", indexed) == found("kelvo zed trumo", indexed) == set()

        expect_the_same_rows(indexed=False)
        session.rollback()
        for step in ("validate", "classify"):
            result = runner.invoke(args=["legacy", step, f"--run={run_id}", "--json"])
            assert result.exit_code == 0, result.stderr
        expect_the_same_rows(indexed=True)

        if session.get_bind().dialect.name == "postgresql":  # the condition is the index's own
            filters = staged.parse_filters(session, {"run": str(run_id), "q": "kel trumo"})
            assert filters.search is not None
            query = select(STUDENTS.c.id).where(
                staged.search_condition(filters.search, None), staged.validated_rows()
            )
            compiled = query.compile(
                dialect=session.get_bind().dialect, compile_kwargs={"literal_binds": True}
            )
            for setting in ("enable_seqscan", "enable_indexscan", "enable_indexonlyscan"):
                session.execute(sql(f"SET LOCAL {setting} = off"))
            for other in FILTER_INDEXES:  # of validated rows too: cheaper to scan whole at this size
                session.execute(sql(f"DROP INDEX {other}"))  # rolled back below
            plan = "\n".join(session.scalars(sql(f"EXPLAIN {compiled}")))
            session.rollback()
            assert f"Bitmap Index Scan on {SEARCH_INDEX}" in plan, plan
            # How many rows a name matches, for the planner to choose between the index and
            # the run's ids: statistics of the index's expression, which a partial index lacks.
            statistics = session.scalars(
                sql("SELECT most_common_vals FROM pg_stats_ext_exprs WHERE statistics_name = :name"),
                {"name": "legacy_student_imports_spaced_name_key"},
            ).all()
            assert len(statistics) == 1 and statistics[0] is not None
        db.engine.dispose()


def test_search_parsing() -> None:
    assert staged.parse_search("  ") is None
    assert staged.parse_search("1234") == staged.Search("legacy_id", legacy_id=1234)
    assert staged.parse_search("Bénali  AMINE") == staged.Search("name", words=("amine", "benali"))
    assert staged.parse_search("ait-ahmed") == staged.Search("name", words=("ahmed", "ait"))
    assert staged.parse_search("o'brien 100%") == staged.Search("name", words=("100", "brien", "o"))
    for refused in ("0559446168", "+213 559 44 61 68", "a@b.dz", "x" * 101, "---"):
        with pytest.raises(staged.FilterError):
            staged.parse_search(refused)
