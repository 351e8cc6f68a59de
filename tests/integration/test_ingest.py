"""Ingestion end to end: MariaDB (or SQLite) as the legacy source, SQLite and PostgreSQL as the app."""

from __future__ import annotations

import json
import logging
import shutil
import sqlite3
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import create_engine, func, select, text

from app.extensions import db
from app.legacy_import import helpers, ingest
from app.legacy_import.demo import generate_legacy_database, legacy_fingerprint
from app.legacy_import.models import (
    STUDENTS,
    LegacyCourseMapping,
    LegacyImportChunk,
    LegacyImportRun,
    LegacySessionMapping,
    LegacyStudentImport,
    LegacyTrainingImport,
)
from app.legacy_import.normalize import clean_name
from app.legacy_import.runs import create_run
from app.legacy_import.settings import IngestSettings
from app.legacy_import.source import DatabaseLegacySourceReader, LegacyRecord, json_ready
from tests.conftest import make_app, migrate, truncate_app_tables
from tests.support.databases import mariadb_database, postgres_database

pytestmark = pytest.mark.integration

LEGACY_TABLES = ("formations", "session_ecoins", "stagiaires", "archives")


def legacy_counts(url: str) -> dict[str, int]:
    engine = create_engine(url)
    with engine.connect() as conn:
        counts = {t: conn.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar_one() for t in LEGACY_TABLES}
    engine.dispose()
    return counts


def legacy_rows(url: str, table: str) -> dict[int, dict[str, Any]]:
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = {row["id"]: dict(row) for row in conn.execute(text(f"SELECT * FROM {table}")).mappings()}
    engine.dispose()
    return rows


def run_cli(app: Flask, *args: str) -> Any:
    return app.test_cli_runner().invoke(args=list(args))


@pytest.fixture
def app(app_db_url: str, legacy_mariadb_url: str) -> Flask:
    return make_app(app_db_url, LEGACY_CONNECTIONS={"legacy": legacy_mariadb_url})


def staged_count(app: Flask, model: Any, run_id: int, **filters: Any) -> int:
    with app.app_context():
        query = select(func.count()).select_from(model).where(model.import_run_id == run_id)
        for name, value in filters.items():
            query = query.where(getattr(model, name) == value)
        return db.session.execute(query).scalar_one()


def test_import_stages_every_legacy_row_once(app: Flask, legacy_mariadb_url: str) -> None:
    before = legacy_fingerprint(legacy_mariadb_url)
    result = run_cli(app, "legacy", "import", "--connection=legacy", "--label=first", "--json")

    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    counts = legacy_counts(legacy_mariadb_url)
    run_id = summary["run_id"]
    assert summary["status"] == "ingested"
    assert summary["counters"]["stagiaires_staged"] == counts["stagiaires"]
    assert summary["counters"]["archives_staged"] == counts["archives"]
    assert staged_count(app, LegacyStudentImport, run_id, source_table="stagiaires") == counts["stagiaires"]
    assert staged_count(app, LegacyStudentImport, run_id, source_table="archives") == counts["archives"]
    students = counts["stagiaires"] + counts["archives"]
    assert staged_count(app, LegacyTrainingImport, run_id) == students
    assert summary["counters"]["trainings_staged"] == students
    assert staged_count(app, LegacyCourseMapping, run_id) == counts["formations"]
    assert staged_count(app, LegacySessionMapping, run_id) == counts["session_ecoins"]
    assert summary["progress"]["rows_done"] == summary["progress"]["rows_total"] == sum(counts.values())
    assert legacy_fingerprint(legacy_mariadb_url) == before


