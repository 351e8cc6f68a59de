"""Micro-benchmark of the per-row normalization of staged legacy rows (CPU only, one core).

    python -m benchmarks.normalize_bench                  # 50,000 rows, best of 5
    python -m benchmarks.normalize_bench --rows 20000 --repeat 3

The rows come from the demo generator (`app.legacy_import.demo`): a throw-away SQLite legacy
database read back through `DatabaseLegacySourceReader` in the import's batches, so every value
is what the import sees. Times `staging.student_values` per row, batch by batch as the import
calls it, then each normalizer over the same fields (CPU time of this process, the fastest
pass kept), and prints a digest of all staged values: equal digests, equal results. Each pass
starts with empty normalization caches, as a new import process does.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from app.legacy_import import normalize, staging
from app.legacy_import.demo import generate_legacy_database
from app.legacy_import.settings import IngestSettings
from app.legacy_import.source import BEFORE_FIRST_ID, DatabaseLegacySourceReader, LegacyRecord

STUDENT_TABLES = ("stagiaires", "archives")
RUN_ID = 1

Batch = tuple[str, list[LegacyRecord]]  # a legacy table and one batch of its records


def legacy_batches(rows: int) -> list[Batch]:
    """Every student row of a fresh demo legacy database, in the import's batches."""
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite:///{Path(directory) / 'legacy.sqlite'}"
        generate_legacy_database(url, rows)
        reader = DatabaseLegacySourceReader(url)
        try:
            return [
                (table, batch)
                for table in STUDENT_TABLES
                for batch in reader.read_batches(
                    table, after_id=BEFORE_FIRST_ID, batch_size=IngestSettings.batch_size
                )
            ]
        finally:
            reader.close()


def stage(table: str, batch: list[LegacyRecord]) -> list[dict[str, object]]:
    """What the import does with one batch before writing it (`StudentStager.values`)."""
    today = datetime.date.today()
    return [staging.student_values(record, table, RUN_ID, today) for record in batch]


def timed_work(batches: Sequence[Batch]) -> dict[str, Callable[[], object]]:
    """What to time, by name; each one covers every row once."""
    values = [record.values for _, batch in batches for record in batch]
    names = [
        (normalize.clean_name(v.get("first_name"))[0], normalize.clean_name(v.get("last_name"))[0])
        for v in values
    ]
    texts = [v.get(field) for v in values for field in ("first_name", "last_name", "status")]
    phones = [v.get("phone") for v in values]
    emails = [v.get("email") for v in values]
    births = [v.get("birth_date") for v in values]
    return {
        "student_values": lambda: [len(stage(table, batch)) for table, batch in batches],
        "normalize_phone": lambda: [normalize.normalize_phone(phone).status for phone in phones],
        "normalize_email": lambda: [normalize.normalize_email(email).status for email in emails],
        "clean_name x3": lambda: [normalize.clean_name(text)[1] for text in texts],
        "parse_birth_date": lambda: [normalize.parse_birth_date(birth).issue for birth in births],
        "name_key": lambda: [normalize.name_key(first, last) for first, last in names],
    }


def clear_normalization_caches() -> None:
    for function in vars(normalize).values():
        if callable(getattr(function, "cache_clear", None)):
            function.cache_clear()


def fastest_seconds(work: Callable[[], object], repeat: int) -> float:
    timings = []
    for _ in range(repeat):
        clear_normalization_caches()
        started = time.process_time()
        work()
        timings.append(time.process_time() - started)
    return min(timings)


def staged_digest(batches: Sequence[Batch]) -> str:
    digest = hashlib.sha256()
    for table, batch in batches:
        digest.update(repr(stage(table, batch)).encode())
    return digest.hexdigest()[:16]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.normalize_bench", description=__doc__)
    parser.add_argument("--rows", type=int, default=50_000, help="student rows (default: %(default)s)")
    parser.add_argument("--repeat", type=int, default=5, help="passes (default: %(default)s)")
    arguments = parser.parse_args(argv)
    batches = legacy_batches(arguments.rows)
    rows = sum(len(batch) for _, batch in batches)
    print(f"{rows} student rows, CPU time, fastest of {arguments.repeat} passes")
    print(f"{'':<18}{'us/row':>8}")
    for name, work in timed_work(batches).items():
        print(f"{name:<18}{fastest_seconds(work, arguments.repeat) / rows * 1e6:>8.2f}")
    print(f"staged values digest: {staged_digest(batches)}")


if __name__ == "__main__":
    main()
