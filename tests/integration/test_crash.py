"""A real `flask legacy import` killed mid-run (the command and its helper processes), then
resumed from the command line."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from app.legacy_import.demo import generate_legacy_database, legacy_fingerprint
from tests.conftest import ROOT_DIR
from tests.support.databases import mariadb_database, postgres_database

pytestmark = pytest.mark.integration

ROWS = 20_000
FLASK = str(Path(sys.executable).with_name("flask"))


@pytest.fixture(scope="module")
def big_legacy_url() -> Iterator[str]:
    with mariadb_database("legacy_crash") as url:
        generate_legacy_database(url, ROWS)
        yield url


def flask(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([FLASK, *args], cwd=ROOT_DIR, env=env, capture_output=True, text=True, timeout=300)


def status(env: dict[str, str], run_id: int) -> dict[str, object]:
    return json.loads(flask(env, "legacy", "status", f"--run={run_id}", "--json").stdout)


def wait_for_rows(engine: Engine, rows: int) -> None:
    deadline = time.monotonic() + 120
    query = text("SELECT COALESCE(MAX(rows_done), 0) FROM legacy_import_runs")
    done = 0
    while done < rows and time.monotonic() < deadline:
        time.sleep(0.02)
        with engine.connect() as conn:
            done = conn.execute(query).scalar_one()


def test_a_killed_import_resumes_with_each_row_staged_once(big_legacy_url: str) -> None:
    with postgres_database("ecoin_crash") as app_url:
        env = {
            **os.environ,
            "DATABASE_URL": app_url,
            "LEGACY_DATABASE_URL": big_legacy_url,
            "LEGACY_BATCH_SIZE": "500",
            "LEGACY_LEASE_SECONDS": "3",
        }
        assert flask(env, "db", "upgrade").returncode == 0
        before = legacy_fingerprint(big_legacy_url)

        importer = subprocess.Popen(
            [FLASK, "legacy", "import", "--json"],
            cwd=ROOT_DIR,
            env={**env, "LEGACY_IMPORT_PROCESSES": "2"},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: the helpers are killed with it
        )
        engine = create_engine(app_url)
        wait_for_rows(engine, 1000)
        os.killpg(importer.pid, signal.SIGKILL)
        importer.wait()

        killed = status(env, 1)
        assert killed["status"] == "ingesting"
        assert 0 < killed["progress"]["rows_done"] < killed["progress"]["rows_total"]  # type: ignore[index]

        resumed = flask(env, "legacy", "resume", "--run=1", "--json")
        assert resumed.returncode == 0, resumed.stderr
        summary = json.loads(resumed.stdout)
        assert summary["status"] == "ingested"
        assert summary["progress"]["rows_done"] == summary["progress"]["rows_total"]

        with engine.connect() as conn:
            staged = conn.execute(
                text("SELECT COUNT(*), COUNT(DISTINCT (source_table, legacy_id)) FROM legacy_student_imports")
            ).one()
            trainings = conn.execute(text("SELECT COUNT(*) FROM legacy_training_imports")).scalar_one()
        engine.dispose()
        assert staged == (ROWS, ROWS)
        assert trainings == ROWS
        assert legacy_fingerprint(big_legacy_url) == before
