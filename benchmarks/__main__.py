"""The benchmarks of the legacy import, MariaDB (PyMySQL) -> PostgreSQL (psycopg 3).

    python -m benchmarks                              # every mode at 10,000 and 100,000 rows (make bench)
    python -m benchmarks --sizes 10000                # every mode at 10,000 rows (make bench-quick)
    python -m benchmarks --mode pipeline --profile-validate --repeat 2

Modes (see each module's docstring):
  ingest    the import against a bare copy of the same rows (benchmarks/ingest.py);
  pipeline  import + validate + classify + dry-run against the bare copy, with existing users and
            CRM leads, and the scaling of the hint step (benchmarks/pipeline.py);
  celery    the chunked import with 1 and 2 real worker processes against in process
            (benchmarks/celery_mode.py), at the largest size unless --celery-sizes says otherwise;
  all       the three. The pipeline mode measures the import and the bare copy too, so with both
            modes the ingest table is built from the pipeline's measurements (same run).

Tables with PASS/MISS against each goal are printed; figures go to bench-results/*.json. No
name, phone or e-mail is ever printed or written. Exit 0 even when a goal is missed, unless
--strict.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from app.legacy_import.settings import IngestSettings
from benchmarks import celery_mode, ingest, pipeline, validate_profile
from benchmarks.support import relative

MODES = ("ingest", "pipeline", "celery", "all")
DEFAULT_SIZES = "10000,100000"


def parse_sizes(text: str) -> list[int]:
    return sorted({int(part.replace("_", "")) for part in text.split(",") if part.strip()})


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--mode", choices=MODES, default="all", help="default: %(default)s")
    parser.add_argument(
        "--sizes",
        type=parse_sizes,
        default=parse_sizes(DEFAULT_SIZES),
        help="comma-separated student-row counts (default: %(default)s)",
    )
    parser.add_argument("--repeat", type=int, default=1, help="time everything N times, keep the fastest")
    parser.add_argument(
        "--batch-size",
        type=int,
        default=IngestSettings.batch_size,
        help="rows per batch, for every command (default: %(default)s)",
    )
    parser.add_argument(
        "--existing",
        type=int,
        default=0,
        help="pipeline: existing users + leads (default 0: as many as legacy rows)",
    )
    parser.add_argument(
        "--profile-rows",
        type=int,
        default=0,
        help="ingest: also profile an in-process import of this many rows (0: no profile)",
    )
    parser.add_argument(
        "--profile-validate",
        action="store_true",
        help="pipeline: also profile an in-process validate at the largest size",
    )
    parser.add_argument(
        "--celery-sizes",
        type=parse_sizes,
        default=None,
        help="celery: sizes to run (default: the largest of --sizes)",
    )
    parser.add_argument(
        "--chunk-size",
        type=int,
        default=5000,
        help="celery: LEGACY_CHUNK_SIZE for the workers and the in-process import (default: %(default)s)",
    )
    parser.add_argument(
        "--redis-db",
        type=int,
        default=13,
        help="celery: the Redis database used as broker, flushed (default: %(default)s)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the databases (their URLs go to stderr)")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a goal is missed")
    return parser.parse_args(argv)


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def print_ingest(
    results: Sequence[ingest.SizeResult], batch_size: int, profile: dict[str, Any] | None = None
) -> bool:
    verdicts = ingest.judge(results)
    print(f"\n== ingest: import vs bare copy (both through insert_rows/COPY), batch size {batch_size}")
    print(ingest.format_table(results, verdicts))
    print(ingest.format_verdicts(verdicts, results))
    if profile is not None:
        print()
        print(ingest.format_profile(profile))
    ingest.write_results(ingest.results_document(results, verdicts, profile))
    print(f"figures: {relative(ingest.RESULTS_FILE)}")
    return verdicts.passed


def run_ingest(args: argparse.Namespace) -> bool:
    results = []
    for rows in args.sizes:
        progress(f"ingest {rows:,} rows: generating, migrating, importing, copying...")
        results.append(ingest.bench_size(rows, args.batch_size, max(1, args.repeat), args.keep))
    profile = None
    if args.profile_rows:
        progress(f"profiling an import of {args.profile_rows:,} rows...")
        profile = ingest.profile_import(args.profile_rows, args.batch_size, args.keep)
    return print_ingest(results, args.batch_size, profile)


def run_pipeline(args: argparse.Namespace, with_ingest: bool) -> bool:
    results, profile = [], None
    for rows in args.sizes:
        progress(
            f"pipeline {rows:,} rows: generating, existing people, import, validate, classify, dry-run..."
        )
        options = pipeline.SizeOptions(
            args.batch_size,
            args.repeat,
            args.keep,
            args.existing,
            args.profile_validate and rows == args.sizes[-1],
        )
        result, size_profile = pipeline.bench_pipeline_size(rows, options)
        results.append(result)
        profile = size_profile or profile
    ok = print_ingest([r.ingest for r in results], args.batch_size) if with_ingest else True
    print(f"\n== pipeline: import + validate + classify + dry-run vs bare copy, batch size {args.batch_size}")
    print(pipeline.format_report(results))
    if profile is not None:
        print()
        print(validate_profile.format_profile(profile))
    pipeline.write_results(results, profile)
    print(f"figures: {relative(pipeline.RESULTS_FILE)}")
    return ok and pipeline.passed(results)


def run_celery(args: argparse.Namespace) -> bool:
    options = celery_mode.CeleryOptions(
        args.batch_size, args.chunk_size, args.repeat, args.keep, args.redis_db
    )
    results = []
    for rows in args.celery_sizes or args.sizes[-1:]:
        progress(f"celery {rows:,} rows: in process, then 1 and 2 worker processes...")
        results.append(celery_mode.bench_celery_size(rows, options))
    print(f"\n== celery: chunked import, chunk size {args.chunk_size}, batch size {args.batch_size}")
    print(celery_mode.format_report(results))
    celery_mode.write_results(results)
    print(f"figures: {relative(celery_mode.RESULTS_FILE)}")
    return celery_mode.passed(results)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    mode = args.mode
    passed = True
    if mode in ("pipeline", "all"):
        passed &= run_pipeline(args, with_ingest=mode == "all")
    elif mode == "ingest":
        passed &= run_ingest(args)
    if mode in ("celery", "all"):
        passed &= run_celery(args)
    return 1 if args.strict and not passed else 0


if __name__ == "__main__":
    sys.exit(main())
