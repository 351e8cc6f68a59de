"""Celery benchmark: one chunked import run by real workers, 1 and 2 processes, against in process.

For each size: generate the legacy rows once (MariaDB), then, each in a fresh migrated app
database (PostgreSQL), with the same LEGACY_CHUNK_SIZE and LEGACY_BATCH_SIZE:

* in process: `flask legacy import --json` (no broker), timed as in the ingest mode;
* with Celery, for 1 then 2 worker processes: start `celery -A workers worker --concurrency=N`
  in its own process group on a Redis database of its own (flushed before and after), wait for
  it to answer a ping, then time from the start of `flask legacy import --async --json` until the
  run is `ingested`, stop the worker's process group, and check the run's counters with
  `flask legacy status --run=ID --json`. The run's status is polled with a one-row SELECT every
  0.1 s rather than by starting `flask legacy status` (about a CPU-second of start-up each),
  which would compete with the workers for the 2 cores.

Goals (issue): at least 1.6x the rows/s with 2 processes than with 1; one worker within 1.2x of
the in-process import. Figures go to `bench-results/celery.json`.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

import redis
import sqlalchemy as sa
from celery import Celery

from app.legacy_import.models import LegacyImportRun
from benchmarks.ingest import generate, import_run
from benchmarks.support import (
    CLOCK_TICKS,
    RESULTS_DIR,
    ROOT,
    CpuUse,
    app_database,
    app_engine,
    busy_note,
    check_import,
    child_env,
    cpu_snapshot,
    cpu_use,
    flask_legacy,
    generated_at,
    iso_seconds,
    last_json_line,
    legacy_database,
    load_average,
    machine,
    mark,
    migrate_app_database,
    run_measured,
    venv_bin,
    write_json,
)

RESULTS_FILE = RESULTS_DIR / "celery.json"
GOAL_SPEEDUP = 1.6
GOAL_OVERHEAD = 1.2
CONCURRENCIES = (1, 2)
REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
CELERY_KEY_PREFIXES = ("_kombu", "unacked", "legacy_import", "celery")
POLL_SECONDS = 0.1
READY_TIMEOUT = 60.0
INGEST_TIMEOUT = 1800.0
STOP_TIMEOUT = 20.0
STALL_SECONDS = 120.0  # no row staged for this long: the tasks were lost (e.g. the broker flushed)
RUNS = LegacyImportRun.__table__


@dataclass(frozen=True)
class CeleryOptions:
    batch_size: int
    chunk_size: int
    repeats: int
    keep: bool
    redis_db: int

    @property
    def broker_url(self) -> str:
        return f"redis://{REDIS_HOST}:{REDIS_PORT}/{self.redis_db}"


@dataclass(frozen=True)
class WorkerProcess:
    pid: int
    peak_rss_mb: float  # VmHWM
    cpu_seconds: float  # user + system


@dataclass(frozen=True)
class Measurement:
    """One import. Celery: from the start of `flask legacy import --async` to the run seen
    ingested; in process: the command's start to exit. Both include one command's start-up."""

    seconds: float
    core_seconds: float  # the run's started_at..finished_at
    peak_rss_mb: float  # in process: the command's; Celery: the largest worker process's
    cpu: CpuUse
    processes: list[WorkerProcess] = field(default_factory=list)  # the worker's, when stopped

    @property
    def worker_cpu_seconds(self) -> float:
        return sum(p.cpu_seconds for p in self.processes)


@dataclass(frozen=True)
class CeleryResult:
    rows: int
    legacy_rows: int
    batch_size: int
    chunk_size: int
    repeats: int
    load_average: float
    in_process: Measurement  # fastest run
    workers: dict[int, Measurement]  # concurrency -> fastest run

    def rate(self, seconds: float) -> float:
        return self.legacy_rows / seconds

    @property
    def speedup(self) -> float:
        return self.workers[1].seconds / self.workers[2].seconds

    @property
    def overhead(self) -> float:
        return self.workers[1].seconds / self.in_process.seconds

    @property
    def speedup_ok(self) -> bool:
        return self.speedup >= GOAL_SPEEDUP

    @property
    def overhead_ok(self) -> bool:
        return self.overhead <= GOAL_OVERHEAD


# --------------------------------------------------------------------------------------
# Redis, workers
# --------------------------------------------------------------------------------------


@contextmanager
def broker_database(db: int) -> Iterator[None]:
    """A Redis database for the benchmark alone: refused if it holds keys other than Celery's,
    flushed before and after."""
    client = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=db)
    try:
        foreign = [
            key for key in client.scan_iter(count=1000) if not key.decode().startswith(CELERY_KEY_PREFIXES)
        ]
        if foreign:
            raise RuntimeError(f"Redis database {db} holds other keys; choose another with --redis-db")
        client.flushdb()
        yield
    finally:
        client.flushdb()
        client.close()


def worker_argv(concurrency: int) -> list[str]:
    return [
        venv_bin("celery"),
        "-A",
        "workers",
        "worker",
        f"--concurrency={concurrency}",
        "--loglevel=WARNING",
        "-n",
        f"bench-{concurrency}@%h",
        "--without-gossip",
        "--without-mingle",
    ]


@contextmanager
def celery_worker(concurrency: int, env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    """A worker in its own process group (its pid is the group id), stopped with its group."""
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            worker_argv(concurrency),
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            wait_ready(env["CELERY_BROKER_URL"], f"bench-{concurrency}@{socket.gethostname()}", process, log)
            yield process
        finally:
            stop_group(process)


def wait_ready(broker_url: str, name: str, process: subprocess.Popen[bytes], log: IO[bytes]) -> None:
    probe = Celery(broker=broker_url)
    try:
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if process.poll() is not None:
                log.seek(0)
                raise RuntimeError(f"the worker exited {process.returncode}: {log.read().decode()[-2000:]}")
            if probe.control.ping(destination=[name], timeout=0.5):
                refuse_other_workers(probe, name)
                return
        raise RuntimeError(f"the worker {name} did not answer within {READY_TIMEOUT:.0f} s")
    finally:
        probe.close()


def refuse_other_workers(probe: Celery, name: str) -> None:
    """Another worker on the same Redis database would take our tasks (with its own database)."""
    replies = probe.control.ping(timeout=1.0) or []
    others = sorted({worker for reply in replies for worker in reply} - {name})
    if others:
        raise RuntimeError(
            f"other Celery workers use this Redis database ({', '.join(others)}); use --redis-db"
        )


def stop_group(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the worker's process group, SIGKILL if it is still there after STOP_TIMEOUT."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=STOP_TIMEOUT)
            return
        except subprocess.TimeoutExpired:
            continue


def group_processes(pgid: int) -> list[WorkerProcess]:
    """Peak RSS and CPU time of every live process of the group (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) != pgid:
                continue
            status = (entry / "status").read_text()
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile
        cpu = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime
        found.append(WorkerProcess(int(entry.name), _vm_hwm_mb(status), cpu))
    return sorted(found, key=lambda p: p.pid)


