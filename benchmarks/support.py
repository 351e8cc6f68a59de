"""What every benchmark mode shares: throw-away databases, measured child processes, verdicts."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pymysql
import sqlalchemy as sa

from tests.support.databases import (
    MARIADB_HOST,
    PG_HOST,
    mariadb_database,
    postgres_database,
    unique_name,
)

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "bench-results"
PEAK_RSS = Path(__file__).resolve().with_name("peak_rss.py")
BUSY_LOAD = 0.5  # 1-minute load average above which other work is competing for the CPUs
LEGACY_SEED = 7  # the legacy generator's seed (its default), shared with the existing people

# The import's run counter for each legacy table.
STAGED_COUNTER = {
    "formations": "formations_staged",
    "session_ecoins": "sessions_staged",
    "stagiaires": "stagiaires_staged",
    "archives": "archives_staged",
}


# --------------------------------------------------------------------------------------
# Throw-away databases
# --------------------------------------------------------------------------------------


@contextmanager
def benchmark_databases(keep: bool) -> Iterator[tuple[str, str]]:
    """(legacy MariaDB URL, app PostgreSQL URL), dropped afterwards unless `keep`."""
    with legacy_database(keep) as legacy_url, app_database(keep) as app_url:
        yield legacy_url, app_url


@contextmanager
def legacy_database(keep: bool) -> Iterator[str]:
    with _database(keep, _kept_mariadb, lambda: mariadb_database("legacy_bench")) as url:
        yield url


@contextmanager
def app_database(keep: bool) -> Iterator[str]:
    with _database(keep, _kept_postgres, lambda: postgres_database("ecoin_bench")) as url:
        yield url


@contextmanager
def _database(
    keep: bool, create_kept: Callable[[], str], throwaway: Callable[[], AbstractContextManager[str]]
) -> Iterator[str]:
    """A kept database (its URL on stderr) or a throw-away one, dropped afterwards."""
    if keep:
        url = create_kept()
        print(f"  keeping {url}", file=sys.stderr)
        yield url
        return
    with throwaway() as url:
        yield url


def _kept_mariadb() -> str:
    name = unique_name("legacy_bench")
    conn = pymysql.connect(host=MARIADB_HOST, user="root", password="")
    try:
        with conn.cursor() as cursor:
            cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
    finally:
        conn.close()
    return f"mysql+pymysql://root@{MARIADB_HOST}:3306/{name}?charset=utf8mb4"


def _kept_postgres() -> str:
    name = unique_name("ecoin_bench")
    with psycopg.connect(host=PG_HOST, user="postgres", dbname="postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"postgresql+psycopg://postgres@{PG_HOST}:5432/{name}"


def migrate_app_database(app_url: str, legacy_url: str) -> None:
    from flask_migrate import upgrade

    from app import create_app
    from app.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": app_url, "LEGACY_CONNECTIONS": {"legacy": legacy_url}})
    with app.app_context():
        upgrade()
        db.engine.dispose()


@contextmanager
def app_engine(app_url: str) -> Iterator[sa.Engine]:
    engine = sa.create_engine(app_url)
    try:
        yield engine
    finally:
        engine.dispose()


def checkpoint(app_url: str) -> None:
    """Write out what earlier runs left in the app database's buffers and WAL, so that a timed
    run pays for its own writes only. Without it, the WAL of the runs before one (300 MB an
    import of 100k rows) set off a checkpoint in the middle of it: every index page it touched
    next went to the WAL whole, and the same run of each set of three was the slow one."""
    with app_engine(app_url) as engine, engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("CHECKPOINT")


# --------------------------------------------------------------------------------------
# Child processes, measured
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Measured:
    seconds: float  # wall clock, process start to exit
    peak_rss_mb: float  # the child's own ru_maxrss
    stdout: str


def run_measured(argv: Sequence[str], env: dict[str, str]) -> Measured:
    """Run `argv` through the small `peak_rss.py` trampoline (see there why: a child spawned from
    this process would report this process's size as its own peak); fail on non-zero exit."""
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.NamedTemporaryFile(prefix="peak_rss_") as rss,
    ):
        trampoline = [sys.executable, "-S", str(PEAK_RSS), rss.name, *argv]
        started = time.perf_counter()
        returncode = subprocess.Popen(trampoline, cwd=ROOT, env=env, stdout=out, stderr=err).wait()
        seconds = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
        peak_kib = int(Path(rss.name).read_text() or 0)
    if returncode != 0:
        raise RuntimeError(f"{' '.join(argv[:3])} exited {returncode}: {stderr.strip()[-2000:]}")
    return Measured(seconds, peak_kib / 1024, stdout)  # Linux: ru_maxrss is in KiB


