"""Pipeline benchmark: import + validate + classify + dry-run against a bare copy of the same rows.

For each size: generate the legacy rows (MariaDB), migrate the app database (PostgreSQL), insert
as many existing people as legacy rows (half `users`, half `crm_leads`, see `people.py`; or
`--existing N`), then time, each command in its own child process (wall clock, peak RSS from
`os.wait4`):

* `flask legacy import --json`, then `flask legacy validate|classify|dry-run --run=ID --json`;
* the bare copy of `benchmarks.ingest` (same reader, same `insert_rows` write path).

The import's figures are also the ingest mode's (`ingest.SizeResult`), measured in the same run.
Each step's own duration comes from the run's `step_log`; the hint step (`duplicate_hints`) is
compared between the smallest and the largest size to see how it scales.

Goals (issue): whole pipeline (import + validate + classify + dry-run) at most 2.5x the bare
copy; the hint step growing roughly linearly with the rows (time ~ rows**k, k <= 1.3 here:
linear is k = 1, quadratic k = 2). Figures go to `bench-results/pipeline.json`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import sqlalchemy as sa

from app.legacy_import.models import LegacyDuplicateHint, LegacyImportRun
from benchmarks.ingest import (
    SizeResult,
    Timing,
    best_of,
    generate,
    import_run,
    time_bare_copy,
)
from benchmarks.people import insert_existing_people
from benchmarks.support import (
    RESULTS_DIR,
    app_engine,
    benchmark_databases,
    busy_note,
    child_env,
    flask_legacy,
    generated_at,
    last_json_line,
    load_average,
    machine,
    mark,
    migrate_app_database,
    run_measured,
    step_seconds,
    write_json,
)

RESULTS_FILE = RESULTS_DIR / "pipeline.json"
GOAL_PIPELINE_RATIO = 2.5
MAX_SCALING_EXPONENT = 1.3  # time ~ rows**k; linear 1, n log n ~1.1, quadratic 2
PHASES = ("validate", "classify", "dry-run")
PHASE_STATUS = {"validate": "validated", "classify": "classified"}
HINT_STEP = "duplicate_hints"
STEPS = (
    "formations",
    "session_ecoins",
    "students",
    "session_types",
    HINT_STEP,
    "validation",
    "classification",
    "dry_run",
)
RUNS = LegacyImportRun.__table__
HINTS = LegacyDuplicateHint.__table__


@dataclass(frozen=True)
class PhaseTiming:
    seconds: float  # child process wall clock
    peak_rss_mb: float


@dataclass(frozen=True)
class PipelinePass:
    """One import of the rows and its three phases, with the bare copy beside it."""

    run_id: int
    imported: Timing
    bare: Timing
    phases: dict[str, PhaseTiming]
    steps: dict[str, float]  # step -> seconds, from the run's step_log
    hints: dict[str, int]  # hint reason -> count (no row data)


@dataclass(frozen=True)
class PipelineResult:
    ingest: SizeResult  # the import and the bare copy (best of the repeats)
    existing: dict[str, int]
    phases: dict[str, PhaseTiming]  # best of the repeats
    steps: dict[str, float]  # best of the repeats
    hints: dict[str, int]
    core_pipeline_seconds: float  # sum of the step_log durations (no process start-up)

    @property
    def rows(self) -> int:
        return self.ingest.rows

    @property
    def checks_seconds(self) -> float:
        """validate + classify + dry-run."""
        return sum(timing.seconds for timing in self.phases.values())

    @property
    def pipeline_seconds(self) -> float:
        return self.ingest.imported.seconds + self.checks_seconds

    @property
    def ratio(self) -> float:
        return self.pipeline_seconds / self.ingest.bare.seconds

    @property
    def core_ratio(self) -> float:
        return self.core_pipeline_seconds / self.ingest.bare.core_seconds

    @property
    def peak_rss_mb(self) -> float:
        return max(self.ingest.imported.peak_rss_mb, *(t.peak_rss_mb for t in self.phases.values()))

    @property
    def hint_seconds(self) -> float:
        return self.steps.get(HINT_STEP, math.nan)


# --------------------------------------------------------------------------------------
# Measuring
# --------------------------------------------------------------------------------------


def time_phase(env: dict[str, str], run_id: int, name: str, students: int) -> PhaseTiming:
    measured = run_measured(flask_legacy(name, f"--run={run_id}", "--json"), env)
    check_phase(name, last_json_line(measured.stdout), students)
    return PhaseTiming(measured.seconds, measured.peak_rss_mb)


def check_phase(name: str, output: dict[str, Any], students: int) -> None:
    """The phase ended as it should: validated/classified, or a report over every staged row."""
    if name in PHASE_STATUS and output.get("status") != PHASE_STATUS[name]:
        raise RuntimeError(f"{name} ended {output.get('status')}: {output.get('failure_reason')}")
    if name == "dry-run" and output.get("rows") != students:
        raise RuntimeError(f"the dry run reported {output.get('rows')} rows, {students} were staged")


def run_facts(app_url: str, run_id: int) -> tuple[dict[str, float], dict[str, int]]:
    """The run's step durations and its hint counts by reason."""
    with app_engine(app_url) as engine, engine.connect() as conn:
        step_log = conn.execute(sa.select(RUNS.c.step_log).where(RUNS.c.id == run_id)).scalar_one()
        hints = conn.execute(
            sa.select(HINTS.c.reason, sa.func.count())
            .where(HINTS.c.import_run_id == run_id)
            .group_by(HINTS.c.reason)
            .order_by(HINTS.c.reason)
        ).all()
    return step_seconds(step_log), {str(reason): int(count) for reason, count in hints}