def test_raw_payloads_round_trip(app: Flask, legacy_mariadb_url: str) -> None:
    result = run_cli(app, "legacy", "import", "--json")
    run_id = json.loads(result.stdout)["run_id"]
    for table in ("stagiaires", "archives"):
        source = legacy_rows(legacy_mariadb_url, table)
        with app.app_context():
            staged = db.session.execute(
                select(LegacyStudentImport.legacy_id, LegacyStudentImport.raw_payload).where(
                    LegacyStudentImport.import_run_id == run_id,
                    LegacyStudentImport.source_table == table,
                )
            ).all()
        assert len(staged) == len(source)
        for legacy_id, payload in staged:
            assert payload == {column: json_ready(value) for column, value in source[legacy_id].items()}


def test_each_import_makes_a_new_run(app: Flask) -> None:
    first = json.loads(run_cli(app, "legacy", "import", "--json").stdout)
    second = json.loads(run_cli(app, "legacy", "import", "--json").stdout)
    assert second["run_id"] != first["run_id"]
    assert second["counters"] == first["counters"]


class FailingReader:
    """The real reader, whose connection drops after a number of batches."""

    def __init__(self, reader: DatabaseLegacySourceReader, batches_before_failure: int) -> None:
        self.reader = reader
        self.remaining = batches_before_failure

    def __getattr__(self, name: str) -> Any:
        return getattr(self.reader, name)

    def read_batches(self, *args: Any, **kwargs: Any) -> Iterator[list[LegacyRecord]]:
        for batch in self.reader.read_batches(*args, **kwargs):
            if self.remaining == 0:
                raise ConnectionResetError("legacy server went away")
            self.remaining -= 1
            yield batch


def test_interrupted_run_resumes_without_doubling(app: Flask, legacy_mariadb_url: str) -> None:
    with app.app_context():
        run_id = create_run(db.session, "legacy").id
        reader = DatabaseLegacySourceReader(legacy_mariadb_url)
        with pytest.raises(ConnectionResetError):
            ingest.ingest(
                db.session,
                run_id,
                FailingReader(reader, batches_before_failure=12),
                IngestSettings(batch_size=50),
            )
        run = db.session.get(LegacyImportRun, run_id)
        assert run.status == "failed"
        assert run.failure_reason == "students: ConnectionResetError"
        staged_before = run.stagiaires_staged
        assert staged_before > 0

    result = run_cli(app, "legacy", "resume", f"--run={run_id}", "--json")

    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    counts = legacy_counts(legacy_mariadb_url)
    assert summary["status"] == "ingested"
    assert summary["counters"]["stagiaires_staged"] == counts["stagiaires"]
    for table in ("stagiaires", "archives"):
        with app.app_context():
            ids = db.session.scalars(
                select(LegacyStudentImport.legacy_id).where(
                    LegacyStudentImport.import_run_id == run_id, LegacyStudentImport.source_table == table
                )
            ).all()
        assert sorted(ids) == sorted(legacy_rows(legacy_mariadb_url, table))
    assert summary["progress"]["rows_done"] == sum(counts.values())


def test_a_finished_run_is_not_resumed(app: Flask) -> None:
    run_id = json.loads(run_cli(app, "legacy", "import", "--json").stdout)["run_id"]
    result = run_cli(app, "legacy", "resume", f"--run={run_id}")
    assert result.exit_code == 1
    assert result.stderr.strip() == f"Error: run {run_id} is ingested; there is no ingestion to resume"


def legacy_copy_with_nul_byte(legacy_url: str, tmp_path: Path, legacy_id: int) -> str:
    path = tmp_path / "nul.sqlite"
    shutil.copy(legacy_url.removeprefix("sqlite:///"), path)
    conn = sqlite3.connect(path)
    conn.execute("UPDATE stagiaires SET prenom = ? WHERE id = ?", ("Ami\x00ne", legacy_id))
    conn.commit()
    conn.close()
    return f"sqlite:///{path}"