def child_env(app_url: str, legacy_url: str, batch_size: int, **extra: str) -> dict[str, str]:
    """The environment of a child: no inherited LEGACY_* or broker (work runs in process unless
    `extra` names a CELERY_BROKER_URL)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LEGACY_", "CELERY_"))}
    env.update(
        DATABASE_URL=app_url,
        LEGACY_DATABASE_URL=legacy_url,
        LEGACY_BATCH_SIZE=str(batch_size),
        FLASK_APP="wsgi",
        PYTHONUNBUFFERED="1",
        **extra,
    )
    return env


def last_json_line(stdout: str) -> dict[str, Any]:
    lines = [line for line in stdout.splitlines() if line.strip()]
    if not lines:
        raise RuntimeError("the child printed nothing on stdout")
    value: dict[str, Any] = json.loads(lines[-1])
    return value


def venv_bin(name: str) -> str:
    candidate = Path(sys.executable).with_name(name)
    return str(candidate if candidate.exists() else ROOT / ".venv" / "bin" / name)


def flask_legacy(*args: str) -> list[str]:
    return [venv_bin("flask"), "legacy", *args]


def check_import(summary: dict[str, Any], counts: dict[str, int]) -> None:
    """The run is ingested and staged every legacy row (counters only: no row data)."""
    if summary["status"] != "ingested":
        raise RuntimeError(f"import ended {summary['status']}: {summary.get('failure_reason')}")
    staged = {table: summary["counters"][counter] for table, counter in STAGED_COUNTER.items()}
    if staged != counts or summary["progress"]["rows_done"] != sum(counts.values()):
        raise RuntimeError(f"import staged {staged}, legacy has {counts}")


def iso_seconds(value: str) -> float:
    return dt.datetime.fromisoformat(value).timestamp()


def step_seconds(step_log: Sequence[dict[str, Any]] | None) -> dict[str, float]:
    """Each step's duration from a run's step_log (the last time it ran)."""
    return {
        entry["step"]: iso_seconds(entry["finished_at"]) - iso_seconds(entry["started_at"])
        for entry in step_log or []
        if entry.get("finished_at")
    }


# --------------------------------------------------------------------------------------
# Report helpers
# --------------------------------------------------------------------------------------


def mark(ok: bool | None) -> str:
    return "-" if ok is None else ("PASS" if ok else "MISS")


def load_average() -> float:
    return os.getloadavg()[0]


def busy_note(loads: dict[int, float]) -> str | None:
    """A line warning that other work competed for the CPUs, or None."""
    busy = {rows: load for rows, load in loads.items() if load > BUSY_LOAD}
    if not busy:
        return None
    return (
        "note: the machine was busy before some runs (1-min load "
        + ", ".join(f"{load:.1f} at {rows:,}" for rows, load in busy.items())
        + f" on {os.cpu_count()} CPUs): times are pessimistic; --repeat N keeps the best of N"
    )


def machine() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "sqlalchemy": sa.__version__,
        "psycopg": psycopg.__version__,
        "pymysql": pymysql.__version__,
    }


def generated_at() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def write_json(path: Path, document: dict[str, Any]) -> None:
    RESULTS_DIR.mkdir(exist_ok=True)
    path.write_text(json.dumps(document, indent=2, default=str) + "\n", encoding="utf-8")


def relative(path: Path) -> str:
    return str(path.relative_to(ROOT))


# --------------------------------------------------------------------------------------
# CPU accounting (Linux /proc): who used the 2 cores during a measurement
# --------------------------------------------------------------------------------------

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
SERVERS = {"postgres": "postgres", "mariadbd": "mariadb", "mysqld": "mariadb"}


@dataclass(frozen=True)
class CpuUse:
    """CPU seconds used during a measurement: the whole machine (every process, other agents'
    too) and the two database servers (PostgreSQL with its exited backends)."""

    wall_seconds: float
    machine_busy_seconds: float
    postgres_seconds: float
    mariadb_seconds: float

    @property
    def machine_busy_share(self) -> float:
        """Share of the machine's CPU capacity that was busy (1.0: every core all the time)."""
        return self.machine_busy_seconds / (self.wall_seconds * (os.cpu_count() or 1))


def cpu_snapshot() -> dict[str, float]:
    snapshot = {"wall": time.perf_counter(), "busy": _machine_busy_seconds(), "postgres": 0.0, "mariadb": 0.0}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            text = (entry / "stat").read_text()
        except OSError:
            continue  # gone meanwhile
        comm = text[text.find("(") + 1 : text.rfind(")")]
        if comm in SERVERS:
            fields = text.rsplit(")", 1)[1].split()
            ticks = sum(int(value) for value in fields[11:15])  # utime stime cutime cstime
            snapshot[SERVERS[comm]] += ticks / CLOCK_TICKS
    return snapshot


def _machine_busy_seconds() -> float:
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return (sum(values[:8]) - idle) / CLOCK_TICKS


def cpu_use(before: dict[str, float], after: dict[str, float]) -> CpuUse:
    return CpuUse(
        after["wall"] - before["wall"],
        after["busy"] - before["busy"],
        after["postgres"] - before["postgres"],
        after["mariadb"] - before["mariadb"],
    )
