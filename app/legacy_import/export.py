"""Export of a run's staged students, one line each, masked unless PII is asked for."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.legacy_import.masking import mask_email, mask_name, mask_phone, mask_value
from app.legacy_import.models import STUDENTS, TRAININGS
from app.legacy_import.runs import get_run

FORMATS = ("csv", "jsonl")

STUDENT_COLUMNS = (
    "id",
    "import_run_id",
    "source_table",
    "legacy_id",
    "legacy_stagiaire_id",
    "first_name",
    "last_name",
    "phone_raw",
    "phone_normalized",
    "phone_alternates",
    "phone_status",
    "email_raw",
    "email_normalized",
    "email_status",
    "birth_date",
    "birth_date_raw",
    "status_raw",
    "status_text",
    "legacy_formation_id",
    "legacy_session_id",
    "classification",
    "classification_rule",
    "validation_state",
    "validation_reasons",
    "duplicate_confidence",
    "import_action",
    "normalization_issues",
    "text_repairs",
    "raw_payload",
)
COLUMNS = (*STUDENT_COLUMNS, "session_type")

MASKS: dict[str, Callable[[Any], Any]] = {
    "first_name": mask_name,
    "last_name": mask_name,
    "phone_raw": mask_value,
    "phone_normalized": mask_phone,
    "phone_alternates": lambda numbers: [mask_phone(n) for n in numbers] if numbers else numbers,
    "email_raw": mask_value,
    "email_normalized": mask_email,
    "birth_date": mask_value,
    "birth_date_raw": mask_value,
    "raw_payload": mask_value,
}


def export_run(
    session: Session,
    run_id: int,
    output: Path,
    fmt: str = "csv",
    include_pii: bool = False,
    batch_size: int = 5000,
) -> int:
    """Write the run's staged students to `output`; returns the number of lines written."""
    get_run(session, run_id)
    with output.open("w", encoding="utf-8", newline="") as handle:
        write = _csv_writer(handle) if fmt == "csv" else _jsonl_writer(handle)
        count = 0
        for row in staged_rows(session, run_id, batch_size):
            write(row if include_pii else mask_row(row))
            count += 1
    return count


def staged_rows(session: Session, run_id: int, batch_size: int) -> Iterator[dict[str, Any]]:
    columns = [STUDENTS.c[name] for name in STUDENT_COLUMNS] + [TRAININGS.c.session_type]
    after_id = 0
    while True:
        query = (
            select(*columns)
            .outerjoin(TRAININGS, TRAININGS.c.student_import_id == STUDENTS.c.id)
            .where(STUDENTS.c.import_run_id == run_id, STUDENTS.c.id > after_id)
            .order_by(STUDENTS.c.id)
            .limit(batch_size)
        )
        rows = [row._asdict() for row in session.execute(query)]
        yield from rows
        if len(rows) < batch_size:
            return
        after_id = rows[-1]["id"]


def mask_row(row: dict[str, Any]) -> dict[str, Any]:
    return {name: MASKS[name](value) if name in MASKS else value for name, value in row.items()}


def _csv_writer(handle: IO[str]) -> Callable[[dict[str, Any]], None]:
    writer = csv.DictWriter(handle, fieldnames=COLUMNS)
    writer.writeheader()

    def write(row: dict[str, Any]) -> None:
        writer.writerow(csv_cells(row))

    return write


# A cell starting with one of these is a formula to a spreadsheet (CSV injection, OWASP).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def csv_cells(row: dict[str, Any], formula_safe: bool = False) -> dict[str, Any]:
    """Cells of a CSV line: lists and dicts as JSON. `formula_safe` (files meant for people and
    their spreadsheets) prefixes a quote to a text cell that a spreadsheet would run."""
    cells = {name: _csv_cell(value) for name, value in row.items()}
    if formula_safe:
        cells = {name: _formula_safe(value) for name, value in cells.items()}
    return cells


def _csv_cell(value: Any) -> Any:
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return value


def _formula_safe(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def _jsonl_writer(handle: IO[str]) -> Callable[[dict[str, Any]], None]:
    def write(row: dict[str, Any]) -> None:
        handle.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")

    return write