def one_pass(app_url: str, legacy_url: str, batch_size: int, counts: dict[str, int]) -> PipelinePass:
    imported, run_id = import_run(app_url, legacy_url, batch_size, counts)
    env = child_env(app_url, legacy_url, batch_size)
    students = counts["stagiaires"] + counts["archives"]
    phases = {name: time_phase(env, run_id, name, students) for name in PHASES}
    bare = time_bare_copy(app_url, legacy_url, batch_size, counts)
    steps, hints = run_facts(app_url, run_id)
    return PipelinePass(run_id, imported, bare, phases, steps, hints)


def best_pass(passes: Sequence[PipelinePass]) -> tuple[dict[str, PhaseTiming], dict[str, float]]:
    """Each phase's and each step's fastest time over the repeats (phases: highest peak seen)."""
    phases = {
        name: PhaseTiming(
            min(p.phases[name].seconds for p in passes), max(p.phases[name].peak_rss_mb for p in passes)
        )
        for name in PHASES
    }
    steps = {name: min(p.steps[name] for p in passes) for name in passes[0].steps}
    return phases, steps


@dataclass(frozen=True)
class SizeOptions:
    batch_size: int
    repeats: int
    keep: bool
    existing: int  # existing people; 0: as many as legacy student rows
    profile: bool  # profile an in-process validate of the last run (see validate_profile.py)


def bench_pipeline_size(rows: int, options: SizeOptions) -> tuple[PipelineResult, dict[str, Any] | None]:
    with benchmark_databases(options.keep) as (legacy_url, app_url):
        counts, generated = generate(legacy_url, rows)
        migrate_app_database(app_url, legacy_url)
        existing = insert_existing_people(app_url, options.existing or rows, counts["stagiaires"])
        load = load_average()
        passes = [
            one_pass(app_url, legacy_url, options.batch_size, counts) for _ in range(max(1, options.repeats))
        ]
        profile = None
        if options.profile:
            from benchmarks.validate_profile import profile_validate

            profile = profile_validate(app_url, legacy_url, options.batch_size, passes[-1].run_id)
    ingest = SizeResult(
        rows,
        sum(counts.values()),
        options.batch_size,
        len(passes),
        generated,
        load,
        best_of([p.imported for p in passes]),
        best_of([p.bare for p in passes]),
    )
    phases, steps = best_pass(passes)
    core = sum(steps.values())
    return PipelineResult(ingest, existing, phases, steps, passes[-1].hints, core), profile


