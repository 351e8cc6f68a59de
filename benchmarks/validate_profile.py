"""Profile of one in-process `validate` of a run (cProfile), split into the hint step and the row pass.

The pipeline benchmark calls it on its last run of the largest size, once the dry run is done
(a dry-run-ready run may be validated again: the hints are deleted and rebuilt, the rows
re-validated). It validates twice: once plain, for the unprofiled step durations (step_log),
once under cProfile. The stats go to `bench-results/validate.prof`.
"""

from __future__ import annotations

import cProfile
import pstats
import time
from collections.abc import Callable
from typing import Any

from benchmarks.ingest import cumulative, profile_report, profiled_prefetch_thread, self_time, top_self_time
from benchmarks.support import RESULTS_DIR, relative, step_seconds

PROFILE_FILE = RESULTS_DIR / "validate.prof"

VALIDATE = "legacy_import/validate.py"
DUPLICATES = "legacy_import/rules/duplicates.py"
# label -> (file suffix, function); cumulative times. Indented labels are parts of the one above.
POINTS: dict[str, tuple[str, str]] = {
    "validate phase (run_phase)": ("legacy_import/phases.py", "run_phase"),
    "session types (type_sessions)": (VALIDATE, "type_sessions"),
    "HINT STEP (hint_duplicates)": (VALIDATE, "hint_duplicates"),
    "  load staged people (staged_people)": (VALIDATE, "staged_people"),
    "  existing phones/e-mails, indexed IN lookups (existing_by)": (VALIDATE, "existing_by"),
    "  load existing people + name_key (existing_people)": (VALIDATE, "existing_people"),
    "  shared contacts": (DUPLICATES, "shared_contacts"),
    "  hints from existing contacts": (DUPLICATES, "existing_contact_hints"),
    "  in-run groups (4 keys)": (DUPLICATES, "in_run_group_hints"),
    "  similar names (similar_name_hints)": (DUPLICATES, "similar_name_hints"),
    "    distinct names": (DUPLICATES, "distinct_names"),
    "    blocking (build_blocks)": (DUPLICATES, "build_blocks"),
    "    scoring pairs (score_similar_pairs)": (DUPLICATES, "score_similar_pairs"),
    "      pair_score (rapidfuzz)": (DUPLICATES, "pair_score"),
    "    names -> rows (ranked_candidates)": (DUPLICATES, "ranked_candidates"),
    "    names -> rows (best_hints)": (DUPLICATES, "best_hints"),
    "  keep_strongest (consumes the generators above; in a thread)": (VALIDATE, "keep_strongest"),
    "ROW PASS (validate_rows)": (VALIDATE, "validate_rows"),
    "  [thread] read and decide the next batch (decided_batches)": (VALIDATE, "decided_batches"),
    "  read batches (student_batches)": ("legacy_import/phases.py", "student_batches"),
    "  hint summaries of the batch (hint_summaries)": (VALIDATE, "hint_summaries"),
    "  row_facts": (VALIDATE, "row_facts"),
    "    classify (references.classify)": ("legacy_import/references.py", "classify"),
    "  validation rule (rules.validation.validate)": ("legacy_import/rules/validation.py", "validate"),
    "  checkpoint + commit (finish_batch)": ("legacy_import/phases.py", "finish_batch"),
}
# Session.execute as called from one function: the writes of a step.
EXECUTE = (("sqlalchemy/orm/scoping.py", "execute"), ("sqlalchemy/orm/session.py", "execute"))
WRITES = {
    "  [hint step] execute: delete + insert hints (executemany)": (VALIDATE, "hint_duplicates"),
    "  [row pass] execute: UPDATE students/trainings (executemany)": (VALIDATE, "validate_rows"),
}
LIBRARY_SELF_TIME = {
    "rapidfuzz": "/rapidfuzz/",
    "psycopg": "/psycopg/",
    "sqlalchemy": "/sqlalchemy/",
    "json": "/json/",
}


def called_from(stats: pstats.Stats, callee: tuple[str, str], caller: tuple[str, str]) -> float:
    """Cumulative time of `callee` in its calls made directly by `caller`."""
    table: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    total = 0.0
    for (path, _, name), (*_, callers) in table.items():
        if name != callee[1] or not path.endswith(callee[0]):
            continue
        for (caller_path, _, caller_name), timing in callers.items():
            if caller_name == caller[1] and caller_path.endswith(caller[0]):
                total += timing[3]
    return total


def breakdown(stats: pstats.Stats) -> dict[str, float]:
    parts = {label: cumulative(stats, *point) for label, point in POINTS.items()}
    for label, caller in WRITES.items():
        parts[label] = sum(called_from(stats, callee, caller) for callee in EXECUTE)
    for label, fragment in LIBRARY_SELF_TIME.items():
        parts[f"[self time] {label}"] = self_time(stats, fragment)
    return parts


def timed(work: Callable[[], Any]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def profile_validate(app_url: str, legacy_url: str, batch_size: int, run_id: int) -> dict[str, Any]:
    from app import create_app
    from app.extensions import db
    from app.legacy_import import validate
    from app.legacy_import.pipeline import run_named_phase
    from app.legacy_import.runs import get_run

    overrides = {
        "SQLALCHEMY_DATABASE_URI": app_url,
        "LEGACY_CONNECTIONS": {"legacy": legacy_url},
        "LEGACY_BATCH_SIZE": str(batch_size),
        "CELERY_BROKER_URL": None,
    }
    app = create_app(overrides)
    with app.app_context():
        session = db.session()
        run = get_run(session, run_id)
        students = run.stagiaires_staged + run.archives_staged
        plain = timed(lambda: run_named_phase(session, app.config, run_id, "validate"))
        steps = step_seconds(get_run(session, run_id).step_log)
        profiler, thread_profilers = cProfile.Profile(), list[cProfile.Profile]()
        with profiled_prefetch_thread(validate, thread_profilers):
            profiled = timed(
                lambda: profiler.runcall(run_named_phase, session, app.config, run_id, "validate")
            )
        db.engine.dispose()
    RESULTS_DIR.mkdir(exist_ok=True)
    stats = pstats.Stats(profiler, *thread_profilers)
    stats.dump_stats(PROFILE_FILE)
    return {
        "run_id": run_id,
        "students": students,
        "validate_seconds_unprofiled": plain,
        "validate_seconds_profiled": profiled,
        "unprofiled_steps": {
            name: steps[name] for name in ("session_types", "duplicate_hints", "validation")
        },
        "breakdown_seconds": breakdown(stats),
        "top_self_time": top_self_time(stats, 20),
        "stats_file": relative(PROFILE_FILE),
    }


def format_profile(profile: dict[str, Any]) -> str:
    plain = profile["validate_seconds_unprofiled"]
    header = (
        f"Profile: in-process validate (again) of run {profile['run_id']}, {profile['students']:,} staged "
        f"rows: {plain:.2f} s unprofiled, {profile['validate_seconds_profiled']:.2f} s under cProfile"
    )
    breakdown = profile["breakdown_seconds"]
    return profile_report(
        header,
        ("unprofiled steps (step_log)", profile["unprofiled_steps"], plain),
        (
            "cProfile breakdown (cumulative, both threads: they overlap; share of the profiled validate)",
            breakdown,
            breakdown["validate phase (run_phase)"],
        ),
        profile,
    )