def _vm_hwm_mb(status: str) -> float:
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


# --------------------------------------------------------------------------------------
# Measuring
# --------------------------------------------------------------------------------------


@contextmanager
def fresh_app(legacy_url: str, keep: bool) -> Iterator[str]:
    with app_database(keep) as app_url:
        migrate_app_database(app_url, legacy_url)
        yield app_url


def wait_ingested(app_url: str, run_id: int) -> str:
    """Poll the run until it is ingested or failed; fail if it stops making progress."""
    query = sa.select(RUNS.c.status, RUNS.c.rows_done).where(RUNS.c.id == run_id)
    deadline = time.monotonic() + INGEST_TIMEOUT
    last_done, last_change = -1, time.monotonic()
    with app_engine(app_url) as engine:
        while time.monotonic() < deadline:
            with engine.connect() as conn:
                status, rows_done = conn.execute(query).one()
            if status in ("ingested", "failed"):
                return str(status)
            if rows_done != last_done:
                last_done, last_change = rows_done, time.monotonic()
            elif time.monotonic() - last_change > STALL_SECONDS:
                raise RuntimeError(
                    f"run {run_id} stalled at {rows_done} rows for {STALL_SECONDS:.0f} s: its tasks were "
                    "lost (does another client use or flush this Redis database? see --redis-db)"
                )
            time.sleep(POLL_SECONDS)
    raise RuntimeError(f"run {run_id} was not ingested within {INGEST_TIMEOUT:.0f} s")