# --------------------------------------------------------------------------------------
# Verdicts and report
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scaling:
    small: int
    large: int
    small_seconds: float
    large_seconds: float

    @property
    def size_ratio(self) -> float:
        return self.large / self.small

    @property
    def ratio(self) -> float:
        return self.large_seconds / self.small_seconds

    @property
    def exponent(self) -> float:
        return math.log(self.ratio) / math.log(self.size_ratio)

    @property
    def ok(self) -> bool:
        return self.exponent <= MAX_SCALING_EXPONENT


def hint_scaling(results: Sequence[PipelineResult]) -> Scaling | None:
    if len(results) < 2:
        return None
    small, large = min(results, key=lambda r: r.rows), max(results, key=lambda r: r.rows)
    return Scaling(small.rows, large.rows, small.hint_seconds, large.hint_seconds)


def pipeline_ok(result: PipelineResult) -> bool:
    return result.ratio <= GOAL_PIPELINE_RATIO


def format_times(results: Sequence[PipelineResult]) -> str:
    header = (
        f"{'rows':>8} {'existing':>8} | {'import':>7} {'valid.':>7} {'class.':>7} {'dry-run':>7} "
        f"{'v+c+d':>7} {'whole':>7} | {'bare':>6} | {'ratio':>5} {'goal':>4} {'core':>5}"
    )
    lines = ["seconds (wall clock of each command, start-up included)", header, "-" * len(header)]
    for r in results:
        p = r.phases
        lines.append(
            f"{r.rows:>8,} {sum(r.existing.values()):>8,} | {r.ingest.imported.seconds:>7.2f} "
            f"{p['validate'].seconds:>7.2f} {p['classify'].seconds:>7.2f} {p['dry-run'].seconds:>7.2f} "
            f"{r.checks_seconds:>7.2f} {r.pipeline_seconds:>7.2f} | {r.ingest.bare.seconds:>6.2f} | "
            f"{r.ratio:>5.2f} {mark(pipeline_ok(r)):>4} {r.core_ratio:>5.2f}"
        )
    return "\n".join(lines)


def format_memory(results: Sequence[PipelineResult]) -> str:
    header = f"{'rows':>8} | {'import':>7} {'valid.':>7} {'class.':>7} {'dry-run':>7} | {'bare':>7}"
    lines = ["peak RSS, MB (each command)", header, "-" * len(header)]
    for r in results:
        p = r.phases
        lines.append(
            f"{r.rows:>8,} | {r.ingest.imported.peak_rss_mb:>7.1f} {p['validate'].peak_rss_mb:>7.1f} "
            f"{p['classify'].peak_rss_mb:>7.1f} {p['dry-run'].peak_rss_mb:>7.1f} | "
            f"{r.ingest.bare.peak_rss_mb:>7.1f}"
        )
    return "\n".join(lines)


def format_steps(results: Sequence[PipelineResult]) -> str:
    header = f"{'rows':>8} | " + " ".join(f"{step[:14]:>14}" for step in STEPS)
    lines = ["steps, seconds (from the run's step_log)", header, "-" * len(header)]
    for r in results:
        cells = " ".join(f"{r.steps.get(step, math.nan):>14.2f}" for step in STEPS)
        lines.append(f"{r.rows:>8,} | {cells}")
    return "\n".join(lines)


def step_scaling(results: Sequence[PipelineResult]) -> dict[str, Scaling]:
    """Every step's growth from the smallest to the largest size."""
    if len(results) < 2:
        return {}
    small, large = min(results, key=lambda r: r.rows), max(results, key=lambda r: r.rows)
    return {
        step: Scaling(small.rows, large.rows, small.steps[step], large.steps[step])
        for step in STEPS
        if small.steps.get(step, 0) > 0 and step in large.steps
    }