def test_a_row_the_app_database_refuses_is_still_staged(
    postgres_url: str, legacy_sqlite_url: str, tmp_path: Path
) -> None:
    """PostgreSQL text cannot hold a NUL byte: that row alone is staged raw, with the issue."""
    legacy_url = legacy_copy_with_nul_byte(legacy_sqlite_url, tmp_path, legacy_id=5)
    app = make_app(postgres_url, LEGACY_CONNECTIONS={"legacy": legacy_url})
    truncate_app_tables(app)

    result = run_cli(app, "legacy", "import", "--json")

    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["counters"]["stagiaires_staged"] == legacy_counts(legacy_url)["stagiaires"]
    with app.app_context():
        rows = db.session.scalars(
            select(LegacyStudentImport).where(LegacyStudentImport.source_table == "stagiaires")
        ).all()
        refused = [row for row in rows if row.normalization_issues == ["staging_error"]]
        assert [row.legacy_id for row in refused] == [5]
        assert "Ami\\u0000ne" in refused[0].raw_payload["unstorable_payload"]
        assert refused[0].training is not None


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_helper_processes_share_the_chunks_and_stage_each_row_once(
    postgres_url: str,
    legacy_mariadb_url: str,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    method: str,
) -> None:
    """Forked from a process with one thread (the command line), spawned from one with more
    (whether this test process runs other threads depends on the tests before it)."""
    app = make_app(
        postgres_url,
        LEGACY_CONNECTIONS={"legacy": legacy_mariadb_url},
        LEGACY_CHUNK_SIZE="50",
        LEGACY_IMPORT_PROCESSES="3",
    )
    truncate_app_tables(app)
    helpers_log = logging.getLogger("app.legacy_import.helpers")
    helpers_log.disabled = False  # alembic's logging setup, run by the migrations, disables it
    caplog.set_level("INFO", logger=helpers_log.name)

    monkeypatch.setattr(helpers, "other_threads_running", lambda: method == "spawn")

    result = run_cli(app, "legacy", "import", "--json")

    assert result.exit_code == 0, result.stderr
    assert f"2 helper process(es) staging chunks ({method})" in caplog.text
    summary = json.loads(result.stdout)
    counts = legacy_counts(legacy_mariadb_url)
    assert summary["status"] == "ingested"
    assert summary["progress"]["rows_done"] == sum(counts.values())
    for table in ("stagiaires", "archives"):
        with app.app_context():
            ids = db.session.scalars(
                select(LegacyStudentImport.legacy_id).where(LegacyStudentImport.source_table == table)
            ).all()
        assert sorted(ids) == sorted(legacy_rows(legacy_mariadb_url, table))
        assert summary["counters"][f"{table}_staged"] == counts[table]
    students = counts["stagiaires"] + counts["archives"]
    assert staged_count(app, LegacyTrainingImport, summary["run_id"]) == students


def test_each_training_carries_its_formation_name_and_its_session_code_and_dates(
    app: Flask, legacy_mariadb_url: str
) -> None:
    result = run_cli(app, "legacy", "import", "--json")
    assert result.exit_code == 0, result.stderr
    run_id = json.loads(result.stdout)["run_id"]
    formations = legacy_rows(legacy_mariadb_url, "formations")
    sessions = legacy_rows(legacy_mariadb_url, "session_ecoins")
    with app.app_context():
        trainings = db.session.execute(
            select(
                LegacyTrainingImport.legacy_formation_id,
                LegacyTrainingImport.legacy_formation_name,
                LegacyTrainingImport.legacy_session_id,
                LegacyTrainingImport.legacy_session_code,
                LegacyTrainingImport.session_starts_on,
                LegacyTrainingImport.session_ends_on,
            ).where(LegacyTrainingImport.import_run_id == run_id)
        ).all()

    named = dangling = 0
    for training in trainings:
        formation = formations.get(training.legacy_formation_id)
        if formation is None:
            assert training.legacy_formation_name is None
            dangling += 1
        else:
            assert training.legacy_formation_name == clean_name(formation["nom"])[0]
            named += 1
        legacy_session = sessions.get(training.legacy_session_id)
        if legacy_session is None:
            assert (training.legacy_session_code, training.session_starts_on) == (None, None)
        else:
            assert training.legacy_session_code == clean_name(legacy_session["code"])[0]
            assert training.session_starts_on == legacy_session["date_debut"]
            assert training.session_ends_on == legacy_session["date_fin"]
    assert named and dangling  # the demo data holds both kinds