def time_celery(
    legacy_url: str, counts: dict[str, int], concurrency: int, options: CeleryOptions
) -> Measurement:
    with fresh_app(legacy_url, options.keep) as app_url, broker_database(options.redis_db):
        env = child_env(
            app_url,
            legacy_url,
            options.batch_size,
            LEGACY_CHUNK_SIZE=str(options.chunk_size),
            CELERY_BROKER_URL=options.broker_url,
        )
        with celery_worker(concurrency, env) as worker:
            before = cpu_snapshot()
            enqueued = last_json_line(run_measured(flask_legacy("import", "--async", "--json"), env).stdout)
            wait_ingested(app_url, int(enqueued["run_id"]))
            cpu = cpu_use(before, cpu_snapshot())
            processes = group_processes(worker.pid)
        summary = last_json_line(
            run_measured(flask_legacy("status", f"--run={enqueued['run_id']}", "--json"), env).stdout
        )
    check_import(summary, counts)
    core = iso_seconds(summary["finished_at"]) - iso_seconds(summary["started_at"])
    peak = max((process.peak_rss_mb for process in processes), default=0.0)
    return Measurement(cpu.wall_seconds, core, peak, cpu, processes)


def time_in_process(legacy_url: str, counts: dict[str, int], options: CeleryOptions) -> Measurement:
    with fresh_app(legacy_url, options.keep) as app_url:
        chunk = str(options.chunk_size)
        before = cpu_snapshot()
        # One process, as one worker: the comparison is the worker machinery, not parallelism.
        one_process = {"LEGACY_CHUNK_SIZE": chunk, "LEGACY_IMPORT_PROCESSES": "1"}
        timing, _ = import_run(app_url, legacy_url, options.batch_size, counts, **one_process)
        cpu = cpu_use(before, cpu_snapshot())
    return Measurement(timing.seconds, timing.core_seconds, timing.peak_rss_mb, cpu)


def fastest(measurements: Sequence[Measurement]) -> Measurement:
    return min(measurements, key=lambda m: m.seconds)


def bench_celery_size(rows: int, options: CeleryOptions) -> CeleryResult:
    with legacy_database(options.keep) as legacy_url:
        counts, _ = generate(legacy_url, rows)
        load = load_average()
        in_process: list[Measurement] = []
        celery: dict[int, list[Measurement]] = {n: [] for n in CONCURRENCIES}
        for _ in range(max(1, options.repeats)):
            in_process.append(time_in_process(legacy_url, counts, options))
            for concurrency in CONCURRENCIES:
                celery[concurrency].append(time_celery(legacy_url, counts, concurrency, options))
    return CeleryResult(
        rows,
        sum(counts.values()),
        options.batch_size,
        options.chunk_size,
        len(in_process),
        load,
        fastest(in_process),
        {n: fastest(measurements) for n, measurements in celery.items()},
    )


# --------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------


def format_table(results: Sequence[CeleryResult]) -> str:
    header = (
        f"{'rows':>8} {'legacy':>8} {'chunk':>6} | {'in-proc s':>9} {'rows/s':>7} | "
        f"{'1 worker s':>10} {'rows/s':>7} | {'2 workers s':>11} {'rows/s':>7} | "
        f"{'speed-up':>8} {'goal':>4} | {'1w/in-proc':>10} {'goal':>4}"
    )
    lines = [header, "-" * len(header)]
    for r in results:
        one, two = r.workers[1], r.workers[2]
        lines.append(
            f"{r.rows:>8,} {r.legacy_rows:>8,} {r.chunk_size:>6,} | {r.in_process.seconds:>9.2f} "
            f"{r.rate(r.in_process.seconds):>7,.0f} | {one.seconds:>10.2f} {r.rate(one.seconds):>7,.0f} | "
            f"{two.seconds:>11.2f} {r.rate(two.seconds):>7,.0f} | {r.speedup:>7.2f}x "
            f"{mark(r.speedup_ok):>4} | {r.overhead:>9.2f}x {mark(r.overhead_ok):>4}"
        )
    return "\n".join(lines)