def format_scaling(results: Sequence[PipelineResult]) -> str:
    scalings = step_scaling(results)
    if not scalings:
        return "step scaling: - (needs two sizes)"
    first = next(iter(scalings.values()))
    header = f"{'step':<16} {first.small:>9,} {first.large:>9,} {'ratio':>7} {'exponent':>8}"
    lines = [f"steps from {first.small:,} to {first.large:,} rows (time ~ rows**exponent)", header]
    for step, scaling in scalings.items():
        lines.append(
            f"{step:<16} {scaling.small_seconds:>8.2f}s {scaling.large_seconds:>8.2f}s "
            f"{scaling.ratio:>6.1f}x {scaling.exponent:>8.2f}"
        )
    small, large = min(results, key=lambda r: r.rows), max(results, key=lambda r: r.rows)
    hints_small, hints_large = sum(small.hints.values()), sum(large.hints.values())
    if hints_small:
        lines.append(f"(hints written: {hints_small:,} -> {hints_large:,}, x{hints_large / hints_small:.1f})")
    return "\n".join(lines)


def format_hints(results: Sequence[PipelineResult]) -> str:
    lines = ["duplicate hints by reason (counts)"]
    for r in results:
        counts = ", ".join(f"{reason} {count:,}" for reason, count in r.hints.items()) or "none"
        lines.append(f"{r.rows:>8,}: {counts}")
    return "\n".join(lines)


def format_verdicts(results: Sequence[PipelineResult]) -> str:
    lines = [
        f"whole pipeline / bare copy <= {GOAL_PIPELINE_RATIO} at every size: "
        f"{mark(all(pipeline_ok(r) for r in results))}"
        "   ('core' = sum of the step_log durations / copy loop alone, without start-up)"
    ]
    scaling = hint_scaling(results)
    if scaling is None:
        lines.append("hint step scaling: - (needs two sizes)")
    else:
        lines.append(
            f"hint step {scaling.small:,} -> {scaling.large:,} rows: {scaling.small_seconds:.2f} s -> "
            f"{scaling.large_seconds:.2f} s, x{scaling.ratio:.1f} (linear ~ {scaling.size_ratio:.0f}, "
            f"quadratic ~ {scaling.size_ratio**2:.0f}); exponent {scaling.exponent:.2f} <= "
            f"{MAX_SCALING_EXPONENT}: {mark(scaling.ok)}"
        )
    note = busy_note({r.rows: r.ingest.load_average for r in results})
    if note:
        lines.append(note)
    return "\n".join(lines)


def format_report(results: Sequence[PipelineResult]) -> str:
    parts = (format_times, format_memory, format_steps, format_scaling, format_hints, format_verdicts)
    return "\n\n".join(part(results) for part in parts)


def results_document(results: Sequence[PipelineResult], profile: dict[str, Any] | None) -> dict[str, Any]:
    scaling = hint_scaling(results)
    return {
        "generated_at": generated_at(),
        "machine": machine(),
        "goals": {
            "pipeline_ratio_max": GOAL_PIPELINE_RATIO,
            "hint_scaling_exponent_max": MAX_SCALING_EXPONENT,
        },
        "sizes": [
            {
                **asdict(r),
                "checks_seconds": r.checks_seconds,
                "pipeline_seconds": r.pipeline_seconds,
                "ratio": r.ratio,
                "core_ratio": r.core_ratio,
                "peak_rss_mb": r.peak_rss_mb,
                "ratio_ok": pipeline_ok(r),
            }
            for r in results
        ],
        "hint_scaling": None
        if scaling is None
        else {**asdict(scaling), "ratio": scaling.ratio, "exponent": scaling.exponent, "ok": scaling.ok},
        "step_scaling": {
            step: {**asdict(s), "ratio": s.ratio, "exponent": s.exponent}
            for step, s in step_scaling(results).items()
        },
        "passed": passed(results),
        "validate_profile": profile,
    }


def passed(results: Sequence[PipelineResult]) -> bool:
    scaling = hint_scaling(results)
    return all(pipeline_ok(r) for r in results) and (scaling is None or scaling.ok)


def write_results(results: Sequence[PipelineResult], profile: dict[str, Any] | None) -> None:
    write_json(RESULTS_FILE, results_document(results, profile))