def legacy_copy_with_far_ids(legacy_url: str, tmp_path: Path) -> str:
    """The demo legacy database with two stagiaires moved to ids far beyond the others, and the
    first archive and session at id 0 (an unsigned id like any other)."""
    path = tmp_path / "far_ids.sqlite"
    shutil.copy(legacy_url.removeprefix("sqlite:///"), path)
    conn = sqlite3.connect(path)
    conn.execute("UPDATE stagiaires SET id = 999999999 WHERE id = (SELECT MAX(id) FROM stagiaires)")
    conn.execute("UPDATE stagiaires SET id = 500000000 WHERE id = (SELECT MIN(id) FROM stagiaires)")
    conn.execute("UPDATE archives SET id = 0 WHERE id = (SELECT MIN(id) FROM archives)")
    conn.execute("UPDATE session_ecoins SET id = 0 WHERE id = (SELECT MIN(id) FROM session_ecoins)")
    conn.commit()
    conn.close()
    return f"sqlite:///{path}"


def test_chunks_are_cut_by_rows_so_far_apart_ids_make_no_empty_chunks(
    legacy_sqlite_url: str, tmp_path: Path
) -> None:
    legacy_url = legacy_copy_with_far_ids(legacy_sqlite_url, tmp_path)
    reader = DatabaseLegacySourceReader(legacy_url)
    ids = sorted(legacy_rows(legacy_url, "stagiaires"))
    try:
        bounds = reader.chunk_bounds("stagiaires", 100)
    finally:
        reader.close()

    assert len(bounds) == -(-len(ids) // 100)
    assert bounds[0][0] == ids[0] - 1 and bounds[-1][1] == 999999999
    for (_, up_to_id), (after_id, _) in pairwise(bounds):
        assert up_to_id == after_id  # contiguous: every id falls in exactly one chunk
    for after_id, up_to_id in bounds[:-1]:
        assert sum(after_id < i <= up_to_id for i in ids) == 100


def test_the_runs_last_chunk_is_cut_in_batches(sqlite_app: Flask, legacy_sqlite_url: str) -> None:
    """Processes sharing the chunks then finish within a batch of each other."""
    sqlite_app.config.update(LEGACY_CHUNK_SIZE="100", LEGACY_BATCH_SIZE="30")
    result = run_cli(sqlite_app, "legacy", "import", "--json")
    assert result.exit_code == 0, result.stderr
    with sqlite_app.app_context():
        chunks = db.session.execute(
            select(LegacyImportChunk.source_table, LegacyImportChunk.after_id, LegacyImportChunk.up_to_id)
            .where(LegacyImportChunk.import_run_id == json.loads(result.stdout)["run_id"])
            .order_by(LegacyImportChunk.id)
        ).all()
    ids = {table: sorted(legacy_rows(legacy_sqlite_url, table)) for table in ("stagiaires", "archives")}
    sizes = [(table, sum(after < i <= up_to for i in ids[table])) for table, after, up_to in chunks]

    assert sum(size for _, size in sizes) == len(ids["stagiaires"]) + len(ids["archives"])
    archives = [size for table, size in sizes if table == "archives"]
    tail = len(ids["archives"]) % 100 or 100  # the rows a last chunk of 100 would hold
    pieces = -(-tail // 30)
    assert archives[:-pieces] == [100] * (len(archives) - pieces)
    assert sum(archives[-pieces:]) == tail and max(archives[-pieces:]) <= 30


def test_an_import_of_far_apart_ids_and_an_id_of_0_stages_every_row_once(
    postgres_url: str, legacy_sqlite_url: str, tmp_path: Path
) -> None:
    legacy_url = legacy_copy_with_far_ids(legacy_sqlite_url, tmp_path)
    app = make_app(postgres_url, LEGACY_CONNECTIONS={"legacy": legacy_url}, LEGACY_CHUNK_SIZE="100")
    truncate_app_tables(app)

    result = run_cli(app, "legacy", "import", "--json")

    assert result.exit_code == 0, result.stderr
    run_id = json.loads(result.stdout)["run_id"]
    with app.app_context():
        staged = db.session.scalars(
            select(LegacyStudentImport.legacy_id).where(LegacyStudentImport.source_table == "stagiaires")
        ).all()
        chunks = db.session.execute(
            select(func.count())
            .select_from(LegacyImportChunk)
            .where(LegacyImportChunk.import_run_id == run_id)
        ).scalar_one()
        staged_archives = db.session.scalars(
            select(LegacyStudentImport.legacy_id).where(LegacyStudentImport.source_table == "archives")
        ).all()
        sessions = db.session.scalars(select(LegacySessionMapping.legacy_session_id)).all()
    counts = legacy_counts(legacy_url)
    assert sorted(staged) == sorted(legacy_rows(legacy_url, "stagiaires"))
    assert 0 in staged_archives and sorted(staged_archives) == sorted(legacy_rows(legacy_url, "archives"))
    assert 0 in sessions and len(sessions) == counts["session_ecoins"]
    assert chunks == -(-counts["stagiaires"] // 100) + -(-counts["archives"] // 100)


UNSIGNED_BIGINT_MAX = 2**64 - 1  # what MySQL's BIGINT UNSIGNED holds; PostgreSQL's BIGINT stops at 2**63 - 1


def test_a_reference_beyond_what_the_app_database_holds_is_staged_as_no_reference(postgres_url: str) -> None:
    """A formation or session id of 2**64 - 1 (a -1 that went through an unsigned column): the
    row is staged with its normalized values, the reference read as none, the raw value kept."""
    with mariadb_database() as legacy_url:
        generate_legacy_database(legacy_url, 40)
        engine = create_engine(legacy_url)
        with engine.begin() as conn:
            conn.execute(
                text("UPDATE stagiaires SET formation_id = :big, session_ecoin_id = :big WHERE id = 3"),
                {"big": UNSIGNED_BIGINT_MAX},
            )
        engine.dispose()
        app = make_app(postgres_url, LEGACY_CONNECTIONS={"legacy": legacy_url})
        truncate_app_tables(app)

        result = run_cli(app, "legacy", "import", "--json")

        assert result.exit_code == 0, result.stderr
        assert (
            json.loads(result.stdout)["counters"]["stagiaires_staged"]
            == legacy_counts(legacy_url)["stagiaires"]
        )
    with app.app_context():
        row = db.session.execute(
            select(LegacyStudentImport).filter_by(source_table="stagiaires", legacy_id=3)
        ).scalar_one()
        assert (row.legacy_formation_id, row.legacy_session_id) == (None, None)
        assert row.first_name is not None and row.normalization_issues != ["staging_error"]
        assert row.raw_payload["formation_id"] == UNSIGNED_BIGINT_MAX


def staged_rows_read(app: Flask) -> int:
    """Rows of the staged-rows table read so far, by any scan (the statistics of the backends
    that have exited: the app's connections are closed first)."""
    with app.app_context():
        db.engine.dispose()
        with db.engine.connect() as conn:
            conn.execute(text("SELECT pg_stat_clear_snapshot()"))
            read = conn.execute(
                text(
                    "SELECT seq_tup_read + coalesce(idx_tup_fetch, 0) FROM pg_stat_user_tables"
                    " WHERE relname = 'legacy_student_imports'"
                )
            ).scalar_one()
        db.engine.dispose()
    return int(read)


def test_an_import_reads_back_none_of_the_rows_it_stages(legacy_mariadb_url: str) -> None:
    """A run is in no statistics while it is staged: they hold the rows staged before it (here
    40,000 rows of another run, enough for PostgreSQL to read by index), and a query for the
    batch's rows by the run once read every row of the run staged before them (600 rows in
    batches of 50 read them 3,600 times so). An import reads none back: its trainings are built
    from the rows in hand, its checkpoints are kept on the chunks.

    A database of its own: the other tests' connections report what they read when they like,
    and would count here."""
    with postgres_database() as app_url:
        app = make_app(
            app_url,
            LEGACY_CONNECTIONS={"legacy": legacy_mariadb_url},
            LEGACY_BATCH_SIZE="50",
            LEGACY_CHUNK_SIZE="100",
        )
        migrate(app)
        with app.app_context(), db.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO legacy_student_imports (import_run_id, source_table, legacy_id,"
                    " phone_status, email_status, validation_state, duplicate_confidence, raw_payload,"
                    " created_at) SELECT 999, 'stagiaires', n, 'missing', 'missing', 'valid', 'none',"
                    " '{}', now() FROM generate_series(1, 40000) AS n"
                )
            )
            conn.execute(text("ANALYZE legacy_student_imports"))
        before = staged_rows_read(app)

        result = run_cli(app, "legacy", "import", "--json")

        assert result.exit_code == 0, result.stderr
        counts = legacy_counts(legacy_mariadb_url)
        staged = counts["stagiaires"] + counts["archives"]
        assert staged > 500
        assert staged_rows_read(app) - before <= 50  # a few look-ups


def column_statistics(app: Flask) -> dict[str, list[str]]:
    """The staged-rows table's analyzed columns on PostgreSQL, with their histogram bounds."""
    with app.app_context():
        rows = db.session.execute(
            text(
                "SELECT attname, coalesce(histogram_bounds::text::text[], '{}') FROM pg_stats"
                " WHERE tablename = 'legacy_student_imports'"
            )
        ).all()
        db.session.rollback()
    return {name: list(bounds) for name, bounds in rows}


def test_an_import_and_its_validation_analyze_what_each_wrote(legacy_mariadb_url: str) -> None:
    """The import leaves the planner the run's rows, sampled thinly (a histogram of 10 buckets,
    not 100: a tenth of the pages read); validation, the states it decides and the names the
    search of validated rows matches, with the statistics of the search's expression."""
    with postgres_database() as app_url:
        app = make_app(app_url, LEGACY_CONNECTIONS={"legacy": legacy_mariadb_url})
        migrate(app)
        imported = run_cli(app, "legacy", "import", "--json")
        assert imported.exit_code == 0, imported.stderr

        analyzed = column_statistics(app)
        assert set(ingest.ANALYZED_COLUMNS[STUDENTS]) <= set(analyzed)
        assert not {"name_key", "last_name"} & set(analyzed)
        assert 2 <= len(analyzed["legacy_id"]) <= ingest.ANALYZE_SAMPLE_TARGET + 1

        run_id = json.loads(imported.stdout)["run_id"]
        validated = run_cli(app, "legacy", "validate", f"--run={run_id}", "--json")
        assert validated.exit_code == 0, validated.stderr

        analyzed = column_statistics(app)
        assert {"name_key", "last_name", "duplicate_confidence"} <= set(analyzed)
        assert len(analyzed["name_key"]) > ingest.ANALYZE_SAMPLE_TARGET + 1  # the default target
        with app.app_context():
            expression = db.session.scalar(
                text("SELECT most_common_vals FROM pg_stats_ext_exprs WHERE statistics_name = :name"),
                {"name": "legacy_student_imports_spaced_name_key"},
            )
            db.session.rollback()
            db.engine.dispose()
        assert expression is not None