def format_cpu(results: Sequence[CeleryResult]) -> str:
    """Where the CPU went: the machine is 2 cores; the database servers share them."""
    header = (
        f"{'rows':>8} {'run':>11} | {'wall s':>6} {'run s':>6} | {'machine busy':>12} | "
        f"{'worker CPU s':>12} {'postgres s':>10} {'mariadb s':>9} | {'peak MB':>7} | "
        "worker processes MB/CPU s"
    )
    lines = [
        "CPU during each measurement (machine: every process, other agents' too; postgres: all sessions)",
        header,
        "-" * len(header),
    ]
    for r in results:
        for label, m in (
            ("in process", r.in_process),
            *((f"{n} worker(s)", t) for n, t in r.workers.items()),
        ):
            procs = ", ".join(f"{p.peak_rss_mb:.0f}/{p.cpu_seconds:.1f}" for p in m.processes) or "-"
            worker_cpu = f"{m.worker_cpu_seconds:>12.1f}" if m.processes else f"{'-':>12}"
            lines.append(
                f"{r.rows:>8,} {label:>11} | {m.seconds:>6.2f} {m.core_seconds:>6.2f} | "
                f"{m.cpu.machine_busy_share:>11.0%}  | {worker_cpu} {m.cpu.postgres_seconds:>10.1f} "
                f"{m.cpu.mariadb_seconds:>9.1f} | {m.peak_rss_mb:>7.1f} | {procs}"
            )
    return "\n".join(lines)


def format_verdicts(results: Sequence[CeleryResult]) -> str:
    speedup_ok, overhead_ok = all(r.speedup_ok for r in results), all(r.overhead_ok for r in results)
    lines = [
        f"2 processes >= {GOAL_SPEEDUP}x the rows/s of 1: {mark(speedup_ok)}",
        f"1 worker <= {GOAL_OVERHEAD}x the in-process import time: {mark(overhead_ok)}",
        "(times: from the start of the enqueuing command to the run seen ingested, start-up included; "
        "the in-process import likewise from its start to its exit)",
    ]
    note = busy_note({r.rows: r.load_average for r in results})
    if note:
        lines.append(note)
    return "\n".join(lines)


def format_report(results: Sequence[CeleryResult]) -> str:
    return "\n\n".join(part(results) for part in (format_table, format_cpu, format_verdicts))


def passed(results: Sequence[CeleryResult]) -> bool:
    return all(r.speedup_ok and r.overhead_ok for r in results)


def write_results(results: Sequence[CeleryResult]) -> None:
    document: dict[str, Any] = {
        "generated_at": generated_at(),
        "machine": machine(),
        "goals": {"speedup_min": GOAL_SPEEDUP, "one_worker_over_in_process_max": GOAL_OVERHEAD},
        "sizes": [
            {
                **asdict(r),
                "cpu_busy_share": {
                    "in_process": r.in_process.cpu.machine_busy_share,
                    **{f"{n}_workers": t.cpu.machine_busy_share for n, t in r.workers.items()},
                },
                "speedup": r.speedup,
                "overhead": r.overhead,
                "rows_per_s": {
                    "in_process": r.rate(r.in_process.seconds),
                    **{f"{n}_workers": r.rate(t.seconds) for n, t in r.workers.items()},
                },
                "speedup_ok": r.speedup_ok,
                "overhead_ok": r.overhead_ok,
            }
            for r in results
        ],
        "passed": passed(results),
    }
    write_json(RESULTS_FILE, document)
