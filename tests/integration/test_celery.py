"""Real Redis broker, real Celery worker processes: enqueued runs, progress, crashes, failures."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from sqlalchemy import create_engine, text

from app.legacy_import.demo import generate_legacy_database
from tests.conftest import ROOT_DIR
from tests.support.databases import mariadb_database, postgres_database

pytestmark = pytest.mark.integration

ROWS = 20_000
BIN = Path(sys.executable).parent
REDIS_DB = 11


@pytest.fixture(scope="module")
def legacy_url() -> Iterator[str]:
    with mariadb_database("legacy_celery") as url:
        generate_legacy_database(url, ROWS)
        yield url


@pytest.fixture
def env(legacy_url: str) -> Iterator[dict[str, str]]:
    broker = f"redis://127.0.0.1:6379/{REDIS_DB}"
    redis.Redis.from_url(broker).flushdb()
    with postgres_database("ecoin_celery") as app_url:
        environment = {
            **os.environ,
            "DATABASE_URL": app_url,
            "LEGACY_DATABASE_URL": legacy_url,
            "CELERY_BROKER_URL": broker,
            "LEGACY_BATCH_SIZE": "500",
            "LEGACY_CHUNK_SIZE": "2000",
            "LEGACY_LEASE_SECONDS": "3",
        }
        assert flask(environment, "db", "upgrade").returncode == 0
        yield environment
    redis.Redis.from_url(broker).flushdb()


def flask(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "flask"), *args], cwd=ROOT_DIR, env=env, capture_output=True, text=True, timeout=300
    )


def cli_json(env: dict[str, str], *args: str) -> dict[str, Any]:
    result = flask(env, "legacy", *args, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


class Workers:
    """Celery worker processes started for a test, killed at its end."""

    def __init__(self) -> None:
        self.processes: list[subprocess.Popen[bytes]] = []
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 - closed by the fixture

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")[-3000:]

    def start(self, env: dict[str, str], concurrency: int = 2) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(
            [
                str(BIN / "celery"),
                "-A",
                "workers",
                "worker",
                f"--concurrency={concurrency}",
                "--loglevel=WARNING",
                "-n",
                f"test-{uuid.uuid4().hex[:8]}@%h",
                "--without-gossip",
                "--without-mingle",
            ],
            cwd=ROOT_DIR,
            env=env,
            start_new_session=True,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self.processes.append(process)
        return process

    def kill(self, process: subprocess.Popen[bytes]) -> None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                self.kill(process)


@pytest.fixture
def workers(request: pytest.FixtureRequest) -> Iterator[Workers]:
    started = Workers()
    yield started
    started.stop_all()
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        print("--- celery worker output ---\n" + started.output())
    started.log.close()


def wait_for(
    env: dict[str, str], run_id: int, done: Callable[[dict[str, Any]], bool], timeout: float = 180
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = cli_json(env, "status", f"--run={run_id}")
        seen.append(status)
        if done(status):
            return status, seen
        time.sleep(0.3)
    raise AssertionError(f"run {run_id} never got there: {seen[-1]}")


def staged_counts(env: dict[str, str], run_id: int) -> tuple[int, int]:
    engine = create_engine(env["DATABASE_URL"])
    with engine.connect() as conn:
        counts = conn.execute(
            text(
                "SELECT COUNT(*), COUNT(DISTINCT (source_table, legacy_id)) FROM legacy_student_imports"
                " WHERE import_run_id = :run"
            ),
            {"run": run_id},
        ).one()
    engine.dispose()
    return tuple(counts)  # type: ignore[return-value]


def test_an_enqueued_import_reaches_ingested_and_shows_progress(
    env: dict[str, str], workers: Workers
) -> None:
    workers.start(env)
    started = cli_json(env, "import", "--async")
    assert started["enqueued"] is True
    assert started["status"] == "pending"

    final, seen = wait_for(env, started["run_id"], lambda s: s["status"] == "ingested")

    assert final["counters"]["stagiaires_staged"] + final["counters"]["archives_staged"] == ROWS
    assert staged_counts(env, started["run_id"]) == (ROWS, ROWS)
    midway = [s["progress"]["rows_done"] for s in seen if s["status"] == "ingesting"]
    assert any(0 < done < final["progress"]["rows_total"] for done in midway)


def test_the_phases_run_on_workers(env: dict[str, str], workers: Workers) -> None:
    workers.start(env)
    run_id = cli_json(env, "import", "--async")["run_id"]
    wait_for(env, run_id, lambda s: s["status"] == "ingested")
    for phase, status in (
        ("validate", "validated"),
        ("classify", "classified"),
        ("dry-run", "dry_run_ready"),
        ("commit", "committed"),
        ("rollback", "rolled_back"),
    ):
        assert cli_json(env, phase, f"--run={run_id}", "--async")["enqueued"] is True
        wait_for(env, run_id, lambda s, status=status: s["status"] == status)


def test_a_killed_worker_is_replaced_and_the_run_completes_once(
    env: dict[str, str], workers: Workers
) -> None:
    first = workers.start(env)
    run_id = cli_json(env, "import", "--async")["run_id"]
    wait_for(env, run_id, lambda s: s["progress"]["rows_done"] > 4000 and s["status"] == "ingesting")
    workers.kill(first)
    interrupted = cli_json(env, "status", f"--run={run_id}")
    assert interrupted["status"] == "ingesting"

    workers.start(env)
    cli_json(env, "resume", f"--run={run_id}", "--async")
    final, _ = wait_for(env, run_id, lambda s: s["status"] == "ingested")

    assert staged_counts(env, run_id) == (ROWS, ROWS)
    assert final["counters"]["stagiaires_staged"] + final["counters"]["archives_staged"] == ROWS
    assert final["progress"]["rows_done"] == final["progress"]["rows_total"]


def test_a_failing_task_fails_the_run_and_resume_finishes_it(env: dict[str, str], workers: Workers) -> None:
    broken = workers.start({**env, "LEGACY_COLUMN_MAP": '{"stagiaires": {"columns": {"phone": "tel"}}}'})
    run_id = cli_json(env, "import", "--async")["run_id"]
    failed, _ = wait_for(env, run_id, lambda s: s["status"] == "failed")
    assert failed["failure_reason"] == (
        "start: legacy table 'stagiaires' has no column 'tel' "
        "(field 'phone' of stagiaires; see LEGACY_COLUMN_MAP)"
    )
    workers.kill(broken)

    workers.start(env)
    cli_json(env, "resume", f"--run={run_id}", "--async")
    wait_for(env, run_id, lambda s: s["status"] == "ingested")
    assert staged_counts(env, run_id) == (ROWS, ROWS)


def test_two_runs_at_once_do_not_disturb_each_other(env: dict[str, str], workers: Workers) -> None:
    workers.start(env)
    first = cli_json(env, "import", "--async")["run_id"]
    second = cli_json(env, "import", "--async")["run_id"]
    for run_id in (first, second):
        final, _ = wait_for(env, run_id, lambda s: s["status"] == "ingested")
        assert staged_counts(env, run_id) == (ROWS, ROWS)
        assert final["progress"]["rows_done"] == final["progress"]["rows_total"]
